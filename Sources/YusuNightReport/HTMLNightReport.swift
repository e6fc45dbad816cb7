import Foundation
import YusuBatch
import YusuDelivery
import YusuReport

/// A night (or any span of days) as one HTML page that reads on a laptop screen: per
/// agent, the score's trend and the weakest rules; per rule, the pass rate and the agents
/// who fall short; per agent and day, the numbers and the worst calls linked to their pages;
/// and every file that could not be scored, with its reason.
public enum HTMLNightReport {
    /// File name of a worst call's own page, unique per path.
    public static func callPageName(_ call: NightlySummary.WorstCall) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in call.path.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let safe = call.callId.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return "calls/\(String(safe.prefix(40)))-\(String(hash % 0xFFFFFF, radix: 16)).html"
    }

    static func pct(_ x: Double?) -> String { x.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }
    static func cls(_ rate: Double?) -> String { rate.map { $0 >= 0.8 ? "pass" : ($0 < 0.5 ? "fail" : "") } ?? "na" }

    /// Pass rate of `rule` over `groups`, weighted by their calls.
    static func passRate(_ rule: String, _ groups: [NightlySummary.Group]) -> (rate: Double?, calls: Int) {
        let rated: [(Double, Int)] = groups.compactMap { g in (g.passRate[rule] ?? nil).map { ($0, g.calls) } }
        let calls = rated.reduce(0) { $0 + $1.1 }
        return (calls > 0 ? rated.reduce(0.0) { $0 + $1.0 * Double($1.1) } / Double(calls) : nil, calls)
    }

    /// - Parameter linked: page names that exist (worst calls whose recording could be re-analysed).
    public static func render(_ summary: NightlySummary, linked: Set<String> = []) -> String {
        var body = "<header><h1>Yusu 语速 — nightly QA 质检日报</h1>\n<div class=\"meta\">"
        body += summary.since.map { "since \(HTML.escape($0))" } ?? "all days"
        body += summary.standardKey.map { " · standard \(HTML.escape($0))" } ?? ""
        let calls = summary.groups.reduce(0) { $0 + $1.calls }
        body += " · \(plural(calls, "call")) scored"
        if !summary.failedFiles.isEmpty {
            body +=
                """
                 · <a class=\"fail\" href=\"#failed\">\(plural(summary.failedFiles.count, "file")) could not be \
                scored</a>
                """
        }
        body += "</div></header>\n"
        guard !summary.groups.isEmpty || !summary.failedFiles.isEmpty else {
            return HTML.page(title: "Yusu nightly QA", body: body + "<p>No calls.</p>\n", extraStyle: style)
        }
        var agents: [String: [NightlySummary.Group]] = [:]
        for g in summary.groups { agents[g.agentId, default: []].append(g) }
        let scored = RuleBook.all.filter { (summaryWeight(summary, $0.id)) > 0 }
        body += agentTable(agents, rules: scored)
        body += ruleTable(
            summary.groups, agents: agents,
            unweighted: Set(RuleBook.all.filter { summaryWeight(summary, $0.id) == 0 }.map(\.id)))
        body += dayTable(summary.groups, linked: linked)
        body += failedTable(summary.failedFiles)
        body += warningTable(summary.warnings)
        return HTML.page(title: "Yusu nightly QA", body: body, extraStyle: style)
    }

    /// A rule's weight under the summary's standard.
    static func summaryWeight(_ summary: NightlySummary, _ rule: String) -> Double {
        summary.standard.weights[rule] ?? 0
    }

    static let style = """
        .trend { width: 180px; height: 48px; display: block; }
        .weak { font-size: 0.92em; }
        .weak span { display: inline-block; margin-right: 10px; white-space: nowrap; }
        td.path { word-break: break-all; font-family: ui-monospace, "Noto Sans Mono CJK SC", monospace; font-size: \
        0.88em; }
        """

    // MARK: Agents

    static func agentTable(_ agents: [String: [NightlySummary.Group]], rules: [any StandardRule]) -> String {
        var out =
            """
            <h2>坐席 Agents</h2>\n<table id=\"agents\">\n<thead><tr><th>Agent</th><th class=\"num\">Calls</th><th \
            class=\"num\">Failed files</th>
            """
        out +=
            """
            <th class=\"num\">Mean score</th><th>Score by day</th><th>Weakest rules (pass \
            rate)</th></tr></thead>\n<tbody>\n
            """
        for agent in agents.keys.sorted() {
            let groups = agents[agent]!.sorted { $0.date < $1.date }
            let calls = groups.reduce(0) { $0 + $1.calls }
            let failed = groups.reduce(0) { $0 + $1.failed }
            let withScore = groups.filter { $0.meanScore != nil && $0.calls > 0 }
            let weight = withScore.reduce(0) { $0 + $1.calls }
            let mean =
                weight > 0 ? withScore.reduce(0.0) { $0 + $1.meanScore! * Double($1.calls) } / Double(weight) : nil
            let weakest = rules.compactMap { r -> (String, Double)? in
                passRate(r.id, groups).rate.map { (r.chineseName, $0) }
            }
            .filter { $0.1 < 1 }.sorted { $0.1 < $1.1 }.prefix(3)
            out +=
                """
                <tr class=\"agent\" data-agent=\"\(HTML.escape(agent))\"><td>\(HTML.escape(agent))</td><td \
                class=\"num\">\(calls)</td>
                """
            out += "<td class=\"num\">\(failed > 0 ? "<span class=\"fail\">\(failed)</span>" : "0")</td>"
            out +=
                """
                <td \
                class=\"num\">\(mean.map { String(format: "%.0f", $0) } ?? "—")</td><td>\(trend(groups))</td><td \
                class=\"weak\">
                """
            out +=
                weakest.isEmpty
                ? "<span class=\"pass\">all rules passed</span>"
                : weakest.map { "<span class=\"\(cls($0.1))\">\(HTML.escape($0.0)) \(pct($0.1))</span>" }.joined()
            out += "</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    /// The daily mean score, 0–100, as a line with its points; the last day's value written beside it.
    static func trend(_ groups: [NightlySummary.Group]) -> String {
        let points = groups.compactMap { g in g.meanScore.map { (g.date, $0) } }
        guard !points.isEmpty else { return "—" }
        let w = 180.0
        let h = 48.0
        let left = 6.0
        let right = 40.0
        let top = 6.0
        let bottom = 6.0
        func y(_ score: Double) -> Double { top + (h - top - bottom) * (1 - max(0, min(100, score)) / 100) }
        let step = points.count > 1 ? (w - left - right) / Double(points.count - 1) : 0
        let coords = points.enumerated().map { (i, p) in
            (points.count > 1 ? left + Double(i) * step : (w - right) / 2, y(p.1))
        }
        var svg =
            """
            <svg class=\"trend\" viewBox=\"0 0 \(HTML.n(w)) \(HTML.n(h))\" role=\"img\" aria-label=\"mean score by \
            day\">
            """
        for level in [0.0, 50, 100] {
            svg +=
                """
                <line x1=\"\(HTML.n(left))\" x2=\"\(HTML.n(w - right))\" y1=\"\(HTML.n(y(level)))\" \
                y2=\"\(HTML.n(y(level)))\" stroke=\"#e0e0e0\" stroke-width=\"1\"/>
                """
        }
        if coords.count > 1 {
            svg +=
                """
                <polyline points=\"\(coords.map { "\(HTML.n($0.0)),\(HTML.n($0.1))" }.joined(separator: " "))\" \
                fill=\"none\" stroke=\"#2f6db5\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>
                """
        }
        for (c, p) in zip(coords, points) {
            svg +=
                """
                <circle cx=\"\(HTML.n(c.0))\" cy=\"\(HTML.n(c.1))\" r=\"3.5\" \
                fill=\"#2f6db5\"><title>\(HTML.escape(p.0)): \(String(format: "%.0f", p.1))</title></circle>
                """
        }
        let last = coords[coords.count - 1]
        svg +=
            """
            <text x=\"\(HTML.n(last.0 + 7))\" y=\"\(HTML.n(min(h - 4, max(14, last.1 + 4))))\" font-size=\"13\" \
            fill=\"#1d1d1d\">\(String(format: "%.0f", points[points.count - 1].1))</text>
            """
        return svg + "</svg>"
    }

    // MARK: Rules

    static func ruleTable(
        _ groups: [NightlySummary.Group], agents: [String: [NightlySummary.Group]], unweighted: Set<String>
    ) -> String {
        var out =
            """
            <h2>规范 Rules</h2>\n<table id=\"rules\">\n<thead><tr><th>规范 Rule</th><th class=\"num\">Pass \
            rate</th><th class=\"num\">Calls judged</th><th>Agents under 50%</th></tr></thead>\n<tbody>\n
            """
        for rule in RuleBook.all {
            let (rate, calls) = passRate(rule.id, groups)
            let low = agents.keys.sorted().compactMap { a -> String? in
                guard let r = passRate(rule.id, agents[a]!).rate, r < 0.5 else { return nil }
                return "\(HTML.escape(a)) \(pct(r))"
            }
            let note = unweighted.contains(rule.id) ? " <span class=\"en\">(weight 0: not in the score)</span>" : ""
            out +=
                """
                <tr data-rule=\"\(rule.id)\"><td><span class=\"zh\">\(rule.chineseName)</span> <span \
                class=\"en\">\(rule.englishName)</span>\(note)</td>
                """
            out +=
                """
                <td class=\"num \(cls(rate))\">\(pct(rate))</td><td \
                class=\"num\">\(calls)</td><td>\(low.isEmpty ? "—" : low.joined(separator: ", "))</td></tr>\n
                """
        }
        return out + "</tbody>\n</table>\n"
    }

    // MARK: Days

    static func dayTable(_ groups: [NightlySummary.Group], linked: Set<String>) -> String {
        var out =
            """
            <h2>每日 By day</h2>\n<table id=\"days\">\n<thead><tr><th>Day</th><th>Agent</th><th \
            class=\"num\">Calls</th><th class=\"num\">Mean score</th><th class=\"num\">字/分钟</th><th \
            class=\"num\">Interruptions / call</th><th class=\"num\">Sinking endings</th><th>Worst \
            calls</th></tr></thead>\n<tbody>\n
            """
        for g in groups {
            out +=
                """
                <tr class=\"day\"><td class=\"t\">\(HTML.escape(g.date))</td><td>\(HTML.escape(g.agentId))</td><td \
                class=\"num\">\(g.calls)\(g.failed > 0 ? " <span class=\"fail\">+\(g.failed) failed</span>" : "")</td>
                """
            out += "<td class=\"num\">\(g.meanScore.map { String(format: "%.0f", $0) } ?? "—")</td>"
            out +=
                """
                <td \
                class=\"num\">\(g.meanSpeechRateCharactersPerMinute.map { String(format: "%.0f", $0) } ?? "—")</td>
                """
            out +=
                """
                <td class=\"num\">\(g.interruptionsPerCall.map { String(format: "%.2f", $0) } ?? "—")</td><td \
                class=\"num\">\(pct(g.fallingEndingShare))</td><td>
                """
            out += g.worstCalls.map { w in
                let page = callPageName(w)
                let label = "\(HTML.escape(w.callId)) (\(Scorecard.scoreText(w.score)))"
                var cell =
                    linked.contains(page)
                    ? "<a class=\"worst\" href=\"\(page)\">\(label)</a>" : "<span class=\"worst\">\(label)</span>"
                let failures = w.failures.map { f -> String in
                    let name = RuleBook.rule(id: f.rule)?.chineseName ?? f.rule
                    let first =
                        f.evidence.first.map { " <span class=\"t\">\(HTML.clock($0.startSeconds))</span>" } ?? ""
                    return "\(HTML.escape(name))\(first)"
                        + (f.nearLimit ? " <span class=\"near-label\">near the limit</span>" : "")
                }
                if !failures.isEmpty { cell += "<br><span class=\"en\">\(failures.joined(separator: "; "))</span>" }
                return cell
            }.joined(separator: "<br>")
            out += "</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    // MARK: Warnings

    static func warningTable(_ warnings: [NightlySummary.FailedFile]) -> String {
        guard !warnings.isEmpty else { return "" }
        var out =
            """
            <h2 id=\"warnings\">注意 Calls scored with a warning (\(warnings.count))</h2>\n<table \
            id=\"warning-calls\">\n
            """
        out += "<thead><tr><th>Day</th><th>Agent</th><th>File</th><th>Warning</th></tr></thead>\n<tbody>\n"
        for w in warnings {
            out += "<tr class=\"warned\"><td class=\"t\">\(HTML.escape(w.date))</td><td>\(HTML.escape(w.agentId))</td>"
            out += "<td class=\"path\">\(HTML.escape(w.path))</td><td>\(HTML.escape(w.reason))</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    // MARK: Failed files

    static func failedTable(_ files: [NightlySummary.FailedFile]) -> String {
        guard !files.isEmpty else { return "" }
        var out =
            "<h2 id=\"failed\">未能评分 Files that could not be scored (\(files.count))</h2>\n<table id=\"failed-files\">\n"
        out += "<thead><tr><th>Day</th><th>Agent</th><th>File</th><th>Reason</th></tr></thead>\n<tbody>\n"
        for f in files {
            out +=
                """
                <tr class=\"failed-file\"><td \
                class=\"t\">\(HTML.escape(f.date))</td><td>\(HTML.escape(f.agentId))</td>
                """
            out += "<td class=\"path\">\(HTML.escape(f.path))</td><td>\(HTML.escape(f.reason))</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}
