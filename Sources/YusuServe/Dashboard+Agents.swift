// An agent's page and its trend chart.
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

extension Dashboard {

    /// A week-by-week line with its axes (Templates/spark.mustache): the scale's ends on the
    /// left (0 and 100, or 0% and 100%), each week's start under its point (every other one
    /// past 8 weeks), and each value written above its point, so nothing needs a hover.
    struct Spark: Encodable {
        struct Point: Encodable { let x, y, valueY, period, text: String }
        struct Mark: Encodable {
            let x, weekY: String
            /// The week's start ("11-02"), under every point or every other one.
            let week: String?
            let point: Point?
        }
        let width, height, left, right, top, bottom, labelX, topLabelY, bottomLabelY, topLabel, bottomLabel: String
        let polyline: String?
        let marks: [Mark]

        /// `values` are 0...1; `text` writes one.
        init(_ values: [Double?], labels: [String], text: (Double) -> String, axis: (String, String)) {
            let (w, h, left, right, top, bottom) = (420.0, 96.0, 34.0, 14.0, 14.0, 18.0)
            let n = values.count
            func x(_ i: Int) -> Double {
                n <= 1 ? (left + w - right) / 2 : left + (w - left - right) * Double(i) / Double(n - 1)
            }
            func y(_ v: Double) -> Double { h - bottom - (h - top - bottom) * v }
            let every = n > 8 ? 2 : 1
            var points: [String] = []
            marks = values.enumerated().map { i, v in
                // "2026-11-02" is shown "11-02".
                let day = labels[i].count == 10 ? String(labels[i].suffix(5)) : labels[i]
                let point = v.map {
                    Point(
                        x: HTML.n(x(i)), y: HTML.n(y($0)), valueY: HTML.n(y($0) - 5), period: labels[i], text: text($0))
                }
                if let v { points.append("\(HTML.n(x(i))),\(HTML.n(y(v)))") }
                return Mark(
                    x: HTML.n(x(i)), weekY: HTML.n(h - 4), week: i % every == 0 || i == n - 1 ? day : nil, point: point)
            }
            polyline = points.count > 1 ? points.joined(separator: " ") : nil
            (width, height) = (String(Int(w)), String(Int(h)))
            (self.left, self.right) = (HTML.n(left), HTML.n(w - right + 6))
            (self.top, self.bottom) = (HTML.n(y(1)), HTML.n(y(0)))
            (labelX, topLabelY, bottomLabelY) = (HTML.n(left - 4), HTML.n(y(1) + 4), HTML.n(y(0) + 4))
            (topLabel, bottomLabel) = (axis.1, axis.0)
        }
    }

    /// The fields of Templates/agent.mustache.
    struct AgentPage: Encodable {
        struct Trend: Encodable {
            let id: String
            /// nil for the mean score's row.
            let rule: RuleLabel?
            let chart: Spark
            let latest: String
        }
        struct Call: Encodable { let date, id, callId, score: String, badges: [Badge] }
        let agent, weeks, calls: String
        let trends: [Trend]
        let worst: [Call]
        let allCalls: String
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
                worst: try ServeQueries.calls(store, filter, evidence: true), known: known)
        }
        guard data.known else { throw APIError(status: .notFound, message: "no calls of agent '\(agent)'") }
        let labels = data.points.map(\.period)
        let scores = data.points.map { $0.meanScore.map { $0 / 100 } }
        var trends = [
            AgentPage.Trend(
                id: "score", rule: nil,
                chart: Spark(scores, labels: labels, text: { fixed($0 * 100, 1) }, axis: ("0", "100")),
                latest: num(data.points.last?.meanScore))
        ]
        for rule in RuleBook.ids {
            let values = data.points.map { $0.passRate(rule) }
            guard values.contains(where: { $0 != nil }) else { continue }
            trends.append(
                AgentPage.Trend(
                    id: rule, rule: RuleLabel(rule),
                    chart: Spark(values, labels: labels, text: { pct($0) }, axis: ("0%", "100%")),
                    latest: pct(values.last ?? nil)))
        }
        let page = AgentPage(
            agent: agent, weeks: String(data.points.count), calls: String(data.points.map(\.calls).reduce(0, +)),
            trends: trends,
            worst: data.worst.calls.map {
                AgentPage.Call(
                    date: $0.date, id: String($0.id), callId: $0.callId, score: num($0.score), badges: Badge.of($0))
            }, allCalls: queryString([("agent", agent)]))
        return Dashboard.page("Yusu · \(agent)", templates.render("agent", page))
    }
}
