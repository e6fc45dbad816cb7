import Foundation

/// A moment a supervisor can jump to, with what happened there.
public struct Evidence: Sendable, Equatable, Codable {
    public var startSeconds: Double
    public var endSeconds: Double
    public var note: String

    public init(startSeconds: Double, endSeconds: Double, note: String) {
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
        self.note = note
    }
}

/// The limit a value is compared with.
public enum Limit: Sendable, Equatable {
    case range(Double, Double)
    case atMost(Double)

    /// Whether `value` passes: inside the range, its ends included, or at most the maximum. A
    /// rule that states its limit this way judges by it, so the verdict's limit and its
    /// outcome cannot disagree.
    public func admits(_ value: Double) -> Bool {
        switch self {
        case .range(let lo, let hi): return value >= lo && value <= hi
        case .atMost(let hi): return value <= hi
        }
    }
}

/// One rule's outcome: passed, failed, or not measurable (`passed == nil`).
public struct Verdict: Sendable, Equatable {
    /// The rule's stable id (`StandardRule.id`).
    public var rule: String
    public var chineseName: String
    public var englishName: String
    public var passed: Bool?
    public var value: Double?
    public var unit: String
    public var limit: Limit
    public var evidence: [Evidence]
    /// Why the rule could not be measured, when `passed` is nil.
    public var reason: String?
    /// The value and the limit as a person reads them ("235 字/分钟", "none may sink"), said
    /// by the rule.
    public var valueText: String
    public var limitText: String
    /// For rules that judge each agent utterance (endings, length): one entry per agent
    /// utterance, in order: true where it counts against the call, false where it passed,
    /// nil where the rule did not judge it. Reports and the database read this; none of
    /// them judges an utterance again.
    public var utteranceJudgements: [Bool?]? = nil
    /// The limit lies inside the measure's 90% interval: the verdict (pass or fail) rests on
    /// a value Yusu cannot tell from the limit. Reports say "near the limit" and list sure
    /// failures first.
    public var nearLimit = false

    public static func number(_ x: Double) -> String {
        x.rounded() == x && abs(x) < 1e15 ? String(Int(x)) : String(format: "%.1f", x)
    }

    /// "235 字/分钟", "1 interruption", "—".
    public static func defaultValueText(_ value: Double?, unit: String) -> String {
        guard let x = value else { return "—" }
        var unit = unit
        if x == 1, let plural = ["interruptions", "utterances", "turns"].first(where: { unit.hasPrefix($0) }) {
            unit = String(plural.dropLast()) + unit.dropFirst(plural.count)
        }
        return "\(number(x)) \(unit)"
    }

    /// A limit's number: whole when it is whole, else two decimals.
    public static func trim(_ x: Double) -> String {
        x.rounded() == x && abs(x) < 1e15 ? String(Int(x)) : String(format: "%.2f", x)
    }
}

extension Verdict {
    /// The agent utterances this verdict flags (indices), when it judges utterances.
    public var flaggedUtterances: [Int] {
        (utteranceJudgements ?? []).enumerated().compactMap { $0.element == true ? $0.offset : nil }
    }
    /// How many utterances it judged.
    public var judgedUtterances: Int { (utteranceJudgements ?? []).compactMap { $0 }.count }
}

/// The verdicts and the 0–100 score of a call.
public struct Scorecard: Sendable {
    public var standard: Standard
    public var verdicts: [Verdict]
    /// Weighted share of passed rules among the measurable ones, 0–100; nil when none was measurable.
    public var score: Double?

    public func verdict(_ rule: String) -> Verdict? { verdicts.first { $0.rule == rule } }

    /// A score as every report, page and document gives it: one decimal (52.6), "—" when
    /// there is none. The score document and the API carry the same rounded number.
    public static func scoreText(_ score: Double?) -> String {
        guard let s = rounded(score) else { return "—" }
        return String(format: "%.1f", s)
    }

    /// The score to one decimal.
    public static func rounded(_ score: Double?) -> Double? { score.map { ($0 * 10).rounded() / 10 } }
}

extension Standard {
    /// Judges a call by every rule. Rules whose measure is missing are "not measurable"
    /// and leave the score.
    public func evaluate(_ call: CallMeasures) -> Scorecard {
        let verdicts = RuleBook.all.map { $0.judge(call, in: self) }
        var earned = 0.0
        var possible = 0.0
        for v in verdicts {
            guard let passed = v.passed else { continue }
            let w = weights[v.rule] ?? 0
            possible += w
            if passed { earned += w }
        }
        return Scorecard(standard: self, verdicts: verdicts, score: possible > 0 ? (earned / possible * 100) : nil)
    }
}
