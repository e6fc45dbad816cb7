// The overview: agents ranked worst first, with the rules to coach each on, and the night's windows.
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

extension Dashboard {

    static func overview(_ state: ServeState) async throws -> Response {
        struct Data: Sendable {
            var last: String?
            var windows: [(name: String, calls: Int, mean: Double?, rates: [String: Double])] = []
            var agents: [(id: String, last: (Int, Double?), week: (Int, Double?), month: (Int, Double?), failed: Int)] =
                []
            var failed: [SQLRow] = []
            /// Per agent, each rule's pass rate over 30 nights and the verdicts behind it.
            var agentRules: [String: [String: (passed: Int, judged: Int)]] = [:]
        }
        let data: Data = try await state.database.run { store in
            try AggregateCache.shared.value("overview", store: store) {
                var d = Data()
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
                let rows = try store.fetch(
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
                        r.string("agent_id") ?? "", (r.int("n1") ?? 0, r.double("s1")),
                        (r.int("n7") ?? 0, r.double("s7")), (r.int("n30") ?? 0, r.double("s30")), r.int("failed") ?? 0
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
                    """
                    SELECT id, call_date, agent_id, call_id, path, failure_reason FROM calls WHERE \
                    \(failedCondition) ORDER BY call_date DESC, path {bin} LIMIT 200
                    """,
                    failedArgs)
                return d
            }
        }
        guard let last = data.last else {
            return page(
                "Yusu · 总览 Overview",
                """
                <h1>质检总览 Overview</h1><p>No calls in the results database yet: run <code>yusu batch</code> on an \
                archive, or upload a recording to <code>POST /v1/score?store=true</code>.</p>
                """
            )
        }
        var body = "<h1>质检总览 Overview</h1><p class=\"meta\">上一夜 Last night: <b id=\"last-night\">\(e(last))</b></p>"
        body += "<h2>规则通过率 Pass rate per rule</h2><table id=\"rules\" class=\"tight\"><tr><th>规则 Rule</th>"
        for w in data.windows {
            body += "<th class=\"pct\">\(e(w.name))<br><span class=\"en\">\(w.calls) calls</span></th>"
        }
        func calls(_ items: [(String, String)]) -> String { "/calls" + queryString(items) }
        /// The call list's filter of window `k` (the last night, 7 nights, 30 nights).
        func since(_ k: Int) -> [(String, String)] {
            [("from", ServeQueries.day(last, minus: overviewWindows[k].daysBack)), ("to", last)]
        }
        body +=
            "</tr><tr><td>平均分 Mean score</td>"
            + data.windows.enumerated().map { k, w in
                "<td class=\"pct \(scoreClass(w.mean))\"><a href=\"\(e(calls(since(k) + [("sort", "score")])))\">"
                    + "\(num(w.mean))</a></td>"
            }.joined() + "</tr>"
        for rule in RuleBook.ids {
            body +=
                "<tr data-rule=\"\(e(rule))\"><td>\(ruleName(rule))</td>"
                + data.windows.enumerated().map { k, w in
                    """
                    <td class=\"pct \(rateClass(w.rates[rule]))\"><a title=\"the calls that failed it\" \
                    href=\"\(e(calls(since(k) + [("rule_failed", rule)])))\">\(pct(w.rates[rule]))</a></td>
                    """
                }.joined() + "</tr>"
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
        body +=
            """
            </table><h2>谁需要辅导 Who needs coaching, on what</h2><p class=\"meta\">Agents ranked worst first by \
            their mean score over 7 nights. Each number opens the calls behind it; each rule, the calls that \
            failed it.</p><table id=\"agents\" class=\"tight\"><tr><th class=\"pct\">#</th><th>坐席 Agent</th>\
            <th class=\"pct\">上一夜 Last night<br><span class=\"en\">calls · score</span></th>\
            <th class=\"pct\">近7夜 7 nights<br><span class=\"en\">calls · score</span></th>\
            <th class=\"pct\">近30夜 30 nights<br><span class=\"en\">calls · score</span></th>\
            <th>最需改进 Coach on (30 nights, pass rate)</th><th class=\"pct\">未评分 Failed files</th></tr>
            """
        for (rank, a) in ranked.enumerated() {
            let agent = [("agent", a.id)]
            body +=
                "<tr><td class=\"pct\">\(rank + 1)</td><td class=\"nowrap\"><a href=\"/agents/\(e(segment(a.id)))\">"
            body += "\(e(a.id))</a></td>"
            for (k, (n, score)) in [a.last, a.week, a.month].enumerated() {
                body +=
                    """
                    <td class=\"pct \(scoreClass(score))\"><a href=\"\(e(calls(agent + since(k))))\">\(n) · \
                    \(num(score))</a></td>
                    """
            }
            let weakest = (data.agentRules[a.id] ?? [:])
                .compactMap { rule, c -> (String, Double, Int)? in
                    c.judged > 0 && c.passed < c.judged ? (rule, Double(c.passed) / Double(c.judged), c.judged) : nil
                }
                .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
                .prefix(3)
            body += "<td>"
            body +=
                weakest.isEmpty
                ? "<span class=\"meta\">—</span>"
                : weakest.map { rule, rate, judged in
                    """
                    <a class=\"badge \(rateClass(rate))\" title=\"\(judged) calls judged\" \
                    href=\"\(e(calls(agent + since(2) + [("rule_failed", rule)])))\">\(ruleName(rule)) \(pct(rate))</a>
                    """
                }.joined(separator: " ")
            body += "</td><td class=\"pct\">\(a.failed)</td></tr>"
        }
        body += "</table><h2>未能评分的文件 Files that could not be scored (30 nights)</h2>"
        if data.failed.isEmpty {
            body += "<p id=\"failed\">None.</p>"
        } else {
            body +=
                """
                <table id=\"failed\" class=\"tight\"><tr><th>日期 Date</th><th>坐席 Agent</th><th>文件 File</th><th>原因 \
                Reason</th></tr>
                """
            for f in data.failed {
                body +=
                    """
                    <tr><td \
                    class=\"t\">\(e(f.string("call_date") ?? ""))</td><td>\(e(f.string("agent_id") ?? ""))</td>\
                    <td>\(e(f.string("path") ?? ""))</td><td>\(e(f.string("failure_reason") ?? ""))</td></tr>
                    """
            }
            body += "</table>"
        }
        return page("Yusu · 总览 Overview", body)
    }
}
