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
    /// Its id, names and default weight.
    var about: RuleAbout { get }
    /// The verdict on a call, with evidence for every moment that makes it fail.
    func judge(_ call: CallMeasures, _ settings: Settings) -> Verdict
    /// The limit as people read it: "100–120 字/分钟", "at most 60 s".
    func limitText(_ settings: Settings) -> String
}

/// What names a rule.
public struct RuleAbout: Sendable {
    /// Stable id: JSON `rule`, database `verdicts.rule`, `weights` key.
    public let id: String
    public let chineseName: String
    public let englishName: String
    /// Share of the 0–100 score by default (the defaults of all rules sum to 100).
    public let defaultWeight: Double
    public init(id: String, chinese: String, english: String, weight: Double) {
        (self.id, chineseName, englishName, defaultWeight) = (id, chinese, english, weight)
    }
}

extension StandardRule {
    public var id: String { about.id }
    public var chineseName: String { about.chineseName }
    public var englishName: String { about.englishName }
    public var defaultWeight: Double { about.defaultWeight }
}

/// A rule's settings: the keys a standard file may set for it, their defaults (`init()`)
/// and the values each may take. Keys missing from a file keep their defaults. Coding and
/// checking come from `fields`: one line a key, with its allowed range.
public protocol RuleSettings: Codable, Sendable, Equatable {
    init()
    /// Each JSON key (units in its name), the property it sets and the values it may take.
    static var fields: [SettingField<Self>] { get }
}

extension RuleSettings {
    /// The JSON keys of these settings.
    public static var keys: [String] { fields.map(\.key) }

    /// Problems with the values, one message each, naming the key and the value.
    public func problems() -> [String] { Self.fields.flatMap { $0.problems(self) } }

    /// The keys the decoder holds; the others keep their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: SettingKey.self)
        for field in Self.fields { try field.decode(&self, c) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: SettingKey.self)
        for field in Self.fields { try field.encode(self, &c) }
    }
}

/// A coding key named at run time: a key of a standard file, a rule id in a document.
public struct SettingKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// One key of a rule's settings, the property it sets and the values it may take (key
/// paths are immutable values, hence the unchecked Sendable).
public struct SettingField<S>: @unchecked Sendable {
    public let key: String
    let decode: (inout S, KeyedDecodingContainer<SettingKey>) throws -> Void
    let encode: (S, inout KeyedEncodingContainer<SettingKey>) throws -> Void
    /// What is wrong with the value `S` holds here, one message each.
    let problems: (S) -> [String]

    /// - Parameter below: the key and property this one must stay under (a band's minimum
    ///   names its maximum).
    init<V: SettingNumber>(
        _ key: String, _ path: WritableKeyPath<S, V>, _ allowed: SettingRange<V>,
        below upper: (key: String, path: KeyPath<S, V>)? = nil
    ) {
        self.key = key
        decode = { settings, c in
            if let v = try c.decodeIfPresent(V.self, forKey: SettingKey(key)) { settings[keyPath: path] = v }
        }
        encode = { settings, c in try c.encode(settings[keyPath: path], forKey: SettingKey(key)) }
        problems = { settings in
            let v = settings[keyPath: path]
            var p = allowed.contains(v) ? [] : ["\(key) (\(v.settingText)) must be \(allowed.text)"]
            if let upper, case let limit = settings[keyPath: upper.path], !(v < limit) {
                p.append("\(key) (\(v.settingText)) must be below \(upper.key) (\(limit.settingText))")
            }
            return p
        }
    }

    /// A band's two keys: each within `allowed`, the minimum below the maximum.
    static func band<V: SettingNumber>(
        _ minimumKey: String, _ minimum: WritableKeyPath<S, V>, _ maximumKey: String,
        _ maximum: WritableKeyPath<S, V>, _ allowed: SettingRange<V>
    ) -> [SettingField<S>] {
        [.init(minimumKey, minimum, allowed, below: (maximumKey, maximum)), .init(maximumKey, maximum, allowed)]
    }
}

/// A number a setting holds, written as a standard file would write it.
protocol SettingNumber: Codable, Comparable {
    var settingText: String { get }
}

extension Double: SettingNumber {
    var settingText: String { show(self) }
}

extension Int: SettingNumber {
    var settingText: String { String(self) }
}

/// The values a setting may take: from its lowest (or above it) to its highest, inclusive.
/// NaN is in no range.
struct SettingRange<V: SettingNumber> {
    let lowest: V
    let lowestAllowed: Bool
    let highest: V
    /// The unit, and why the range is what it is, where it needs saying.
    let unit: String
    let why: String?

    /// From `lowest` to `highest`, both allowed.
    static func from(_ lowest: V, to highest: V, _ unit: String = "", why: String? = nil) -> Self {
        Self(lowest: lowest, lowestAllowed: true, highest: highest, unit: unit, why: why)
    }

    /// Above `lowest` (not it) and at most `highest`.
    static func above(_ lowest: V, to highest: V, _ unit: String = "") -> Self {
        Self(lowest: lowest, lowestAllowed: false, highest: highest, unit: unit, why: nil)
    }

    func contains(_ v: V) -> Bool { (lowestAllowed ? v >= lowest : v > lowest) && v <= highest }

    var text: String {
        let unitText = unit.isEmpty ? "" : " " + unit
        let because = why.map { " (\($0))" } ?? ""
        return lowestAllowed
            ? "from \(lowest.settingText) to \(highest.settingText)\(unitText)\(because)"
            : "above \(lowest.settingText) and at most \(highest.settingText)\(unitText)\(because)"
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

    /// The verdict on a measure that passes inside `limit`; not measurable, for the reason
    /// `missing`, when there is no measure. `valueText` says the measure (the number and its
    /// unit when there is none).
    func verdict(
        _ settings: Settings, measure: Double?, within limit: Limit, unit: String, missing: String,
        evidence: [Evidence] = [], valueText: ((Double) -> String)? = nil
    ) -> Verdict {
        verdict(
            settings, passed: measure.map(limit.admits), value: measure, unit: unit, limit: limit, evidence: evidence,
            reason: measure == nil ? missing : nil, valueText: valueText.flatMap { measure.map($0) })
    }
}

/// A number as a standard file would write it: whole numbers without a fraction.
func show(_ x: Double) -> String { Verdict.trim(x) }
