import Foundation

/// 等待超过1分钟需再次反馈: no stretch where nobody speaks (hold, dead air) longer than a limit
/// (default 60 s): past it the agent must come back to the customer.
public struct HoldsRule: StandardRule {
    public let id = "holds"
    public let chineseName = "等待不超过1分钟"
    public let englishName = "Holds and dead air"
    public let defaultWeight = 10.0
    public let settings = [RuleSetting("max_hold_s", 60)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        check(s["max_hold_s"] >= 10, "max_hold_s (\(s["max_hold_s"])) must be at least 10 (holds are silences of 10 s or more)")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let limit = s["max_hold_s"]
        let longest = call.holds.map(\.durationSeconds).max() ?? 0
        return verdict(passed: longest <= limit, value: longest, unit: "s", limit: .atMost(limit),
                       evidence: call.holds.filter { $0.durationSeconds > limit }.map {
                           Evidence(startSeconds: $0.startSeconds, endSeconds: $0.endSeconds,
                                    note: String(format: "nobody speaks for %.0f s", $0.durationSeconds))
                       })
    }
}
