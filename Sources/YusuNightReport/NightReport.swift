import CSV
import Foundation
import YusuBatch
import YusuDelivery
import YusuReport

/// Renderings of a nightly summary: text for people, CSV for spreadsheets, JSON for
/// dashboards (schema/report.v1.schema.json). Every format lists the files that could not
/// be scored, with their reasons, and uses the names `score` uses (`_cpm`, `start_s`).
public enum NightReport {
    static func pct(_ x: Double?) -> String { x.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }
    static func num(_ x: Double?, _ format: String = "%.1f") -> String { x.map { String(format: format, $0) } ?? "—" }

    public static func text(_ summary: NightlySummary) -> String {
        var out = "Yusu nightly QA"
        if let since = summary.since { out += " since \(since)" }
        if let key = summary.standardKey { out += " — standard \(key)" }
        out += "\n"
        if summary.groups.isEmpty && summary.failedFiles.isEmpty { return out + "\nNo calls.\n" }
        let rules = RuleBook.all
        for g in summary.groups {
            out += "\n\(g.date)  agent \(g.agentId): \(plural(g.calls, "call"))"
            if g.failed > 0 { out += ", \(plural(g.failed, "file")) failed" }
            out +=
                """
                ; mean score \(num(g.meanScore, "%.0f")); speech rate \
                \(num(g.meanSpeechRateCharactersPerMinute, "%.0f")) 字/分钟; 
                """
            out +=
                """
                interruptions/call \(num(g.interruptionsPerCall, "%.2f")); sinking endings \
                \(pct(g.fallingEndingShare))\n
                """
            out +=
                "  pass rates: "
                + rules.map { "\($0.chineseName) \(pct(g.passRate[$0.id] ?? nil))" }.joined(separator: "  ") + "\n"
            for w in g.worstCalls {
                out += "  worst: \(w.callId) score \(Scorecard.scoreText(w.score))  \(w.path)\n"
                for f in w.failures {
                    out += "    \(failureLine(f))\n"
                }
            }
        }
        if !summary.failedFiles.isEmpty {
            out += "\nFailed files (\(summary.failedFiles.count)): not scored, with the reason\n"
            for f in summary.failedFiles {
                out += "  \(f.date)  \(f.agentId)  \(f.path): \(f.reason)\n"
            }
        }
        if !summary.warnings.isEmpty {
            out += "\nWarnings (\(summary.warnings.count)): scored, but read with a caveat\n"
            for w in summary.warnings {
                out += "  \(w.date)  \(w.agentId)  \(w.path): \(w.reason)\n"
            }
        }
        return out
    }

    /// "语速适中 Speech rate: 235 字/分钟; at 0:12.3 agent turn at 260 字/分钟 (…)".
    static func failureLine(_ f: NightlySummary.Failure) -> String {
        let name = RuleBook.rule(id: f.rule).map { "\($0.chineseName) \($0.englishName)" } ?? f.rule
        let value = f.valueText ?? f.value.map { Verdict.number($0) } ?? "—"
        let moments = f.evidence.map { "at \(TextReport.clock($0.startSeconds)) \($0.note)" }.joined(separator: "; ")
        return "\(name): \(value)" + (f.nearLimit ? " (near the limit)" : "") + (moments.isEmpty ? "" : "; " + moments)
    }

    /// The CSV's columns: one `day` row per agent and day, then one `failed_file` row per
    /// file that could not be scored (its date, agent, call id, path and reason; the day
    /// columns empty), then one `warning` row per warning of a scored call (the warning in
    /// `reason`).
    public static let csvHeader =
        [
            "row", "date", "agent_id", "calls", "failed", "mean_score", "mean_speech_rate_cpm",
            "interruptions_per_call", "falling_ending_share",
        ]
        + RuleBook.ids.map { "pass_rate_\($0)" } + [
            "worst_call_id", "worst_call_score", "worst_call_path", "call_id", "path", "reason",
        ]

