import Foundation

/// 铃响三声内接听, 首句问候 (the opening): the agent speaks first, within `max_opening_s` of
/// the recording's start (default 5 s). A recording starts when the line connects, so the
/// three rings are behind it. What is left is the gap before the greeting: 5 s of silence
/// on an answered line is long enough for a caller to say "喂?" first.
public struct OpeningRule: StandardRule {
    public struct Settings: RuleSettings {
        /// The agent's first words come at most this long after the line opens, seconds.
        public var maximumSeconds = 5.0
        public static let fields: [SettingField<Settings>] = [
            .init("max_opening_s", \.maximumSeconds, .above(0, to: 3600, "s"))
        ]
        public init() {}
    }

    public let about = RuleAbout(id: "opening", chinese: "及时问候", english: "Prompt greeting", weight: 5.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { "agent first, within \(show(s.maximumSeconds)) s" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let limit = s.maximumSeconds
        guard let agentFirst = call.agent.utterances.first?.startSeconds else {
            return verdict(
                s, passed: nil, value: nil, unit: "s", limit: .atMost(limit), reason: "the agent never speaks")
        }
        let customerFirst = call.customer?.utterances.first { $0.durationSeconds >= 0.3 }?.startSeconds
        let customerBefore = customerFirst.map { $0 < agentFirst } ?? false
        var evidence: [Evidence] = []
        if customerBefore, let c = customerFirst {
            evidence.append(
                Evidence(startSeconds: c, endSeconds: agentFirst, note: "客户先开口 · the customer speaks first"))
        }
        if agentFirst > limit {
            evidence.append(
                Evidence(
                    startSeconds: 0, endSeconds: agentFirst,
                    note: String(
                        format: "接通 %.1f 秒后坐席才开口 · the agent's first words come %.1f s after the line opens",
                        agentFirst, agentFirst)))
        }
        return verdict(
            s, passed: agentFirst <= limit && !customerBefore, value: agentFirst, unit: "s", limit: .atMost(limit),
            evidence: evidence,
            valueText: String(
                format: "agent first speaks at %.1f s%@", agentFirst, customerBefore ? ", after the customer" : ""))
    }
}
