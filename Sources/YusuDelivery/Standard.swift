import Foundation

/// The service standard a call is judged against: a name and version, every rule's typed
/// settings, and the rules' weights in the 0–100 score. Defaults are the common Chinese
/// call-centre norms; any of it can be overridden from a JSON file (`Standard.load`): one
/// flat object of the rules' keys plus `name`, `version` and `weights`. A file is refused,
/// with a message naming the key, for an unknown or duplicate key, a value of the wrong type
/// or out of range, and anything too large to be a standard.
public struct Standard: Sendable, Equatable, Codable {
    /// A name and version recorded with every score (batch runs key on it).
    public var name: String = "default"
    public var version: Int = 1
    /// Weight of each rule in the 0–100 score, by rule id; rules missing here weigh 0.
    public var weights: [String: Double] = RuleBook.defaultWeights
    /// Each rule's settings, by rule id (defaults for rules not here).
    private var settingsByRule: [String: any RuleSettings] = [:]

    /// Longest `name`, characters.
    public static let maximumNameLength = 100
    /// Largest standard file, bytes.
    public static let maximumFileBytes = 64 * 1024

    public init() {}

    /// The settings of rule `R`.
    public subscript<R: StandardRule>(_ rule: R.Type) -> R.Settings {
        get { settingsByRule[R().id] as? R.Settings ?? R.Settings() }
        set { settingsByRule[R().id] = newValue }
    }

    public static func == (a: Standard, b: Standard) -> Bool { a.canonicalJSON == b.canonicalJSON }

    typealias Key = SettingKey

