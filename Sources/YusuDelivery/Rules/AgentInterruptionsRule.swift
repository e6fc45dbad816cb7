import Foundation

/// 不打断客户: the agent starting to talk over the customer (backchannels and latching are
/// not interruptions). Default: none.
public struct AgentInterruptionsRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Agent interruptions a call may have.
        public var maximumCount = 0
        public static let fields: [SettingField<Settings>] = [
            .init("max_agent_interruptions", \.maximumCount, .from(0, to: 10_000))
        ]
        public init() {}
    }

    public let about = RuleAbout(
        id: "agent_interruptions", chinese: "不打断客户", english: "No interrupting the customer", weight: 15.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { s.maximumCount == 0 ? "none" : "at most \(s.maximumCount)" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let mine = call.interruptions(by: .agent)
        return verdict(
            s, measure: mine.map { Double($0.count) }, within: .atMost(Double(s.maximumCount)), unit: "interruptions",
            missing: "mono recording: the customer is not on a channel of their own",
            evidence: (mine ?? []).map {
                Evidence(
                    startSeconds: $0.atSeconds, endSeconds: $0.atSeconds + $0.overlapSeconds,
                    note: String(
                        format: "坐席抢话 %.1f 秒 · agent talks over the customer for %.1f s", $0.overlapSeconds,
                        $0.overlapSeconds))
            })
    }
}
