import Foundation

/// 语调平稳 / 语调轻快有活力: the agent's pitch range over the call, semitones between the 10th
/// and 90th percentile of voiced F0, within a band. Weighs 0 by default: no published limit
/// backs one.
///
/// The band 3–12 st shows a flat, monotone delivery below it and an agitated one above it.
/// Conversational Mandarin spans roughly 5–10 st this way, since tones alone move the pitch
/// by several semitones. A QA team that switches the rule on should calibrate the band on
/// its own agents.
public struct PitchRangeRule: StandardRule {
    public let id = "pitch_range"
    public let chineseName = "语调有活力"
    public let englishName = "Lively pitch range"
    public let defaultWeight = 0.0
    public let settings = [RuleSetting("pitch_range_min_st", 3), RuleSetting("pitch_range_max_st", 12)]
    public init() {}

    public func problems(_ s: Standard) -> [String] {
        let lo = s["pitch_range_min_st"], hi = s["pitch_range_max_st"]
        return check(lo >= 0 && lo < hi && hi <= 36, "pitch_range_min_st (\(lo)) must be >= 0 and below pitch_range_max_st (\(hi)), at most 36")
    }

    public func judge(_ call: CallMeasures, _ s: Standard) -> Verdict {
        let lo = s["pitch_range_min_st"], hi = s["pitch_range_max_st"]
        let range = call.agent.pitchRangeSemitones
        return verdict(passed: range.map { $0 >= lo && $0 <= hi }, value: range, unit: "st (10th–90th percentile)", limit: .range(lo, hi),
                       reason: range == nil ? "too little voiced agent speech to measure" : nil)
    }
}
