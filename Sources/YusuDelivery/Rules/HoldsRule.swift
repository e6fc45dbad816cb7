import Foundation

/// 等待超过1分钟需再次反馈: no stretch where nobody speaks (hold, dead air) longer than a limit
/// (default 60 s): past it the agent must come back to the customer.
public struct HoldsRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Longest silence that passes, seconds.
        public var maximumSeconds = 60.0
        public static let fields: [SettingField<Settings>] = [
            .init("max_hold_s", \.maximumSeconds, .from(10, to: 86_400, "s", why: "holds are silences of 10 s or more"))
        ]
        public init() {}
    }

    public let about = RuleAbout(id: "holds", chinese: "等待不超过1分钟", english: "Holds and dead air", weight: 10.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { "at most \(show(s.maximumSeconds)) s" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let longest = call.holds.map(\.durationSeconds).max() ?? 0
        let limit = Limit.atMost(s.maximumSeconds)
        return verdict(
            s, passed: limit.admits(longest), value: longest, unit: "s", limit: limit,
            evidence: call.holds.filter { !limit.admits($0.durationSeconds) }.map {
                Evidence(
                    startSeconds: $0.startSeconds, endSeconds: $0.endSeconds,
                    note: String(
                        format: "无人说话 %.0f 秒 · nobody speaks for %.0f s", $0.durationSeconds, $0.durationSeconds))
            },
            valueText: call.holds.isEmpty
                ? "no hold or dead air of \(show(call.minimumHoldSeconds)) s or more"
                : String(format: "longest %.0f s", longest))
    }
}
