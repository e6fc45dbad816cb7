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
    public struct Settings: RuleSettings {
        /// Narrowest range that passes, semitones.
        public var minimumSemitones = 3.0
        /// Widest range that passes, semitones.
        public var maximumSemitones = 12.0
        public static let fields = SettingField<Settings>.band(
            "pitch_range_min_st", \.minimumSemitones, "pitch_range_max_st", \.maximumSemitones, .from(0, to: 36, "st"))
        public init() {}
    }

    public let about = RuleAbout(id: "pitch_range", chinese: "语调有活力", english: "Lively pitch range", weight: 0.0)
    public init() {}

    public func limitText(_ s: Settings) -> String { "\(show(s.minimumSemitones))–\(show(s.maximumSemitones)) st" }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        verdict(
            s, measure: call.agent.pitchRangeSemitones, within: .range(s.minimumSemitones, s.maximumSemitones),
            unit: "st", missing: "too little voiced agent speech to measure"
        ) { String(format: "%.1f st between the 10th and 90th percentile of pitch", $0) }
    }
}
