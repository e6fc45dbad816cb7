import Foundation

/// 单句不超过20字: no agent utterance longer than a number of syllables (default 20 字).
public struct LongUtterancesRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Most syllables (字) an utterance may have.
        public var maximumSyllables = 20
        public static let fields: [SettingField<Settings>] = [
            .init("max_utterance_syllables", \.maximumSyllables, .from(1, to: 10_000))
        ]
        public init() {}
    }

    public let about = RuleAbout(id: "long_utterances", chinese: "单句不超过20字", english: "Short sentences", weight: 5.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { "no utterance over \(s.maximumSyllables) 字" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let judgements: [Bool?] = call.agent.utterances.map { $0.syllables > s.maximumSyllables }
        let long = call.agent.utterances.filter { $0.syllables > s.maximumSyllables }
        var v = verdict(
            s, passed: long.isEmpty, value: Double(long.count), unit: "utterances over \(s.maximumSyllables) 字",
            limit: .atMost(0),
            evidence: long.map {
                Evidence(
                    startSeconds: $0.startSeconds, endSeconds: $0.endSeconds,
                    note: "单句 \($0.syllables) 字 · \($0.syllables) syllables")
            },
            valueText: long.count == 1
                ? "1 utterance over \(s.maximumSyllables) 字" : "\(long.count) utterances over \(s.maximumSyllables) 字")
        v.utteranceJudgements = judgements
        // Near the limit when some utterance's count could lie on the other side of it: a
        // failing one whose interval reaches down to the limit, or (passing) one reaching over.
        let limit = Double(s.maximumSyllables) + 0.5
        v.nearLimit =
            long.isEmpty
            ? call.agent.utterances.contains { MeasureUncertainty.syllableInterval($0.syllables).contains(limit) }
            : long.allSatisfy { MeasureUncertainty.syllableInterval($0.syllables).low <= limit }
        return v
    }
}
