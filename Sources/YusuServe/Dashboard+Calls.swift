// The call list (filters, sorting, pages) and one call's page.
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

extension Dashboard {

    static func callList(_ request: Request, _ state: ServeState) async throws -> Response {
        let filter = try ServeQueries.CallFilter(query: API.query(request))
        let result = try await state.database.run { try ServeQueries.calls($0, filter) }
        var body = "<h1>通话 Calls</h1><form class=\"filters\" method=\"get\" action=\"/calls\">"
        body += "<label>坐席 Agent<input name=\"agent\" value=\"\(e(filter.agent ?? ""))\"></label>"
        body += "<label>从 From<input name=\"from\" type=\"date\" value=\"\(e(filter.from ?? ""))\"></label>"
        body += "<label>到 To<input name=\"to\" type=\"date\" value=\"\(e(filter.to ?? ""))\"></label>"
        body += "<label>未通过 Rule failed<select name=\"rule_failed\"><option value=\"\">—</option>"
        for r in RuleBook.all {
            body +=
                """
                <option value=\"\(e(r.id))\"\(filter.ruleFailed == r.id ? " selected" : "")>\(e(r.chineseName)) \
                \(e(r.englishName))</option>
                """
        }
        body +=
            """
            </select></label><label>最低分 Min score<input name=\"min_score\" inputmode=\"decimal\" \
            value=\"\(filter.minScore.map { String($0) } ?? "")\"></label>
            """
        body +=
            """
            <label>最高分 Max score<input name=\"max_score\" inputmode=\"decimal\" \
            value=\"\(filter.maxScore.map { String($0) } ?? "")\"></label>
            """
        body +=
            """
            <label>排序 Sort<select name=\"sort\"><option value=\"date\"\(filter.sortByScore ? "" : " selected")>\
            日期 Newest first</option><option value=\"score\"\(filter.sortByScore ? " selected" : "")>分数 Lowest \
            score first</option></select></label>
            """
        body += "<button type=\"submit\">筛选 Filter</button></form>"
        body += "<p class=\"meta\" id=\"total\">\(result.total) calls</p>"
        body +=
            """
            <table id=\"calls\" class=\"tight\"><tr><th>日期 Date</th><th>坐席 Agent</th><th>通话 Call</th><th \
            class=\"pct\">得分 Score</th><th class=\"pct\">语速 字/分钟</th><th>未通过 Failed rules</th></tr>
            """
        for c in result.calls {
            let callCell =
                c.status == "scored"
                ? "<a href=\"/calls/\(c.id)\">\(e(c.callId))</a>"
                : "\(e(c.callId)) <span class=\"fail\">未评分 not scored</span>: \(e(c.failureReason ?? ""))"
            body +=
                """
                <tr data-call-row=\"\(c.id)\"><td class=\"t\">\(e(c.date))</td><td><a \
                href=\"/agents/\(e(segment(c.agentId)))\">\(e(c.agentId))</a></td><td>\(callCell)</td>
                """
            body +=
                """
                <td class=\"pct\">\(num(c.score))</td><td \
                class=\"pct\">\(num(c.speechRateCpm, 0))</td><td>\(badges(c))</td></tr>
                """
        }
        body += "</table>"
        let pages = max(1, (result.total + filter.perPage - 1) / filter.perPage)
        body += "<div class=\"pager\">"
        if filter.page > 1 {
            body +=
                """
                <a href=\"/calls\(e(queryString(filter.queryItems + [("page", String(filter.page - 1))])))\">← 上一页 \
                Previous</a>
                """
        }
        body += "<span>\(filter.page) / \(pages)</span>"
        if filter.page < pages {
            body +=
                """
                <a href=\"/calls\(e(queryString(filter.queryItems + [("page", String(filter.page + 1))])))\">下一页 \
                Next →</a>
                """
        }
        body += "</div>"
        return page("Yusu · 通话 Calls", body)
    }

    /// The call's report page, as `yusu score --format html` draws it (re-analysed from its
    /// recording: the database keeps measures, not contours), its player streaming from
    /// the server.
    static func callPage(_ id: Int64, _ state: ServeState) async throws -> Response {
        guard
            let found = try await state.database.run({ store -> (String, Int, String, Standard)? in
                guard let f = try ServeQueries.recordingPath(store, id: id) else { return nil }
                return (f.path, f.agentChannel, f.title, try ServeQueries.standard(store, key: f.standardKey))
            })
        else { throw APIError(status: .notFound, message: "no scored call \(id)") }
        if found.0.hasPrefix("live:") {
            throw APIError(
                status: .gone,
                message:
                    """
                    call \(id) was coached live on a server that keeps no recordings (yusu serve --recordings DIR \
                    keeps them): its measures and verdicts are at /v1/calls/\(id)
                    """)
        }
        let limits = state.configuration.limits
        let html: String? = try await state.scoring {
            let scorer = CallScorer(standard: found.3, limits: limits)
            guard
                let scored = try? scorer.score(
                    path: found.0, options: CallOptions(agentChannel: found.1, keepContour: true))
            else {
                return nil
            }
            return HTMLCallReport.render(
                scored.analysis, scored.card, title: found.2, audio: .link("/v1/calls/\(id)/recording"),
                frame: (nav, style))
        }
        guard let html else {
            throw APIError(
                status: .gone, message: "the recording of call \(id) can no longer be read where it was scored")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("Referrer-Policy")!: "no-referrer",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
