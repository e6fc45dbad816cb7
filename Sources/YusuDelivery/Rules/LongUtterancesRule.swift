/// 单句不超过20字: no agent utterance longer than a number of syllables (default 20 字).
public struct LongUtterancesRule: StandardRule {
    public let id = "long_utterances"
    public let chineseName = "单句不超过20字"
    public let englishName = "Short sentences"
    public let defaultWeight = 5.0
    public let settings = [RuleSetting("max_utterance_syllables", 20, integer: true)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        check(s["max_utterance_syllables"] >= 1, "max_utterance_syllables (\(s["max_utterance_syllables"])) must be >= 1")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let limit = Int(s["max_utterance_syllables"])
        let long = call.agent.utterances.filter { $0.syllables > limit }
        return verdict(passed: long.isEmpty, value: Double(long.count), unit: "utterances over \(limit) 字", limit: .atMost(0),
                       evidence: long.map { Evidence(startSeconds: $0.startSeconds, endSeconds: $0.endSeconds, note: "\($0.syllables) syllables") })
    }
}
