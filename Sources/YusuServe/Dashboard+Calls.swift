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
        // A hand-edited address with a misspelt filter (`agnet=`) would list every call as if
        // filtered: the page says which names it ignored (the API refuses them; a page still
        // opens, since bookmarks carry parameters of their own).
        let ignored = API.unknownNames(
            request.uri.queryParameters.map(\.key), taken: API.queryParameters["GET /v1/calls"] ?? []
        ).map { String($0.prefix(40)) }
        let result = try await state.database.run { try ServeQueries.calls($0, filter, evidence: true) }
        let pages = max(1, (result.total + filter.perPage - 1) / filter.perPage)
        let list = CallList(
            agent: filter.agent ?? "", from: filter.from ?? "", to: filter.to ?? "",
            ruleOptions: RuleBook.all.map {
                CallList.RuleOption(
                    id: $0.id, selected: filter.ruleFailed == $0.id, zh: $0.chineseName, en: $0.englishName)
            }, minScore: filter.minScore.map { String($0) } ?? "", maxScore: filter.maxScore.map { String($0) } ?? "",
            byScore: filter.sortByScore, total: String(result.total),
            calls: result.calls.map {
                CallList.Row(
                    id: String($0.id), date: $0.date, agentSegment: segment($0.agentId), agentId: $0.agentId,
                    scored: $0.status == "scored", callId: $0.callId, failureReason: $0.failureReason ?? "",
                    score: num($0.score), rate: num($0.speechRateCpm, 0), badges: Badge.of($0))
            },
            previous: filter.page > 1 ? queryString(filter.queryItems + [("page", String(filter.page - 1))]) : nil,
            page: String(filter.page), pages: String(pages),
            next: filter.page < pages ? queryString(filter.queryItems + [("page", String(filter.page + 1))]) : nil,
            ignored: ignored.isEmpty ? nil : ignored.prefix(5).joined(separator: ", "))
        return page("Yusu · 通话 Calls", templates.render("calls", list))
    }

    /// The fields of Templates/calls.mustache: the filter form as it was sent, a page of calls,
    /// and the links to the pages before and after (query strings).
    struct CallList: Encodable {
        struct RuleOption: Encodable {
            let id: String
            let selected: Bool
            let zh, en: String
        }
        struct Row: Encodable {
            let id, date, agentSegment, agentId: String
            let scored: Bool
            let callId, failureReason, score, rate: String
            let badges: [Badge]
        }
        let agent, from, to: String
        let ruleOptions: [RuleOption]
        let minScore, maxScore: String
        let byScore: Bool
        let total: String
        let calls: [Row]
        let previous: String?
        let page, pages: String
        let next: String?
        /// Query names that are not filters here, as sent (at most five).
        let ignored: String?
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
