import Foundation

/// 避免"嗯""啊"过多语气词: the agent's filled pauses (嗯, 呃/啊 used to hesitate; see
/// `FilledPauseDetector`) per minute of agent talk time, at most a limit.
///
/// Default 3 per minute. No standard publishes a number. Prepared service speech has
/// close to none, while spontaneous conversation has several a minute. One every 20 s is
/// where a listener starts to notice hesitation. A QA team should set its own.
public struct FilledPausesRule: StandardRule {
    public let id = "filled_pauses"
    public let chineseName = "避免过多语气词"
    public let englishName = "Few filled pauses (嗯/啊)"
    public let defaultWeight = 10.0
    public let settings = [RuleSetting("max_filled_pauses_per_min", 3)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        check(s["max_filled_pauses_per_min"] >= 0, "max_filled_pauses_per_min (\(s["max_filled_pauses_per_min"])) must be >= 0")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let limit = s["max_filled_pauses_per_min"]
        let agent = call.agent
        let perMinute: Double? = agent.talkTimeSeconds > 0 ? Double(agent.filledPauses.count) / (agent.talkTimeSeconds / 60) : nil
        return verdict(
            passed: perMinute.map { $0 <= limit + 1e-9 }, value: perMinute, unit: "per minute of talk", limit: .atMost(limit),
            evidence: agent.filledPauses.map {
                Evidence(startSeconds: $0.startSeconds, endSeconds: $0.endSeconds, note: String(format: "filled pause (嗯/呃), %.1f s", $0.durationSeconds))
            },
            reason: perMinute == nil ? "the agent never speaks" : nil,
            valueText: perMinute.map { String(format: "%.1f per minute of talk (%d in %.0f s)", $0, agent.filledPauses.count, agent.talkTimeSeconds) })
    }
}