    /// Every key a standard file may hold.
    public static var knownKeys: [String] { ["name", "version", "weights"] + RuleBook.settingKeys }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key("name"))
        try c.encode(version, forKey: Key("version"))
        try c.encode(weights, forKey: Key("weights"))
        for rule in RuleBook.all { try encodeSettings(of: rule, to: encoder) }
    }

    private func encodeSettings<R: StandardRule>(of rule: R, to encoder: Encoder) throws {
        try self[R.self].encode(to: encoder)
    }

    /// Missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: Key.self)
        name = try c.decodeIfPresent(String.self, forKey: Key("name")) ?? name
        version = try c.decodeIfPresent(Int.self, forKey: Key("version")) ?? version
        if let given = try c.decodeIfPresent([String: Double].self, forKey: Key("weights")) {
            weights = RuleBook.defaultWeights.merging(given) { _, new in new }
        }
        for rule in RuleBook.all { try decodeSettings(of: rule, from: decoder) }
    }

    private mutating func decodeSettings<R: StandardRule>(of rule: R, from decoder: Decoder) throws {
        self[R.self] = try R.Settings(from: decoder)
    }

    /// Problems with the values, one message each; empty when the standard is usable.
    public func problems() -> [String] {
        var p: [String] = []
        for rule in RuleBook.all { p += problems(of: rule) }
        if version < 1 || version > 1_000_000 { p.append("version (\(version)) must be between 1 and 1000000") }
        if name.count > Self.maximumNameLength {
            p.append("name is \(name.count) characters long; at most \(Self.maximumNameLength)")
        }
        if name.isEmpty || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            p.append("name must be a non-empty line of text, without control characters")
        }
        let ids = Set(RuleBook.ids)
        for (key, weight) in weights.sorted(by: { $0.key < $1.key }) {
            if !ids.contains(key) {
                p.append("weights: unknown rule \"\(key)\" (rules: \(RuleBook.ids.joined(separator: ", ")))")
            }
            if !(weight >= 0 && weight <= 1000) {
                p.append("weights.\(key) (\(weight)) must be a number from 0 to 1000")
            }
        }
        if !(weights.values.reduce(0, +) > 0) { p.append("weights must not all be 0") }
        return p
    }

    private func problems<R: StandardRule>(of rule: R) -> [String] {
        let settings = self[R.self]
        var p = settings.problems()
        // Every number a setting holds must be finite: a rule's own checks compare it.
        if let object = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)) as? [String: Any] {
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                if let x = value as? Double, !x.isFinite { p.append("\(key) must be a finite number") }
            }
        }
        return p
    }

    public struct LoadError: Error, CustomStringConvertible {
        public var path: String
        public var reasons: [String]
        public var description: String { "\(path): invalid standard: " + reasons.joined(separator: "; ") }
    }

    /// Reads a standard from a JSON file: unknown or duplicate keys and bad values are errors.
    public static func load(path: String) throws -> Standard {
        var status = stat()
        guard stat(path, &status) == 0 else { throw LoadError(path: path, reasons: ["no such file"]) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw LoadError(path: path, reasons: ["not a regular file"]) }
        guard Int(status.st_size) <= maximumFileBytes else {
            throw LoadError(
                path: path,
                reasons: ["the file is \(status.st_size) bytes; a standard is at most \(maximumFileBytes / 1024) KiB"])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, reasons: ["cannot read the file (\(String(cString: strerror(errno))))"])
        }
        return try decode(data, path: path)
    }

    /// Decodes and validates; `path` only names the source in messages.
    public static func decode(_ data: Data, path: String = "standard") throws -> Standard {
        guard data.count <= maximumFileBytes else {
            throw LoadError(
                path: path, reasons: ["\(data.count) bytes; a standard is at most \(maximumFileBytes / 1024) KiB"])
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw LoadError(path: path, reasons: ["not UTF-8 text"])
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw LoadError(path: path, reasons: ["not valid JSON (\(error.localizedDescription))"])
        }
        guard let dictionary = object as? [String: Any] else {
            throw LoadError(
                path: path, reasons: ["expected a JSON object of settings, such as {\"speech_rate_max_cpm\": 130}"])
        }
        // What JSON readers disagree on is refused rather than guessed: a key given twice
        // (Foundation keeps the first, Python the last) and numbers past double precision.
        let scan = JSONStructure.problems(in: data)
        if !scan.isEmpty { throw LoadError(path: path, reasons: scan) }
        let known = Set(knownKeys)
        let unknown = dictionary.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw LoadError(
                path: path,
                reasons: unknown.map {
                    "unknown key \"\(JSONStructure.printable($0))\" (known: \(known.sorted().joined(separator: ", ")))"
                })
        }
        // Each setting alone first, so that a bad value is named by its key whatever the
        // decoder's own error says.
        var keyProblems: [String] = []
        for rule in RuleBook.all { keyProblems += valueProblems(of: rule, in: dictionary) }
        if !keyProblems.isEmpty { throw LoadError(path: path, reasons: keyProblems) }
        let standard: Standard
        do { standard = try JSONDecoder().decode(Standard.self, from: data) } catch let error as DecodingError {
            throw LoadError(path: path, reasons: [Self.describe(error, in: dictionary)])
        } catch {
            throw LoadError(path: path, reasons: ["\(error)"])
        }
        let problems = standard.problems()
        if !problems.isEmpty { throw LoadError(path: path, reasons: problems) }
        return standard
    }

    /// The keys of rule `R` in `object` whose values its settings cannot take.
    static func valueProblems<R: StandardRule>(of rule: R, in object: [String: Any]) -> [String] {
        var problems: [String] = []
        for key in R.Settings.keys {
            guard let value = object[key],
                let single = try? JSONSerialization.data(withJSONObject: [key: value])
            else { continue }
            do { _ = try JSONDecoder().decode(R.Settings.self, from: single) } catch {
                let shown = JSONStructure.printable(String(describing: value))
                let expected: String
                switch error as? DecodingError {
                case .typeMismatch(let type, _)?: expected = Self.name(of: type)
                case .dataCorrupted?:
                    let number = value as? NSNumber
                    expected =
                        number.map { $0.doubleValue.rounded() != $0.doubleValue } == true
                        ? "a whole number" : "a number a setting can hold"
                default: expected = "a value this setting can hold"
                }
                problems.append("\(key): expected \(expected), got \(shown)")
            }
        }
        return problems
    }

    /// A decoding error as "key: expected …, got …".
    static func describe(_ error: DecodingError, in object: [String: Any]) -> String {
        let context: DecodingError.Context
        let expected: String
        switch error {
        case .typeMismatch(let type, let c):
            context = c
            expected = Self.name(of: type)
        case .valueNotFound(let type, let c):
            context = c
            expected = Self.name(of: type)
        case .dataCorrupted(let c):
            context = c
            expected = "a number a setting can hold"
        case .keyNotFound(let key, let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")): missing \(key.stringValue)"
        @unknown default: return "\(error)"
        }
        let keyPath = context.codingPath.map(\.stringValue)
        let key = keyPath.joined(separator: ".")
        var got: Any? = object[keyPath.first ?? ""]
        if keyPath.count > 1, let nested = got as? [String: Any] { got = nested[keyPath[1]] }
        let shown = got.map { JSONStructure.printable(String(describing: $0)) } ?? "?"
        return "\(key.isEmpty ? "the file" : key): expected \(expected), got \(shown)"
    }

    static func name(of type: Any.Type) -> String {
        if type == Int.self { return "a whole number" }
        if type == Double.self { return "a number" }
        if type == String.self { return "text" }
        if type is [String: Double].Type || type is [String: Any].Type { return "an object of rule ids and weights" }
        return "\(type)"
    }
}

