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
    public struct Settings: RuleSettings {
        /// Agent minus customer level, lowest that passes, dB.
        public var minimumDb = -6.0
        /// Agent minus customer level, highest that passes, dB.
        public var maximumDb = 6.0
        public static let fields = SettingField<Settings>.band(
            "level_vs_customer_min_db", \.minimumDb, "level_vs_customer_max_db", \.maximumDb, .from(-60, to: 60, "dB"))
        public init() {}
    }

    public let about = RuleAbout(
        id: "level_vs_customer", chinese: "音量适应客户", english: "Level matched to the customer", weight: 0.0)
    public init() {}

    public func limitText(_ s: Settings) -> String {
        "agent \(show(s.minimumDb)) to \(show(s.maximumDb)) dB against the customer"
    }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let limit = Limit.range(s.minimumDb, s.maximumDb)
        guard let customer = call.customer else {
            return verdict(
                s, passed: nil, value: nil, unit: "dB", limit: limit,
                reason: "mono recording: the customer is not on a channel of their own")
        }
        let difference: Double? = call.agent.activeLevelDbov.flatMap { a in customer.activeLevelDbov.map { a - $0 } }
        return verdict(s, measure: difference, within: limit, unit: "dB", missing: "one party never speaks") {
            String(format: "agent %.1f dB %@ than the customer", abs($0), $0 >= 0 ? "louder" : "quieter")
        }
    }
}
