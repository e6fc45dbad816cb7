// How sure a count or a rate is: a 90% interval around each syllable count and rate.
//
// Model: the relative error of a count of N syllables has two parts,
//   - counting noise: each syllable is missed or doubled now and then, independently, so
//     its variance is k / N, k the per-syllable error variance of single sentences
//     (dev/utterances, 17 voices, each counted by a model that never heard it, less the
//     mean bias: 0.095);
//   - a systematic part σ that does not average out over a call: how this voice, this line
//     and this tempo suit the counter.
// The interval is value × (1 ± 1.645 √(σ² + k / N)), a normal 90% interval. σ is calibrated
// on per-call errors of voices the learned counter ([14], `SyllableNet`) never heard: the
// dev calls' two parties, each counted by the model trained without its voice
// (`scripts/train/lvo_calls.py`), rms 5.0% over 12 parties, of which counting noise is
// 2.1%: σ = 4.5% for syllables; rates add their time's error (talk time 0.5%, phonation
// time 2.8% over the syllables' own). A voice far from every training voice can be off by
// more: the 15 unseen AISHELL-3 voices stray up to +20% on single sentences.
import Foundation

/// A closed interval of a measure, in the measure's unit.
public struct Interval: Sendable, Equatable, Codable {
    public var low: Double
    public var high: Double
    public func contains(_ x: Double) -> Bool { x >= low && x <= high }
}

public enum MeasureUncertainty {
    /// Per-syllable error variance of single-sentence counts (dev/utterances).
    public static let countingVariancePerSyllable = 0.095
    /// Systematic relative error, one standard deviation: syllables, speech rate, articulation rate.
    public static let systematicSyllables = 0.045
    public static let systematicSpeechRate = 0.0453
    public static let systematicArticulationRate = 0.0530
    /// Two-sided 90%.
    public static let z90 = 1.645

    /// Half-width of the 90% interval, relative (0.064 = ±6.4%), of a measure resting on
    /// `syllables` counted syllables with systematic error `systematic`.
    public static func relativeHalfWidth(syllables: Int, systematic: Double) -> Double {
        let n = Double(max(1, syllables))
        return z90 * (systematic * systematic + countingVariancePerSyllable / n).squareRoot()
    }

    /// The 90% interval of `value`, resting on `syllables` syllables.
    public static func interval(_ value: Double, syllables: Int, systematic: Double) -> Interval {
        let h = relativeHalfWidth(syllables: syllables, systematic: systematic)
        return Interval(low: value * (1 - h), high: value * (1 + h))
    }

    /// A syllable count's interval, in syllables.
    public static func syllableInterval(_ count: Int) -> Interval {
        interval(Double(count), syllables: count, systematic: systematicSyllables)
    }
}
