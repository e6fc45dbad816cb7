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
        var agents: [String: [NightlySummary.Group]] = [:]
        for g in summary.groups { agents[g.agentId, default: []].append(g) }
        let scored = RuleBook.all.filter { (summaryWeight(summary, $0.id)) > 0 }
        let unweighted = Set(RuleBook.all.filter { summaryWeight(summary, $0.id) == 0 }.map(\.id))
        let night = Night(
            since: summary.since, standardKey: summary.standardKey,
            callsScored: plural(summary.groups.reduce(0) { $0 + $1.calls }, "call"),
            failedCount: summary.failedFiles.isEmpty ? nil : plural(summary.failedFiles.count, "file"),
            anything: !summary.groups.isEmpty || !summary.failedFiles.isEmpty,
            agents: agents.keys.sorted().map { agentRow($0, agents[$0]!.sorted { $0.date < $1.date }, rules: scored) },
            rules: RuleBook.all.map { ruleRow($0, summary.groups, agents: agents, unweighted: unweighted) },
            days: summary.groups.map { dayRow($0, linked: linked) },
            failedFiles: FileTable(
                summary.failedFiles, headingId: "failed", heading: "未能评分 Files that could not be scored",
                tableId: "failed-files", lastColumn: "Reason", rowClass: "failed-file"),
            warnedCalls: FileTable(
                summary.warnings, headingId: "warnings", heading: "注意 Calls scored with a warning",
                tableId: "warning-calls", lastColumn: "Warning", rowClass: "warned"))
        return HTML.page(
            title: "Yusu nightly QA", body: NightTemplates.render("night", night), extraStyle: style)
    }

    /// The fields of Templates/night.mustache.
    struct Night: Encodable {
        let since, standardKey: String?
        let callsScored: String
        let failedCount: String?
        /// Whether there is anything to tabulate: calls scored, or files that failed.
        let anything: Bool
        let agents: [AgentRow]
        let rules: [RuleRow]
        let days: [DayRow]
        let failedFiles, warnedCalls: FileTable?
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

    struct AgentRow: Encodable {
        struct Weak: Encodable { let cls, name, rate: String }
        let agent, calls: String
        /// Files of the agent's that could not be scored; nil for none.
        let failed: String?
        let meanScore: String
        let trend: Trend?
        /// The three rules the agent passes least, under 100%; empty when every rule passed.
        let weakest: [Weak]
    }

    static func agentRow(_ agent: String, _ groups: [NightlySummary.Group], rules: [any StandardRule]) -> AgentRow {
        let failed = groups.reduce(0) { $0 + $1.failed }
        let withScore = groups.filter { $0.meanScore != nil && $0.calls > 0 }
        let weight = withScore.reduce(0) { $0 + $1.calls }
        let mean = weight > 0 ? withScore.reduce(0.0) { $0 + $1.meanScore! * Double($1.calls) } / Double(weight) : nil
        let weakest = rules.compactMap { r -> (String, Double)? in
            passRate(r.id, groups).rate.map { (r.chineseName, $0) }
        }
        .filter { $0.1 < 1 }.sorted { $0.1 < $1.1 }.prefix(3)
        return AgentRow(
            agent: agent, calls: String(groups.reduce(0) { $0 + $1.calls }), failed: failed > 0 ? String(failed) : nil,
            meanScore: mean.map { String(format: "%.0f", $0) } ?? "—", trend: trend(groups),
            weakest: weakest.map { AgentRow.Weak(cls: cls($0.1), name: $0.0, rate: pct($0.1)) })
    }

    /// The daily mean score, 0–100, as a line with its points, the last day's value written
    /// beside it (Templates/trend.mustache); nil without a scored day.
    struct Trend: Encodable {
        struct Level: Encodable { let x1, x2, y: String }
        struct Point: Encodable { let x, y, date, score: String }
        let width, height: String
        let levels: [Level]
        let polyline: String?
        let points: [Point]
        let lastX, lastY, last: String
    }

    static func trend(_ groups: [NightlySummary.Group]) -> Trend? {
        let points = groups.compactMap { g in g.meanScore.map { (g.date, $0) } }
        guard !points.isEmpty else { return nil }
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
        let last = coords[coords.count - 1]
        return Trend(
            width: HTML.n(w), height: HTML.n(h),
            levels: [0.0, 50, 100].map { Trend.Level(x1: HTML.n(left), x2: HTML.n(w - right), y: HTML.n(y($0))) },
            polyline: coords.count > 1 ? coords.map { "\(HTML.n($0.0)),\(HTML.n($0.1))" }.joined(separator: " ") : nil,
            points: zip(coords, points).map {
                Trend.Point(x: HTML.n($0.0), y: HTML.n($0.1), date: $1.0, score: String(format: "%.0f", $1.1))
            },
            lastX: HTML.n(last.0 + 7), lastY: HTML.n(min(h - 4, max(14, last.1 + 4))),
            last: String(format: "%.0f", points[points.count - 1].1))
    }

    // MARK: Rules

    struct RuleRow: Encodable {
        struct Low: Encodable { let first: Bool, agent, rate: String }
        let id, chineseName, englishName: String
        let unweighted: Bool
        let cls, rate, calls: String
        /// Agents who pass the rule in under half their calls.
        let low: [Low]
    }

    static func ruleRow(
        _ rule: any StandardRule, _ groups: [NightlySummary.Group], agents: [String: [NightlySummary.Group]],
        unweighted: Set<String>
    ) -> RuleRow {
        let (rate, calls) = passRate(rule.id, groups)
        let low = agents.keys.sorted().compactMap { a -> (String, Double)? in
            guard let r = passRate(rule.id, agents[a]!).rate, r < 0.5 else { return nil }
            return (a, r)
        }
        return RuleRow(
            id: rule.id, chineseName: rule.chineseName, englishName: rule.englishName,
            unweighted: unweighted.contains(rule.id), cls: cls(rate), rate: pct(rate), calls: String(calls),
            low: low.enumerated().map { RuleRow.Low(first: $0 == 0, agent: $1.0, rate: pct($1.1)) })
    }

    // MARK: Days

    struct DayRow: Encodable {
        struct Failure: Encodable {
            let first: Bool
            let name: String
            /// When the first evidence of the failure starts.
            let clock: String?
            let near: Bool
        }
        struct Worst: Encodable {
            let first: Bool
            /// The call's own page, when it was written.
            let page: String?
            let label: String
            let hasFailures: Bool
            let failures: [Failure]
        }
        let date, agent, calls: String
        let failed: String?
        let meanScore, rate, interruptions, sinking: String
        let worst: [Worst]
    }

    static func dayRow(_ g: NightlySummary.Group, linked: Set<String>) -> DayRow {
        DayRow(
            date: g.date, agent: g.agentId, calls: String(g.calls), failed: g.failed > 0 ? String(g.failed) : nil,
            meanScore: g.meanScore.map { String(format: "%.0f", $0) } ?? "—",
            rate: g.meanSpeechRateCharactersPerMinute.map { String(format: "%.0f", $0) } ?? "—",
            interruptions: g.interruptionsPerCall.map { String(format: "%.2f", $0) } ?? "—",
            sinking: pct(g.fallingEndingShare),
            worst: g.worstCalls.enumerated().map { k, w in
                let page = callPageName(w)
                return DayRow.Worst(
                    first: k == 0, page: linked.contains(page) ? page : nil,
                    label: "\(w.callId) (\(Scorecard.scoreText(w.score)))", hasFailures: !w.failures.isEmpty,
                    failures: w.failures.enumerated().map { i, f in
                        DayRow.Failure(
                            first: i == 0, name: RuleBook.rule(id: f.rule)?.chineseName ?? f.rule,
                            clock: f.evidence.first.map { HTML.clock($0.startSeconds) }, near: f.nearLimit)
                    })
            })
    }

    // MARK: Files that failed, calls with a warning

    /// Templates/files.mustache: files with a reason each; nil when there are none.
    struct FileTable: Encodable {
        struct Row: Encodable { let date, agent, path, reason: String }
        let headingId, heading, tableId, lastColumn, rowClass, count: String
        let rows: [Row]

        init?(
            _ files: [NightlySummary.FailedFile], headingId: String, heading: String, tableId: String,
            lastColumn: String, rowClass: String
        ) {
            guard !files.isEmpty else { return nil }
            (self.headingId, self.heading, self.tableId) = (headingId, heading, tableId)
            (self.lastColumn, self.rowClass, count) = (lastColumn, rowClass, String(files.count))
            rows = files.map { Row(date: $0.date, agent: $0.agentId, path: $0.path, reason: $0.reason) }
        }
    }
}

/// Templates/night.mustache and its partials, compiled in.
enum NightTemplates {
    static let set = TemplateSet([
        ("night", PackageResources.night_mustache), ("files", PackageResources.files_mustache),
        ("trend", PackageResources.trend_mustache),
    ])

    static func render(_ name: String, _ model: some Encodable) -> String { set.render(name, model) }
}