    public static func csv(_ summary: NightlySummary) throws -> String {
        let csv = try CSVWriter(stream: .toMemory())
        try csv.write(row: csvHeader)
        func f(_ x: Double?, _ digits: String = "%.4f") -> String { x.map { String(format: digits, $0) } ?? "" }
        for g in summary.groups {
            var row = [
                "day", g.date, g.agentId, String(g.calls), String(g.failed), f(g.meanScore, "%.1f"),
                f(g.meanSpeechRateCharactersPerMinute, "%.1f"), f(g.interruptionsPerCall), f(g.fallingEndingShare),
            ]
            row += RuleBook.ids.map { f(g.passRate[$0] ?? nil) }
            let worst = g.worstCalls.first
            row += [worst?.callId ?? "", f(worst?.score, "%.1f"), worst?.path ?? "", "", "", ""]
            try csv.write(row: row)
        }
        for (kind, files) in [("failed_file", summary.failedFiles), ("warning", summary.warnings)] {
            for file in files {
                var row = [kind, file.date, file.agentId]
                row += Array(repeating: "", count: csvHeader.count - 6)
                row += [file.callId, file.path, file.reason]
                try csv.write(row: row)
            }
        }
        csv.stream.close()
        let data = csv.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    /// Version of the JSON document's shape: `schema/report.v<N>.schema.json`.
    public static let schemaVersion = 1

    public static func json(_ summary: NightlySummary) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(Document(summary))) ?? Data("{}".utf8), as: UTF8.self)
    }

    // MARK: The JSON document, named as `score` names things

    struct Document: Encodable {
        var schema_version = NightReport.schemaVersion
        /// null: all days.
        @Null var since: String?
        @Null var standard_key: String?
        var groups: [GroupDTO]
        var failed_files: [FileDTO]
        var warnings: [FileDTO]

        init(_ s: NightlySummary) {
            since = s.since
            standard_key = s.standardKey
            groups = s.groups.map(GroupDTO.init)
            failed_files = s.failedFiles.map {
                FileDTO($0, reason: $0.reason)
            }
            warnings = s.warnings.map {
                FileDTO($0, warning: $0.reason)
            }
        }

    }

    struct GroupDTO: Encodable {
        var date: String, agent_id: String, calls: Int, failed: Int
        @Null var mean_score: Double?
        @Null var mean_speech_rate_cpm: Double?
        @Null var interruptions_per_call: Double?
        @Null var falling_ending_share: Double?
        var pass_rate: [String: Double?]
        var worst_calls: [WorstDTO]

        init(_ g: NightlySummary.Group) {
            date = g.date
            agent_id = g.agentId
            calls = g.calls
            failed = g.failed
            mean_score = g.meanScore
            mean_speech_rate_cpm = g.meanSpeechRateCharactersPerMinute
            interruptions_per_call = g.interruptionsPerCall
            falling_ending_share = g.fallingEndingShare
            pass_rate = g.passRate
            worst_calls = g.worstCalls.map(WorstDTO.init)
        }

    }

    struct WorstDTO: Encodable {
        var call_id: String, path: String, agent_channel: Int
        @Null var score: Double?
        var failures: [FailureDTO]
        init(_ w: NightlySummary.WorstCall) {
            call_id = w.callId
            path = w.path
            agent_channel = w.agentChannel
            score = w.score
            failures = w.failures.map {
                FailureDTO(
                    rule: $0.rule, value: $0.value, value_text: $0.valueText, near_limit: $0.nearLimit,
                    evidence: $0.evidence.map {
                        EvidenceDTO(start_s: $0.startSeconds, end_s: $0.endSeconds, note: $0.note)
                    })
            }
        }
    }

    struct FailureDTO: Encodable {
        var rule: String
        @Null var value: Double?
        @Null var value_text: String?
        var near_limit: Bool
        var evidence: [EvidenceDTO]
    }

    typealias EvidenceDTO = JSONReport.EvidenceDTO

    /// A file of the night with what happened to it: the reason it failed, or the warning it
    /// was scored with (the one that is nil is left out).
    struct FileDTO: Encodable {
        var path: String
        var agent_id: String
        var call_id: String
        var date: String
        var reason: String?
        var warning: String?

        init(_ f: NightlySummary.FailedFile, reason: String? = nil, warning: String? = nil) {
            (path, agent_id, call_id, date) = (f.path, f.agentId, f.callId, f.date)
            (self.reason, self.warning) = (reason, warning)
        }
    }

}
