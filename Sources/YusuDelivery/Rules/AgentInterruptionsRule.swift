import Foundation

/// 不打断客户: the agent starting to talk over the customer (backchannels and latching are
/// not interruptions). Default: none.
public struct AgentInterruptionsRule: StandardRule {
    public let id = "agent_interruptions"
    public let chineseName = "不打断客户"
    public let englishName = "No interrupting the customer"
    public let defaultWeight = 15.0
    public let settings = [RuleSetting("max_agent_interruptions", 0, integer: true)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        check(s["max_agent_interruptions"] >= 0, "max_agent_interruptions (\(s["max_agent_interruptions"])) must be >= 0")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let limit = s["max_agent_interruptions"]
        let mine = call.interruptions?.filter { $0.by == .agent }
        return verdict(
            passed: mine.map { Double($0.count) <= limit }, value: mine.map { Double($0.count) },
            unit: "interruptions", limit: .atMost(limit),
            evidence: (mine ?? []).map {
                Evidence(startSeconds: $0.atSeconds, endSeconds: $0.atSeconds + $0.overlapSeconds,
                         note: String(format: "agent talks over the customer for %.1f s", $0.overlapSeconds))
            },
            reason: mine == nil ? "mono recording: the customer is not on a channel of their own" : nil)
    }
}