extension Standard {
    /// The standard's JSON with sorted keys: what is stored with each run.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Name, version and a fingerprint of every setting: calls scored under a different
    /// key are scored again.
    public var key: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a fingerprint, not security
        for byte in canonicalJSON.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "\(name)@\(version)#\(String(hash, radix: 16))"
    }
}

/// Checks on a JSON text that Foundation's reader does not make: duplicate keys (at any
/// depth) and number literals with more significant digits than a double holds. A small
/// scanner over the tokens of text that `JSONSerialization` has already accepted.
enum JSONStructure {
    /// One message per problem, naming the key (and its line).
    static func problems(in data: Data) -> [String] {
        let bytes = [UInt8](data)
        var problems: [String] = []
        // Per open object: the keys seen so far; per open container: whether it is an object.
        var keysStack: [Set<String>] = []
        var isObject: [Bool] = []
        var expectingKey = false
        var lastKey = ""
        var line = 1
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\n"):
                line += 1
                i += 1
            case UInt8(ascii: "{"):
                keysStack.append([])
                isObject.append(true)
                expectingKey = true
                i += 1
            case UInt8(ascii: "["):
                isObject.append(false)
                expectingKey = false
                i += 1
            case UInt8(ascii: "}"):
                keysStack.removeLast()
                isObject.removeLast()
                expectingKey = false
                i += 1
            case UInt8(ascii: "]"):
                isObject.removeLast()
                i += 1
            case UInt8(ascii: ","):
                expectingKey = isObject.last == true
                i += 1
            case UInt8(ascii: ":"):
                expectingKey = false
                i += 1
            case UInt8(ascii: "\""):
                var j = i + 1
                var raw: [UInt8] = []
                while j < bytes.count && bytes[j] != UInt8(ascii: "\"") {
                    if bytes[j] == UInt8(ascii: "\\") {
                        raw.append(bytes[j])
                        j += 1
                    }
                    if j < bytes.count { raw.append(bytes[j]) }
                    j += 1
                }
                if expectingKey && !keysStack.isEmpty {
                    // Decode escapes the way JSON does, so "a" and "\u0061" are the same key.
                    let literal = "\"" + String(decoding: raw, as: UTF8.self) + "\""
                    let key =
                        (try? JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)
                            as? String) ?? String(decoding: raw, as: UTF8.self)
                    if keysStack[keysStack.count - 1].contains(key) {
                        problems.append("duplicate key \"\(printable(key))\" on line \(line): each key may appear once")
                    }
                    keysStack[keysStack.count - 1].insert(key)
                    lastKey = key
                }
                i = j + 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var j = i
                var digits = 0
                var leading = true
                var exponent = false
                while j < bytes.count, "+-0123456789.eE".utf8.contains(bytes[j]) {
                    let c = bytes[j]
                    if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { exponent = true }
                    if !exponent && c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                        if !(leading && c == UInt8(ascii: "0")) {
                            leading = false
                            digits += 1
                        }
                    }
                    j += 1
                }
                if digits > 15 {
                    let literal = String(decoding: bytes[i..<j], as: UTF8.self)
                    problems.append(
                        """
                        \(printable(lastKey)): \(literal.prefix(40)) has more digits than a setting can hold (at \
                        most 15)
                        """
                    )
                }
                i = j
            default: i += 1
            }
        }
        return problems
    }

    /// Text fit for a one-line message: control characters escaped, at most 60 characters.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(60) {
            if scalar.properties.generalCategory == .control {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > 60 ? out + "…" : out
    }
}
