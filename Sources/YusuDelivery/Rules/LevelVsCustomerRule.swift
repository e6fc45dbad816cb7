import Foundation

/// 音量视客户需要调整: the agent's active speech level relative to the customer's, dB, within
/// a band. Weighs 0 by default: no published limit backs one.
///
/// The band is ±6 dB. Past it, one party is twice as loud or half as loud as the other in
/// sound pressure. On one line that usually means the agent has not matched a quiet or a
/// loud caller, or that the recording chain treats the two channels differently. A QA team
/// that switches the rule on should first check that its channels are recorded at the same
/// gain.
public struct LevelVsCustomerRule: StandardRule {
    public let id = "level_vs_customer"
    public let chineseName = "音量适应客户"
    public let englishName = "Level matched to the customer"
    public let defaultWeight = 0.0
    public let settings = [RuleSetting("level_vs_customer_min_db", -6), RuleSetting("level_vs_customer_max_db", 6)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        let lo = s["level_vs_customer_min_db"], hi = s["level_vs_customer_max_db"]
        return check(lo < hi && lo >= -60 && hi <= 60, "level_vs_customer_min_db (\(lo)) must be below level_vs_customer_max_db (\(hi)), both within -60...60 dB")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let lo = s["level_vs_customer_min_db"], hi = s["level_vs_customer_max_db"]
        guard let customer = call.customer else {
            return verdict(passed: nil, value: nil, unit: "dB", limit: .range(lo, hi),
                           reason: "mono recording: the customer is not on a channel of their own")
        }
        let difference: Double? = call.agent.activeLevelDbov.flatMap { a in customer.activeLevelDbov.map { a - $0 } }
        return verdict(passed: difference.map { $0 >= lo && $0 <= hi }, value: difference, unit: "dB (agent − customer)", limit: .range(lo, hi),
                       reason: difference == nil ? "one party never speaks" : nil)
    }
}
