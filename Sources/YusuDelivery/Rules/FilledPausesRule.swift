import Foundation

/// 避免"嗯""啊"过多语气词: the agent's filled pauses (嗯, 呃/啊 used to hesitate; see
/// `FilledPauseDetector`) per minute of agent talk time, at most a limit.
///
/// Default 3 per minute. No standard publishes a number. Prepared service speech has
/// close to none, while spontaneous conversation has several a minute. One every 20 s is
/// where a listener starts to notice hesitation. A QA team should set its own.
public struct FilledPausesRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Filled pauses per minute of agent talk that pass.
        public var maximumPerMinute = 3.0
        public static let fields: [SettingField<Settings>] = [
            .init("max_filled_pauses_per_min", \.maximumPerMinute, .from(0, to: 1000))
        ]
        public init() {}
    }

    public let about = RuleAbout(
        id: "filled_pauses", chinese: "避免过多语气词", english: "Few filled pauses (嗯/啊)", weight: 10.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { "at most \(show(s.maximumPerMinute)) per minute of talk" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let agent = call.agent
        let perMinute: Double? =
            agent.talkTimeSeconds > 0 ? Double(agent.filledPauses.count) / (agent.talkTimeSeconds / 60) : nil
        return verdict(
            s, passed: perMinute.map { $0 <= s.maximumPerMinute + 1e-9 }, value: perMinute, unit: "per minute of talk",
            limit: .atMost(s.maximumPerMinute),
            evidence: agent.filledPauses.map {
                Evidence(
                    startSeconds: $0.startSeconds, endSeconds: $0.endSeconds,
                    note: String(
                        format: "语气词 %.1f 秒 · filled pause (嗯/呃), %.1f s", $0.durationSeconds, $0.durationSeconds))
            },
            reason: perMinute == nil ? "the agent never speaks" : nil,
            valueText: perMinute.map {
                String(
                    format: "%.1f per minute of talk (%d in %.0f s)", $0, agent.filledPauses.count,
                    agent.talkTimeSeconds)
            })
    }
}
