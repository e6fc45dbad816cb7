// An agent's page and its trend chart.
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

extension Dashboard {

    /// A week-by-week line with its axes: the scale's ends on the left (0 and 100, or 0% and
    /// 100%), each week's start under its point (every other one past 8 weeks), and each value
    /// written above its point, so nothing needs a hover. `values` are 0...1; `text` writes one.
    static func trendChart(_ values: [Double?], labels: [String], text: (Double) -> String, axis: (String, String))
        -> String
    {
        let (w, h, left, right, top, bottom) = (420.0, 96.0, 34.0, 14.0, 14.0, 18.0)
        let n = values.count
        func x(_ i: Int) -> Double {
            n <= 1 ? (left + w - right) / 2 : left + (w - left - right) * Double(i) / Double(n - 1)
        }
        func y(_ v: Double) -> Double { h - bottom - (h - top - bottom) * v }
        var points: [String] = []
        var marks = ""
        let every = n > 8 ? 2 : 1
        for (i, v) in values.enumerated() {
            if i % every == 0 || i == n - 1 {
                // "2026-11-02" is shown "11-02".
                let day = labels[i].count == 10 ? String(labels[i].suffix(5)) : labels[i]
                marks += "<text class=\"week\" x=\"\(HTML.n(x(i)))\" y=\"\(HTML.n(h - 4))\" "
                marks += "text-anchor=\"middle\">\(e(day))</text>"
            }
            guard let v else { continue }
            points.append("\(HTML.n(x(i))),\(HTML.n(y(v)))")
            marks +=
                """
                <circle cx=\"\(HTML.n(x(i)))\" cy=\"\(HTML.n(y(v)))\" r=\"3\"><title>\(e(labels[i])): \
                \(e(text(v)))</title></circle><text class=\"value\" x=\"\(HTML.n(x(i)))\" \
                y=\"\(HTML.n(y(v) - 5))\" text-anchor=\"middle\">\(e(text(v)))</text>
                """
        }
        let axes =
            """
            <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(1)))\" x2=\"\(HTML.n(w - right + 6))\" \
            y2=\"\(HTML.n(y(1)))\"/>\
            <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(0)))\" x2=\"\(HTML.n(w - right + 6))\" \
            y2=\"\(HTML.n(y(0)))\"/>\
            <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(1)))\" x2=\"\(HTML.n(left))\" y2=\"\(HTML.n(y(0)))\"/>\
            <text class=\"axis\" x=\"\(HTML.n(left - 4))\" y=\"\(HTML.n(y(1) + 4))\" \
            text-anchor=\"end\">\(e(axis.1))</text><text class=\"axis\" x=\"\(HTML.n(left - 4))\" \
            y=\"\(HTML.n(y(0) + 4))\" text-anchor=\"end\">\(e(axis.0))</text>
            """
        return "<svg class=\"spark\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\">" + axes
            + (points.count > 1 ? "<polyline points=\"\(points.joined(separator: " "))\"/>" : "") + marks + "</svg>"
    }

    static func agentPage(_ agent: String, _ state: ServeState) async throws -> Response {
        struct Data: Sendable {
            var points: [ServeQueries.TrendPoint]
            var worst: ServeQueries.CallPage
            var known: Bool
        }
        let data: Data = try await state.database.run { store in
            let last = try ServeQueries.lastDay(store)
            let since = last.map { ServeQueries.day($0, minus: 7 * 26) }
            var filter = ServeQueries.CallFilter()
            filter.agent = agent
            filter.status = "scored"
            filter.perPage = 10
            filter.sortByScore = true
            let known = try ServeQueries.agentKnown(store, agent)
            return Data(
                points: try ServeQueries.trend(store, agent: agent, weekly: true, since: since),
                worst: try ServeQueries.calls(store, filter), known: known)
        }
        guard data.known else { throw APIError(status: .notFound, message: "no calls of agent '\(agent)'") }
        var body = "<h1>坐席 Agent <span id=\"agent\">\(e(agent))</span></h1>"
        let labels = data.points.map(\.period)
        body +=
            """
            <p class=\"meta\">每周 Per week (starting Monday), last \(data.points.count) weeks with calls: \
            \(data.points.map(\.calls).reduce(0, +)) calls.</p>
            """
        body +=
            """
            <h2>每周趋势 Weekly trend per rule</h2><table id=\"trends\" class=\"tight\"><tr><th>规则 Rule</th><th>通过率 \
            Pass rate, week by week</th><th class=\"pct\">最近一周 Latest week</th></tr>
            """
        let scores = data.points.map { $0.meanScore.map { $0 / 100 } }
        body +=
            """
            <tr data-rule=\"score\"><td>平均分 Mean score</td><td>\(trendChart(
                scores, labels: labels, text: { fixed($0 * 100, 1) }, axis: ("0", "100")))</td><td \
            class=\"pct\">\(num(data.points.last?.meanScore))</td></tr>
            """
        for rule in RuleBook.ids {
            let values = data.points.map { $0.passRate(rule) }
            guard values.contains(where: { $0 != nil }) else { continue }
            body +=
                """
                <tr \
                data-rule=\"\(e(rule))\"><td>\(ruleName(rule))</td><td>\(trendChart(
                    values, labels: labels, text: { pct($0) }, axis: ("0%", "100%")))</td><td \
                class=\"pct\">\(pct(values.last ?? nil))</td></tr>
                """
        }
        body +=
            """
            </table><h2>最差的通话 Worst calls</h2><table id=\"worst\" class=\"tight\"><tr><th>日期 Date</th><th>通话 \
            Call</th><th class=\"pct\">得分 Score</th><th>未通过 Failed rules</th></tr>
            """
        for c in data.worst.calls {
            body +=
                """
                <tr><td class=\"t\">\(e(c.date))</td><td><a href=\"/calls/\(c.id)\">\(e(c.callId))</a></td><td \
                class=\"pct\">\(num(c.score))</td><td>\(badges(c))</td></tr>
                """
        }
        body +=
            "</table><p><a href=\"/calls\(e(queryString([("agent", agent)])))\">所有通话 All calls of this agent →</a></p>"
        return page("Yusu · \(agent)", body)
    }
}
