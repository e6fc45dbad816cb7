import Foundation

/// 语调轻快, 句尾不得下沉: the share of the agent's measured utterance endings that sink (the
/// last voiced stretch glides down and ends below the agent's own register). Default: none
/// may sink. How far below the register counts as sinking is a setting of the analysis too.
public struct FallingEndingsRule: StandardRule {
    public let id = "falling_endings"
    public let chineseName = "句尾不得下沉"
    public let englishName = "No sinking endings"
    public let defaultWeight = 15.0
    public let settings = [RuleSetting("max_falling_ending_share", 0),
                           RuleSetting("sinking_ending_below_register_st", DeliveryConfig().fallingMinimumBelowMedianSemitones)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        let share = s["max_falling_ending_share"], below = s["sinking_ending_below_register_st"]
        return check((0...1).contains(share), "max_falling_ending_share (\(share)) must be between 0 and 1")
            + check((0...12).contains(below), "sinking_ending_below_register_st (\(below)) must be between 0 and 12 semitones")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let limit = s["max_falling_ending_share"]
        let measured = call.agent.utterances.filter { $0.fallingEnding != nil }
        let falling = measured.filter { $0.fallingEnding == true }
        let share: Double? = measured.isEmpty ? nil : Double(falling.count) / Double(measured.count)
        return verdict(
            passed: share.map { $0 <= limit + 1e-9 }, value: share, unit: "share of endings", limit: .atMost(limit),
            evidence: falling.map {
                let span = $0.endingSpan ?? $0.span
                return Evidence(startSeconds: span.startSeconds, endSeconds: span.endSeconds,
                                note: String(format: "ending drops %.1f st, ends %.1f st below median", $0.finalDropSemitones ?? 0, -($0.endRelativeToMedianSemitones ?? 0)))
            },
            reason: share == nil ? "no voiced utterance endings to measure" : nil,
            valueText: share.map { String(format: "%.0f%% of endings", $0 * 100) },
            limitText: limit == 0 ? "≤ 0%: no ending may sink" : String(format: "≤ %.0f%% of endings", limit * 100))
    }
}
