import Foundation

/// 语调轻快, 句尾不得下沉: the share of the agent's measured utterance endings that sink. An
/// ending sinks when it stands on a real fall *and* ends low: its pitch falls at least
/// `minimumFallSemitones` into the end (over the last syllable or from the word before it)
/// and finishes at least `belowRegisterSemitones` under the agent's own register. A low end
/// without a fall (a level low tone) does not sink, nor does a fall that ends in the middle
/// of the voice. Read speech ends that way in about one sentence in five (an ordinary
/// statement-final fall), so by default up to 30% of endings may: a delivery that sinks
/// sentence after sentence fails. The analysis measures the fall and the end point and
/// knows nothing of these limits.
public struct FallingEndingsRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Share of measured endings that may sink, 0...1.
        public var maximumShare = 0.3
        /// An ending sinks only if it ends at least this far under the agent's register
        /// (median F0 so far), semitones.
        public var belowRegisterSemitones = 2.0
        /// ... and its pitch falls at least this much into its end, semitones.
        public var minimumFallSemitones = 2.5
        public static let fields: [SettingField<Settings>] = [
            .init("max_falling_ending_share", \.maximumShare, .from(0, to: 1)),
            .init("sinking_ending_below_register_st", \.belowRegisterSemitones, .from(0, to: 12, "semitones")),
            .init("sinking_ending_min_fall_st", \.minimumFallSemitones, .from(0, to: 12, "semitones")),
        ]
        public init() {}
    }

    public let about = RuleAbout(id: "falling_endings", chinese: "句尾不得下沉", english: "No sinking endings", weight: 15.0)
    public init() {}

    public func limitText(_ s: Settings) -> String {
        s.maximumShare == 0 ? "none may sink" : String(format: "at most %.0f%% of endings sink", s.maximumShare * 100)
    }

    /// A measured ending sinks when it falls at least `minimumFallSemitones` into its end and
    /// ends at least `belowRegisterSemitones` under the agent's register.
    public func isSinking(dropSemitones: Double, endRelativeToRegisterSemitones: Double, _ s: Settings) -> Bool {
        dropSemitones >= s.minimumFallSemitones && endRelativeToRegisterSemitones <= -s.belowRegisterSemitones
    }

    /// Whether this utterance's ending sinks; nil when it has no measured ending.
    public func judge(_ u: Utterance, _ s: Settings) -> Bool? {
        guard let drop = u.finalDropSemitones, let end = u.endRelativeToMedianSemitones else { return nil }
        return isSinking(dropSemitones: drop, endRelativeToRegisterSemitones: end, s)
    }

    public func judge(_ call: CallMeasures, _ s: Settings) -> Verdict {
        let limit = s.maximumShare
        let judgements = call.agent.utterances.map { judge($0, s) }
        let measured = judgements.compactMap { $0 }.count
        let falling = zip(call.agent.utterances, judgements).filter { $0.1 == true }.map(\.0)
        let share: Double? = measured == 0 ? nil : Double(falling.count) / Double(measured)
        var v = verdict(
            s, passed: share.map { $0 <= limit + 1e-9 }, value: share, unit: "share of endings", limit: .atMost(limit),
            evidence: falling.map {
                let span = $0.endingSpan ?? $0.span
                return Evidence(
                    startSeconds: span.startSeconds, endSeconds: span.endSeconds,
                    note: $0.shownEnding?.note ?? "")
            },
            reason: share == nil ? "no voiced utterance endings to measure" : nil,
            valueText: share.map {
                String(format: "%.0f%% of endings sink (%d of %d)", $0 * 100, falling.count, measured)
            })
        v.utteranceJudgements = judgements
        return v
    }
}
