import Foundation
import YusuBatch
import YusuDelivery

/// A night (or any span of days) as one HTML page: per agent, pass rates and the trend of
/// the daily score; per agent and day, the numbers; the worst calls linked to their pages.
public enum HTMLNightReport {
    /// File name of a worst call's own page, unique per path.
    public static func callPageName(_ call: NightlySummary.WorstCall) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in call.path.utf8 { hash ^= UInt64(byte); hash = hash &* 0x100_0000_01b3 }
        let safe = call.callId.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return "calls/\(String(safe.prefix(40)))-\(String(hash % 0xFFFFFF, radix: 16)).html"
    }

    static func pct(_ x: Double?) -> String { x.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }

    /// - Parameter linked: page names that exist (worst calls whose recording could be re-analysed).
    public static func render(_ summary: NightlySummary, linked: Set<String> = []) -> String {
        var body = "<header><h1>Yusu 语速 — nightly QA 质检日报</h1>\n<div class=\"meta\">"
        body += summary.since.map { "since \(HTML.escape($0))" } ?? "all days"
        body += summary.standardKey.map { " · standard \(HTML.escape($0))" } ?? ""
        body += "</div></header>\n"
        guard !summary.groups.isEmpty else { return HTML.page(title: "Yusu nightly QA", body: body + "<p>No calls.</p>\n") }
        let rules = RuleBook.all
        // Per agent, over all days.
        var agents: [String: [NightlySummary.Group]] = [:]
        for g in summary.groups { agents[g.agentId, default: []].append(g) }
        body += "<h2>坐席 Agents</h2>\n<table id=\"agents\">\n<thead><tr><th>Agent</th><th>Calls</th><th>Failed files</th><th>Mean score</th><th>Score by day</th>"
        for r in rules { body += "<th><span class=\"zh\">\(r.chineseName)</span><br><span class=\"en\">\(r.englishName)</span></th>" }
        body += "</tr></thead>\n<tbody>\n"
        for agent in agents.keys.sorted() {
            let groups = agents[agent]!.sorted { $0.date < $1.date }
            let calls = groups.reduce(0) { $0 + $1.calls }
            let failed = groups.reduce(0) { $0 + $1.failed }
            let scored = groups.filter { $0.meanScore != nil }
            let mean = scored.isEmpty ? nil : scored.reduce(0.0) { $0 + $1.meanScore! * Double($1.calls) } / Double(max(1, scored.reduce(0) { $0 + $1.calls }))
            body += "<tr class=\"agent\" data-agent=\"\(HTML.escape(agent))\"><td>\(HTML.escape(agent))</td><td class=\"num\">\(calls)</td><td class=\"num\">\(failed)</td>"
            body += "<td class=\"num\">\(mean.map { String(format: "%.0f", $0) } ?? "—")</td><td>\(sparkline(groups))</td>"
            for r in rules {
                let rated: [(Double, Int)] = groups.compactMap { g in (g.passRate[r.id] ?? nil).map { ($0, g.calls) } }
                let weight = rated.reduce(0) { $0 + $1.1 }
                let rate = weight > 0 ? rated.reduce(0.0) { $0 + $1.0 * Double($1.1) } / Double(weight) : nil
                body += "<td class=\"num \(rate.map { $0 >= 0.8 ? "pass" : ($0 < 0.5 ? "fail" : "") } ?? "na")\">\(pct(rate))</td>"
            }
            body += "</tr>\n"
        }
        body += "</tbody>\n</table>\n"
        // Per agent and day.
        body += "<h2>每日 By day</h2>\n<table id=\"days\">\n<thead><tr><th>Day</th><th>Agent</th><th>Calls</th><th>Mean score</th><th>Speech rate 字/分钟</th><th>Interruptions / call</th><th>Sinking endings</th><th>Worst calls</th></tr></thead>\n<tbody>\n"
        for g in summary.groups {
            body += "<tr class=\"day\"><td class=\"t\">\(HTML.escape(g.date))</td><td>\(HTML.escape(g.agentId))</td><td class=\"num\">\(g.calls)\(g.failed > 0 ? " <span class=\"fail\">+\(g.failed) failed</span>" : "")</td>"
            body += "<td class=\"num\">\(g.meanScore.map { String(format: "%.0f", $0) } ?? "—")</td>"
            body += "<td class=\"num\">\(g.meanSpeechRateCharactersPerMinute.map { String(format: "%.0f", $0) } ?? "—")</td>"
            body += "<td class=\"num\">\(g.interruptionsPerCall.map { String(format: "%.2f", $0) } ?? "—")</td><td class=\"num\">\(pct(g.fallingEndingShare))</td><td>"
            body += g.worstCalls.map { w in
                let page = callPageName(w)
                let label = "\(HTML.escape(w.callId)) (\(w.score.map { String(format: "%.0f", $0) } ?? "—"))"
                var cell = linked.contains(page) ? "<a class=\"worst\" href=\"\(page)\">\(label)</a>" : "<span class=\"worst\">\(label)</span>"
                let failures = w.failures.map { f -> String in
                    let name = RuleBook.rule(id: f.rule)?.chineseName ?? f.rule
                    let first = f.evidence.first.map { " <span class=\"t\">\(HTML.clock($0.startSeconds))</span>" } ?? ""
                    return "\(name)\(first)"
                }
                if !failures.isEmpty { cell += "<br><span class=\"en\">\(failures.joined(separator: "; "))</span>" }
                return cell
            }.joined(separator: "<br>")
            body += "</td></tr>\n"
        }
        body += "</tbody>\n</table>\n"
        return HTML.page(title: "Yusu nightly QA", body: body)
    }

    /// Daily mean score as a small line, 0–100.
    static func sparkline(_ groups: [NightlySummary.Group]) -> String {
        let points = groups.compactMap { g in g.meanScore.map { (g.date, $0) } }
        guard !points.isEmpty else { return "—" }
        let w = 120.0, h = 28.0
        let step = points.count > 1 ? (w - 8) / Double(points.count - 1) : 0
        let coords = points.enumerated().map { (i, p) in (4 + Double(i) * step, h - 3 - (h - 6) * p.1 / 100) }
        var svg = "<svg class=\"trend\" viewBox=\"0 0 \(HTML.n(w)) \(HTML.n(h))\" width=\"120\" height=\"28\" role=\"img\" aria-label=\"score by day\">"
        if coords.count > 1 {
            svg += "<polyline points=\"\(coords.map { "\(HTML.n($0.0)),\(HTML.n($0.1))" }.joined(separator: " "))\" fill=\"none\" stroke=\"#2f6db5\" stroke-width=\"1.5\"/>"
        }
        for (c, p) in zip(coords, points) {
            svg += "<circle cx=\"\(HTML.n(c.0))\" cy=\"\(HTML.n(c.1))\" r=\"2.5\" fill=\"#2f6db5\"><title>\(HTML.escape(p.0)): \(String(format: "%.0f", p.1))</title></circle>"
        }
        return svg + "</svg>"
    }
}
