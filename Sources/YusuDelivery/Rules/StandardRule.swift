/// A rule of the service standard is one thing: its settings (a typed, `Codable` value
/// whose JSON keys carry their units, with defaults and validation), its verdict on a call
/// and the evidence behind it, and how people read its value and limit. The standard, the
/// JSON, the text and HTML reports, the results database and the night summary handle
/// every rule the same way through this protocol.
///
/// Adding a rule: a type in its own file in this folder, one line in `RuleBook.all`, its
/// tests, its README row.
public protocol StandardRule: Sendable {
    associatedtype Settings: RuleSettings
    init()
    /// Stable id: JSON `rule`, database `verdicts.rule`, `weights` key.
    var id: String { get }
    var chineseName: String { get }
    var englishName: String { get }
    /// Share of the 0–100 score by default (the defaults of all rules sum to 100).
    var defaultWeight: Double { get }
    /// The verdict on a call, with evidence for every moment that makes it fail.
    func judge(_ call: CallMeasures, _ settings: Settings) -> Verdict
    /// The limit as people read it: "100–120 字/分钟", "at most 60 s".
    func limitText(_ settings: Settings) -> String
}

/// A rule's settings: the keys a standard file may set for it, their defaults (`init()`)
/// and the checks on their values. Keys missing from a file keep their defaults.
public protocol RuleSettings: Codable, Sendable, Equatable {
    init()
    /// The JSON keys of these settings, units in their names.
    static var keys: [String] { get }
    /// Problems with the values, one message each, naming the key and the value.
    func problems() -> [String]
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

    /// Every settings key of every rule.
    public static var settingKeys: [String] { all.flatMap { $0.settingKeys } }
}

extension StandardRule {
    /// The keys of this rule's settings.
    public var settingKeys: [String] { Settings.keys }

    /// The verdict under `standard`'s settings for this rule.
    public func judge(_ call: CallMeasures, in standard: Standard) -> Verdict {
        judge(call, standard[Self.self])
    }

    /// The default limit, for help texts.
    public var defaultLimitText: String { limitText(Settings()) }

    /// The limit under `standard`.
    public func limitText(in standard: Standard) -> String { limitText(standard[Self.self]) }

    /// A verdict of this rule (names and the limit text filled in).
    func verdict(
        _ settings: Settings, passed: Bool?, value: Double?, unit: String, limit: Limit, evidence: [Evidence] = [],
        reason: String? = nil, valueText: String? = nil
    ) -> Verdict {
        Verdict(
            rule: id, chineseName: chineseName, englishName: englishName, passed: passed, value: value, unit: unit,
            limit: limit, evidence: evidence, reason: reason,
            valueText: valueText ?? Verdict.defaultValueText(value, unit: unit),
            limitText: limitText(settings))
    }
}

/// "key (value) must …" when `ok` is false.
func check(_ ok: Bool, _ message: @autoclosure () -> String) -> [String] { ok ? [] : [message()] }

/// A number as a standard file would write it: whole numbers without a fraction.
func show(_ x: Double) -> String { Verdict.trim(x) }

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the file does not set it.
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
