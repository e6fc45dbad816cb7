import CSV
import Foundation
import YusuBatch
import YusuDelivery

/// Renderings of a nightly summary: text for people, CSV for spreadsheets, JSON for dashboards.
public enum BatchReport {
    static func pct(_ x: Double?) -> String { x.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }
    static func num(_ x: Double?, _ format: String = "%.1f") -> String { x.map { String(format: format, $0) } ?? "—" }

    public static func text(_ summary: NightlySummary) -> String {
        var out = "Yusu nightly QA"
        if let since = summary.since { out += " since \(since)" }
        if let key = summary.standardKey { out += " — standard \(key)" }
        out += "\n"
        if summary.groups.isEmpty { return out + "\nNo calls.\n" }
        let rules = RuleBook.all
        for g in summary.groups {
            out += "\n\(g.date)  agent \(g.agentId): \(g.calls) calls"
            if g.failed > 0 { out += ", \(g.failed) failed" }
            out += "; mean score \(num(g.meanScore, "%.0f")); speech rate \(num(g.meanSpeechRateCharactersPerMinute, "%.0f")) 字/分钟; "
            out += "interruptions/call \(num(g.interruptionsPerCall, "%.2f")); sinking endings \(pct(g.fallingEndingShare))\n"
            out += "  pass rates: " + rules.map { "\($0.chineseName) \(pct(g.passRate[$0.id] ?? nil))" }.joined(separator: "  ") + "\n"
            for w in g.worstCalls {
                out += "  worst: \(w.callId) score \(num(w.score, "%.0f"))  \(w.path)\n"
                for f in w.failures {
                    let name = RuleBook.rule(id: f.rule).map { "\($0.chineseName) \($0.englishName)" } ?? f.rule
                    let moments = f.evidence.map { "\(TextReport.clock($0.startSeconds)) \($0.note)" }.joined(separator: "; ")
                    out += "    \(name)\(moments.isEmpty ? "" : ": " + moments)\n"
                }
            }
        }
        return out
    }

    public static let csvHeader = ["date", "agent_id", "calls", "failed", "mean_score", "mean_speech_rate_cpm",
                                   "interruptions_per_call", "falling_ending_share"]
        + RuleBook.ids.map { "pass_rate_\($0)" } + ["worst_call_id", "worst_call_score", "worst_call_path"]

    public static func csv(_ summary: NightlySummary) throws -> String {
        let csv = try CSVWriter(stream: .toMemory())
        try csv.write(row: csvHeader)
        func f(_ x: Double?, _ digits: String = "%.4f") -> String { x.map { String(format: digits, $0) } ?? "" }
        for g in summary.groups {
            var row = [g.date, g.agentId, String(g.calls), String(g.failed), f(g.meanScore, "%.1f"),
                       f(g.meanSpeechRateCharactersPerMinute, "%.1f"), f(g.interruptionsPerCall), f(g.fallingEndingShare)]
            row += RuleBook.ids.map { f(g.passRate[$0] ?? nil) }
            let worst = g.worstCalls.first
            row += [worst?.callId ?? "", f(worst?.score, "%.1f"), worst?.path ?? ""]
            try csv.write(row: row)
        }
        csv.stream.close()
        let data = csv.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    public static func json(_ summary: NightlySummary) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(summary)) ?? Data(), as: UTF8.self)
    }
}
