// The overview: agents ranked worst first, with the rules to coach each on, and the night's windows.
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

extension Dashboard {

    /// The overview is the same for every supervisor: its numbers and its page are worked out
    /// together and remembered for the aggregate cache's 10 s (rendering it took 9 ms).
    static func overview(_ state: ServeState) async throws -> Response {
        let body: String = try await state.database.run { store in
            try AggregateCache.shared.value("overview", store: store) { overviewBody(try overviewData(store)) }
        }
        return page("Yusu · 总览 Overview", body)
    }

    struct OverviewData: Sendable {
        var last: String?
        var windows: [(name: String, calls: Int, mean: Double?, rates: [String: Double])] = []
        var agents: [(id: String, last: (Int, Double?), week: (Int, Double?), month: (Int, Double?), failed: Int)] =
            []
        var failed: [FailedRow] = []
        /// Per agent, each rule's pass rate over 30 nights and the verdicts behind it.
        var agentRules: [String: [String: (passed: Int, judged: Int)]] = [:]
    }
    static func overviewData(_ store: any ResultsStore) throws -> OverviewData {
        var d = OverviewData()
        d.last = try ServeQueries.lastDay(store)
        guard let last = d.last else { return d }
        let key = try ServeQueries.standardKey(store)
        for (k, r) in try ServeQueries.passRates(
            store, windowsEndingOn: last, days: overviewWindows.map(\.daysBack)
        ).enumerated() {
            d.windows.append((overviewWindows[k].name, r.calls, r.meanScore, r.rates))
        }
        let (week, month) = (
            ServeQueries.day(last, minus: overviewWindows[1].daysBack),
            ServeQueries.day(last, minus: overviewWindows[2].daysBack)
        )
        var args: [SQLValue] = [.text(last), .text(last), .text(week), .text(week), .text(month)]
        var condition = "call_date >= ?"
        if let key {
            condition += " AND standard_key = ?"
            args.append(.text(key))
        }
        struct AgentRow: Decodable {
            let agent_id: String
            let n1, n7, n30, failed: Int
            let s1, s7, s30: Double?
        }
        let rows = try store.fetch(
            AgentRow.self,
            """
            SELECT agent_id,
              SUM(CASE WHEN status = 'scored' AND call_date >= ? THEN 1 ELSE 0 END) AS n1,
              CAST(AVG(CASE WHEN call_date >= ? THEN score END) AS {real}) AS s1,
              SUM(CASE WHEN status = 'scored' AND call_date >= ? THEN 1 ELSE 0 END) AS n7,
              CAST(AVG(CASE WHEN call_date >= ? THEN score END) AS {real}) AS s7,
              SUM(CASE WHEN status = 'scored' THEN 1 ELSE 0 END) AS n30, CAST(AVG(score) AS {real}) AS s30,
              SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed
            FROM calls WHERE \(condition) GROUP BY agent_id ORDER BY agent_id {bin}
            """, args)
        d.agents = rows.map { r in
            (
                r.agent_id, (r.n1, r.s1), (r.n7, r.s7), (r.n30, r.s30), r.failed
            )
        }
        for r in try ServeQueries.agentRuleCounts(store, from: month) {
            d.agentRules[r.agent, default: [:]][r.rule] = (r.passed, r.judged)
        }
        var failedArgs: [SQLValue] = [.text(month)]
        var failedCondition = "status = 'failed' AND call_date >= ?"
        if let key {
            failedCondition += " AND standard_key = ?"
            failedArgs.append(.text(key))
        }
        d.failed = try store.fetch(
            FailedRow.self,
            """
            SELECT call_date, agent_id, path, failure_reason FROM calls WHERE \
            \(failedCondition) ORDER BY call_date DESC, path {bin} LIMIT 200
            """,
            failedArgs)
        return d
    }

