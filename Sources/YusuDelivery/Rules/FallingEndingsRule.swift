import Foundation

/// 语调轻快, 句尾不得下沉: the share of the agent's measured utterance endings that sink (the
/// last voiced stretch glides down and ends below the agent's own register). Default: none
/// may sink. How far below the register counts as sinking is a setting of the analysis too.
public struct FallingEndingsRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Share of measured endings that may sink, 0...1.
        public var maximumShare = 0.0
        /// An ending sinks when it ends at least this far under the agent's register, semitones.
        public var belowRegisterSemitones = DeliveryConfig().fallingMinimumBelowMedianSemitones
        enum CodingKeys: String, CodingKey, CaseIterable {
            case maximumShare = "max_falling_ending_share", belowRegisterSemitones = "sinking_ending_below_register_st"
        }
        public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Settings()
            maximumShare = try c.value(.maximumShare, or: d.maximumShare)
            belowRegisterSemitones = try c.value(.belowRegisterSemitones, or: d.belowRegisterSemitones)
        }
        public func problems() -> [String] {
            check((0...1).contains(maximumShare), "max_falling_ending_share (\(show(maximumShare))) must be between 0 and 1")
                + check((0...12).contains(belowRegisterSemitones), "sinking_ending_below_register_st (\(show(belowRegisterSemitones))) must be between 0 and 12 semitones")
        }
    }

    public let id = "falling_endings"
    public let chineseName = "句尾不得下沉"
    public let englishName = "No sinking endings"
    public let defaultWeight = 15.0
    public init() {}

    public func limitText(_ s: Settings) -> String {
        s.maximumShare == 0 ? "none may sink" : String(format: "at most %.0f%% of endings", s.maximumShare * 100)
    }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let limit = s.maximumShare
        let measured = call.agent.utterances.filter { $0.fallingEnding != nil }
        let falling = measured.filter { $0.fallingEnding == true }
        let share: Double? = measured.isEmpty ? nil : Double(falling.count) / Double(measured.count)
        return verdict(
            s, passed: share.map { $0 <= limit + 1e-9 }, value: share, unit: "share of endings", limit: .atMost(limit),
            evidence: falling.map {
                let span = $0.endingSpan ?? $0.span
                return Evidence(startSeconds: span.startSeconds, endSeconds: span.endSeconds,
                                note: String(format: "ending drops %.1f st, ends %.1f st below median", $0.finalDropSemitones ?? 0, -($0.endRelativeToMedianSemitones ?? 0)))
            },
            reason: share == nil ? "no voiced utterance endings to measure" : nil,
            valueText: share.map { String(format: "%.0f%% of endings sink (%d of %d)", $0 * 100, falling.count, measured.count) })
    }
}
