import Foundation

/// 通话时长: the call's length within a band (default 3–5 minutes).
public struct CallDurationRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Shortest call that passes, seconds.
        public var minimumSeconds = 180.0
        /// Longest call that passes, seconds.
        public var maximumSeconds = 300.0
        public static let fields = SettingField<Settings>.band(
            "call_duration_min_s", \.minimumSeconds, "call_duration_max_s", \.maximumSeconds, .from(0, to: 86_400, "s"))
        public init() {}
    }

    public let about = RuleAbout(id: "call_duration", chinese: "通话时长", english: "Call duration", weight: 5.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { "\(clockText(s.minimumSeconds))–\(clockText(s.maximumSeconds))" }

    /// The whole call is the evidence, so none is listed: the value says it.
    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let d = call.durationSeconds
        let limit = Limit.range(s.minimumSeconds, s.maximumSeconds)
        return verdict(s, passed: limit.admits(d), value: d, unit: "s", limit: limit, valueText: clockText(d))
    }
}

/// "3:00", "4:05.3": minutes and seconds, tenths only when there are some.
func clockText(_ seconds: Double) -> String {
    let tenths = Int((max(0, seconds) * 10).rounded())
    let base = String(format: "%d:%02d", tenths / 600, tenths / 10 % 60)
    return tenths % 10 == 0 ? base : base + ".\(tenths % 10)"
}
