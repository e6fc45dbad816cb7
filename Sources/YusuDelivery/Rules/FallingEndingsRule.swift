import Foundation

/// 语调轻快, 句尾不得下沉: the share of the agent's measured utterance endings that sink (the
/// last voiced stretch glides down and ends below the agent's own register). Default: none
/// may sink. How far below the register counts as sinking is the rule's too: the analysis
/// measures the ending's fall and where it ends, and knows nothing of the standard.
public struct FallingEndingsRule: StandardRule {
    public struct Settings: RuleSettings {
        /// Share of measured endings that may sink, 0...1.
        public var maximumShare = 0.0
        /// An ending sinks when it ends at least this far under the agent's register, semitones.
        /// Sustained endings stay within about 0.7 st of the register; sinking ones whose
        /// glide the tracker saw only in part can end as little as 1.2 st under it.
        public var belowRegisterSemitones = 1.0
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

    /// A measured ending sinks when it does not end on a rise (it fell from its high point,
    /// or stayed) and it ends at least `belowRegisterSemitones` under the agent's register.
    public func isSinking(dropSemitones: Double, endRelativeToRegisterSemitones: Double, _ s: Settings) -> Bool {
        dropSemitones >= Self.minimumDropSemitones && endRelativeToRegisterSemitones <= -s.belowRegisterSemitones
    }

    /// An ending that ends on a rise (below its own high point by less than this) does not sink.
    public static let minimumDropSemitones = 0.0

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
                return Evidence(startSeconds: span.startSeconds, endSeconds: span.endSeconds,
                                note: String(format: "ending drops %.1f st, ends %.1f st below the register", $0.finalDropSemitones ?? 0, -($0.endRelativeToMedianSemitones ?? 0)))
            },
            reason: share == nil ? "no voiced utterance endings to measure" : nil,
            valueText: share.map { String(format: "%.0f%% of endings sink (%d of %d)", $0 * 100, falling.count, measured) })
        v.utteranceJudgements = judgements
        return v
    }
}
