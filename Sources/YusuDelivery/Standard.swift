import Foundation

/// The service standard a call is judged against: a name and version, every rule's settings
/// (`StandardRule.settings`, keys with units in their names), and the rules' weights in the
/// 0–100 score. Defaults are the common Chinese call-centre norms; any of it can be
/// overridden from a JSON file (`Standard.load`), which rejects unknown keys and bad values
/// with a message.
public struct Standard: Sendable, Equatable, Codable {
    /// A name and version recorded with every score (batch runs key on it).
    public var name: String = "default"
    public var version: Int = 1
    /// Every rule setting, by key.
    public var values: [String: Double]
    /// Weight of each rule in the 0–100 score, by rule id; rules missing here weigh 0.
    public var weights: [String: Double] = RuleBook.defaultWeights

    public init() {
        values = Dictionary(uniqueKeysWithValues: RuleBook.settings.map { ($0.key, $0.defaultValue) })
    }

    /// A setting's value (its default when unset; 0 for a key no rule declares).
    public subscript(key: String) -> Double {
        get { values[key] ?? RuleBook.settings.first { $0.key == key }?.defaultValue ?? 0 }
        set { values[key] = newValue }
    }

    // Settings other stages read (the analysis, the report's bands).
    public var speechRateMinCharactersPerMinute: Double { get { self["speech_rate_min_cpm"] } set { self["speech_rate_min_cpm"] = newValue } }
    public var speechRateMaxCharactersPerMinute: Double { get { self["speech_rate_max_cpm"] } set { self["speech_rate_max_cpm"] = newValue } }
    public var sinkingEndingBelowRegisterSemitones: Double {
        get { self["sinking_ending_below_register_st"] } set { self["sinking_ending_below_register_st"] = newValue }
    }
    public var agentLevelMinDbov: Double { get { self["agent_level_min_dbov"] } set { self["agent_level_min_dbov"] = newValue } }
    public var agentLevelMaxDbov: Double { get { self["agent_level_max_dbov"] } set { self["agent_level_max_dbov"] = newValue } }
    public var maxUtteranceSyllables: Int {
        get { Int(self["max_utterance_syllables"]) } set { self["max_utterance_syllables"] = Double(newValue) }
    }
    public var callDurationMinSeconds: Double { get { self["call_duration_min_s"] } set { self["call_duration_min_s"] = newValue } }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Every key a standard file may hold.
    public static var knownKeys: [String] { ["name", "version", "weights"] + RuleBook.settings.map(\.key) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key("name"))
        try c.encode(version, forKey: Key("version"))
        for setting in RuleBook.settings {
            let value = self[setting.key]
            if setting.isInteger { try c.encode(Int(value), forKey: Key(setting.key)) } else { try c.encode(value, forKey: Key(setting.key)) }
        }
        try c.encode(weights, forKey: Key("weights"))
    }

    /// Missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: Key.self)
        name = try c.decodeIfPresent(String.self, forKey: Key("name")) ?? name
        version = try c.decodeIfPresent(Int.self, forKey: Key("version")) ?? version
        for setting in RuleBook.settings {
            if setting.isInteger {
                if let v = try c.decodeIfPresent(Int.self, forKey: Key(setting.key)) { self[setting.key] = Double(v) }
            } else if let v = try c.decodeIfPresent(Double.self, forKey: Key(setting.key)) {
                self[setting.key] = v
            }
        }
        if let given = try c.decodeIfPresent([String: Double].self, forKey: Key("weights")) {
            weights = RuleBook.defaultWeights.merging(given) { _, new in new }
        }
    }

    /// Problems with the values, one message each; empty when the standard is usable.
    public func problems() -> [String] {
        var p: [String] = []
        for rule in RuleBook.all { p += rule.problems(self) }
        for setting in RuleBook.settings where !self[setting.key].isFinite {
            p.append("\(setting.key) must be a finite number")
        }
        if version < 1 { p.append("version (\(version)) must be >= 1") }
        let ids = Set(RuleBook.ids)
        for (key, weight) in weights.sorted(by: { $0.key < $1.key }) {
            if !ids.contains(key) { p.append("weights: unknown rule \"\(key)\" (rules: \(RuleBook.ids.joined(separator: ", ")))") }
            if !(weight >= 0 && weight.isFinite) { p.append("weights.\(key) (\(weight)) must be a finite number >= 0") }
        }
        if !(weights.values.reduce(0, +) > 0) { p.append("weights must not all be 0") }
        return p
    }

    public struct LoadError: Error, CustomStringConvertible {
        public var path: String
        public var reasons: [String]
        public var description: String { "\(path): invalid standard: " + reasons.joined(separator: "; ") }
    }

    /// Reads a standard from a JSON file: unknown keys and bad values are errors.
    public static func load(path: String) throws -> Standard {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, reasons: ["cannot read the file"])
        }
        return try decode(data, path: path)
    }

    /// Decodes and validates; `path` only names the source in messages.
    public static func decode(_ data: Data, path: String = "standard") throws -> Standard {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw LoadError(path: path, reasons: ["not valid JSON (\(error.localizedDescription))"])
        }
        guard let dictionary = object as? [String: Any] else {
            throw LoadError(path: path, reasons: ["expected a JSON object of settings"])
        }
        let known = Set(knownKeys)
        let unknown = dictionary.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw LoadError(path: path, reasons: unknown.map { "unknown key \"\($0)\" (known: \(known.sorted().joined(separator: ", ")))" })
        }
        let standard: Standard
        do { standard = try JSONDecoder().decode(Standard.self, from: data) } catch let DecodingError.typeMismatch(type, context) {
            throw LoadError(path: path, reasons: ["\(context.codingPath.map(\.stringValue).joined(separator: ".")): expected \(type)"])
        } catch let DecodingError.dataCorrupted(context) {
            throw LoadError(path: path, reasons: ["\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"])
        } catch {
            throw LoadError(path: path, reasons: ["\(error)"])
        }
        let problems = standard.problems()
        if !problems.isEmpty { throw LoadError(path: path, reasons: problems) }
        return standard
    }
}
