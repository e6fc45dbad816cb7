import Foundation

/// 语速适中: the agent's speech rate, characters (syllables) per minute of talk time, within
/// a band (default 100–120 字/分钟, the common call-centre norm).
public struct SpeechRateRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Lowest rate that passes, 字/分钟 (characters per minute of talk time).
        public var minimumCharactersPerMinute = 100.0
        /// Highest rate that passes, 字/分钟.
        public var maximumCharactersPerMinute = 120.0
        public static let fields = SettingField<Settings>.band(
            "speech_rate_min_cpm", \.minimumCharactersPerMinute, "speech_rate_max_cpm", \.maximumCharactersPerMinute,
            .above(0, to: 1000, "字/分钟"))
        public init() {}
    }

    public let about = RuleAbout(id: "speech_rate", chinese: "语速适中", english: "Speech rate", weight: 20.0)
    public init() {}

    public func limitText(_ s: Settings) -> String {
        "\(show(s.minimumCharactersPerMinute))–\(show(s.maximumCharactersPerMinute)) 字/分钟"
    }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let lo = s.minimumCharactersPerMinute
        let hi = s.maximumCharactersPerMinute
        let rate = call.agent.speechRateCharactersPerMinute
        let interval = call.agent.speechRateInterval
        let limit = Limit.range(lo, hi)
        var v = verdict(
            s, measure: rate, within: limit, unit: "字/分钟", missing: "the agent never speaks",
            evidence: Self.rateEvidence(call.agent, tooSlow: rate.map { $0 < lo } ?? false)
        ) { r in
            interval.map { String(format: "%.0f 字/分钟 (90%%: %.0f–%.0f)", r, $0.low, $0.high) }
                ?? String(format: "%.0f 字/分钟", r)
        }
        v.nearLimit = interval.map { $0.contains(lo) || $0.contains(hi) } ?? false
        return v
    }

    /// Where the rate is furthest out: the agent's three fastest turns (slowest when the call
    /// is too slow), each with its own rate. Turns under 2 s (a backchannel, a "好的") have
    /// no meaningful rate and are left out unless nothing else is there.
    static func rateEvidence(_ agent: SpeakerMeasures, tooSlow: Bool) -> [Evidence] {
        let rated: [(TimeSpan, Double)] = agent.turnRates.map { ($0.turn, $0.charactersPerMinute) }
        let long = rated.filter { $0.0.durationSeconds >= 2 }
        let pool = long.isEmpty ? rated : long
        let ordered = pool.sorted { tooSlow ? $0.1 < $1.1 : $0.1 > $1.1 }
        return ordered.prefix(3).sorted { $0.0.startSeconds < $1.0.startSeconds }.map {
            Evidence(
                startSeconds: $0.0.startSeconds, endSeconds: $0.0.endSeconds,
                note: String(
                    format: "坐席这段 %.0f 字/分钟, %@ · %@", $0.1, tooSlow ? "最慢之一" : "最快之一",
                    tooSlow ? "one of the agent's slowest turns" : "one of the agent's fastest turns")
            )
        }
    }
}
