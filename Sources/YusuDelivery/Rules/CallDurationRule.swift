import Foundation

/// 通话时长: the call's length within a band (default 3–5 minutes).
public struct CallDurationRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Shortest call that passes, seconds.
        public var minimumSeconds = 180.0
        /// Longest call that passes, seconds.
        public var maximumSeconds = 300.0
        enum CodingKeys: String, CodingKey, CaseIterable {
            case minimumSeconds = "call_duration_min_s"
            case maximumSeconds = "call_duration_max_s"
        }
        public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Settings()
            minimumSeconds = try c.value(.minimumSeconds, or: d.minimumSeconds)
            maximumSeconds = try c.value(.maximumSeconds, or: d.maximumSeconds)
        }
        public func problems() -> [String] {
            check(
                minimumSeconds >= 0 && minimumSeconds < maximumSeconds && maximumSeconds <= 86_400,
                """
                call_duration_min_s (\(show(minimumSeconds))) must be >= 0 and below call_duration_max_s \
                (\(show(maximumSeconds))), at most 86400
                """
            )
        }
    }

    public let id = "call_duration"
    public let chineseName = "通话时长"
    public let englishName = "Call duration"
    public let defaultWeight = 5.0
    public init() {}

    public func limitText(_ s: Settings) -> String { "\(clockText(s.minimumSeconds))–\(clockText(s.maximumSeconds))" }

    /// The whole call is the evidence, so none is listed: the value says it.
    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let d = call.durationSeconds
        return verdict(
            s, passed: d >= s.minimumSeconds && d <= s.maximumSeconds, value: d, unit: "s",
            limit: .range(s.minimumSeconds, s.maximumSeconds),
            valueText: clockText(d))
    }
}

/// "3:00", "4:05.3": minutes and seconds, tenths only when there are some.
func clockText(_ seconds: Double) -> String {
    let tenths = Int((max(0, seconds) * 10).rounded())
    let base = String(format: "%d:%02d", tenths / 600, tenths / 10 % 60)
    return tenths % 10 == 0 ? base : base + ".\(tenths % 10)"
}