    static func overviewBody(_ data: OverviewData) -> String {
        guard let last = data.last else { return templates.render("overview", Overview()) }
        func calls(_ items: [(String, String)]) -> String { "/calls" + queryString(items) }
        /// The call list's filter of window `k` (the last night, 7 nights, 30 nights).
        func since(_ k: Int) -> [(String, String)] {
            [("from", ServeQueries.day(last, minus: overviewWindows[k].daysBack)), ("to", last)]
        }
        // Agents, worst first (the 7 nights' mean score; no calls last), each with what to coach.
        let ranked = data.agents.sorted {
            switch ($0.week.1, $1.week.1) {
            case (let a?, let b?): return a != b ? a < b : $0.id < $1.id
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return $0.id < $1.id
            }
        }
        let overview = Overview(
            lastNight: last,
            columns: data.windows.map { Overview.Column(name: $0.name, calls: String($0.calls)) },
            meanScores: data.windows.enumerated().map { k, w in
                Overview.Cell(cls: scoreClass(w.mean), href: calls(since(k) + [("sort", "score")]), text: num(w.mean))
            },
            rules: RuleBook.ids.map { rule in
                Overview.RuleRow(
                    id: rule, rule: RuleLabel(rule),
                    cells: data.windows.enumerated().map { k, w in
                        Overview.Cell(
                            cls: rateClass(w.rates[rule]), href: calls(since(k) + [("rule_failed", rule)]),
                            text: pct(w.rates[rule]))
                    })
            },
            agents: ranked.enumerated().map { rank, a in
                let agent = [("agent", a.id)]
                let weakest = (data.agentRules[a.id] ?? [:])
                    .compactMap { rule, c -> (String, Double, Int)? in
                        c.judged > 0 && c.passed < c.judged
                            ? (rule, Double(c.passed) / Double(c.judged), c.judged) : nil
                    }
                    .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
                    .prefix(3)
                return Overview.AgentRow(
                    rank: String(rank + 1), segment: segment(a.id), agent: a.id,
                    cells: [a.last, a.week, a.month].enumerated().map { k, window in
                        Overview.Cell(
                            cls: scoreClass(window.1), href: calls(agent + since(k)),
                            text: "\(window.0) · \(num(window.1))")
                    },
                    coachOn: weakest.enumerated().map { i, weak in
                        Overview.Coach(
                            first: i == 0, cls: rateClass(weak.1), judged: String(weak.2),
                            href: calls(agent + since(2) + [("rule_failed", weak.0)]), rule: RuleLabel(weak.0),
                            rate: pct(weak.1))
                    }, failedFiles: String(a.failed))
            },
            anyFailed: !data.failed.isEmpty,
            failed: data.failed.map {
                Overview.FailedFile(
                    date: $0.call_date, agent: $0.agent_id, path: $0.path, reason: $0.failure_reason ?? "")
            })
        return templates.render("overview", overview)
    }

    /// A file of the last 30 nights that could not be scored.
    struct FailedRow: Decodable, Sendable {
        let call_date, agent_id, path: String
        let failure_reason: String?
    }

    /// The fields of Templates/overview.mustache: each window's pass rate per rule, the agents
    /// ranked worst first, and the files that failed.
    struct Overview: Encodable {
        struct Column: Encodable { let name, calls: String }
        /// A number that opens the calls behind it (`href`: the call list's query).
        struct Cell: Encodable { let cls, href, text: String }
        struct RuleRow: Encodable {
            let id: String
            let rule: RuleLabel
            let cells: [Cell]
        }
        /// A rule to coach the agent on: its pass rate over 30 nights, a link to the calls that failed it.
        struct Coach: Encodable {
            let first: Bool
            let cls, judged, href: String
            let rule: RuleLabel
            let rate: String
        }
        struct AgentRow: Encodable {
            let rank, segment, agent: String
            let cells: [Cell]
            let coachOn: [Coach]
            let failedFiles: String
        }
        struct FailedFile: Encodable { let date, agent, path, reason: String }
        /// The database's last day; nil when it holds no call.
        var lastNight: String? = nil
        var columns: [Column] = []
        var meanScores: [Cell] = []
        var rules: [RuleRow] = []
        var agents: [AgentRow] = []
        var anyFailed = false
        var failed: [FailedFile] = []
    }
}
