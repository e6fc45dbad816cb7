/// A rule of the service standard is one thing: its settings (JSON keys, defaults,
/// validation), its verdict on a call and the evidence behind it, and how people read its
/// value and limit. The standard, the JSON, the text and HTML reports, the results database
/// and the night summary handle every rule the same way through this protocol.
///
/// Adding a rule: a type in its own file in this folder, one line in `RuleBook.all`, its
/// tests, its README row.
public protocol StandardRule: Sendable {
    /// Stable id: JSON `rule`, database `verdicts.rule`, `weights` key.
    var id: String { get }
    var chineseName: String { get }
    var englishName: String { get }
    /// Share of the 0–100 score by default (the defaults of all rules sum to 100).
    var defaultWeight: Double { get }
    /// The settings this rule reads from a standard.
    var settings: [RuleSetting] { get }
    /// Problems with this rule's settings, one message each (the key and the value named).
    func problems(_ standard: Standard) -> [String]
    /// The verdict on a call, with evidence for every moment that makes it fail.
    func judge(_ call: CallMeasures, _ standard: Standard) -> Verdict
}

/// One number a standard file may set.
public struct RuleSetting: Sendable, Equatable {
    /// Key in a standard's JSON (units in the name).
    public var key: String
    public var defaultValue: Double
    /// Whole numbers only (counts, syllables).
    public var isInteger: Bool

    public init(_ key: String, _ defaultValue: Double, integer: Bool = false) {
        self.key = key
        self.defaultValue = defaultValue
        self.isInteger = integer
    }
}

/// Every rule, in report order.
public enum RuleBook {
    public static let all: [any StandardRule] = [
        SpeechRateRule(), FallingEndingsRule(), AgentInterruptionsRule(), CallDurationRule(), AgentLevelRule(),
        HoldsRule(), LongUtterancesRule(), FilledPausesRule(), ListeningRule(), OpeningRule(),
        PitchRangeRule(), LevelVsCustomerRule(),
    ]

    public static func rule(id: String) -> (any StandardRule)? { all.first { $0.id == id } }

    public static var ids: [String] { all.map(\.id) }

    /// Default score weights, by rule id (sum 100).
    public static var defaultWeights: [String: Double] {
        Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.defaultWeight) })
    }

    /// Every setting of every rule, by key.
    public static var settings: [RuleSetting] { all.flatMap(\.settings) }
}

extension StandardRule {
    /// A verdict of this rule (names filled in).
    func verdict(passed: Bool?, value: Double?, unit: String, limit: Limit, evidence: [Evidence] = [], reason: String? = nil,
                 valueText: String? = nil, limitText: String? = nil) -> Verdict {
        Verdict(rule: id, chineseName: chineseName, englishName: englishName, passed: passed, value: value, unit: unit,
                limit: limit, evidence: evidence, reason: reason,
                valueText: valueText ?? Verdict.defaultValueText(value, unit: unit),
                limitText: limitText ?? Verdict.defaultLimitText(limit, unit: unit))
    }

    /// "key (value) must …" when `ok` is false.
    func check(_ ok: Bool, _ message: @autoclosure () -> String) -> [String] { ok ? [] : [message()] }
}
