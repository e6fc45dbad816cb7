import Foundation
import Testing

@testable import YusuServe

@Suite("A call's first moment per failed rule, remembered")
struct FirstEvidenceTests {
    /// Stored verdicts as the results database keeps them.
    func verdicts(_ list: [(rule: String, passed: Bool?, starts: [Double])]) -> String {
        let items = list.map { v in
            let evidence = v.starts.map { "{\"start_s\":\($0),\"end_s\":\($0 + 1),\"note\":\"n\"}" }
            let passed = v.passed.map { $0 ? "true" : "false" } ?? "null"
            return """
                {"rule":"\(v.rule)","passed":\(passed),"value":null,"unit":"","value_text":"","limit_text":"",\
                "near_limit":false,"evidence":[\(evidence.joined(separator: ","))]}
                """
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    @Test("the earliest evidence of each failed rule only; a call scored again is read again")
    func remembered() {
        let cache = FirstEvidence()
        let first = verdicts([
            ("holds", false, [80, 12.5, 40]), ("speech_rate", true, [3]), ("opening", nil, [1]),
            ("agent_interruptions", false, []),
        ])
        #expect(cache.of(7, scoredAt: "2026-12-01T00:00:00Z", first) == ["holds": 12.5])
        // The same call and scoring: the remembered answer, whatever text comes with it.
        #expect(cache.of(7, scoredAt: "2026-12-01T00:00:00Z", "[]") == ["holds": 12.5])
        // Scored again: its new verdicts.
        let again = verdicts([("holds", true, [12.5]), ("speech_rate", false, [30, 9])])
        #expect(cache.of(7, scoredAt: "2026-12-02T00:00:00Z", again) == ["speech_rate": 9])
        #expect(cache.of(8, scoredAt: "2026-12-01T00:00:00Z", nil) == [:])
    }
}
