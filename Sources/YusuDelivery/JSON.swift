import Foundation

/// An optional written as `null` when absent. JSONEncoder leaves an absent optional out,
/// and Yusu's documents always carry every documented field, so a document's optional
/// fields are declared `@Null var x: Double?` instead of a hand-written `encode(to:)`.
@propertyWrapper
public struct Null<Value: Encodable & Sendable>: Encodable, Sendable {
    public var wrappedValue: Value?
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(wrappedValue) } else { try c.encodeNil() }
    }
}

/// The one JSON value of Yusu's hand-written documents: the API's (keys sorted, NaN and
/// infinities as null, absent values as null, so every documented field is always there;
/// < > & escaped, so a document is also safe inside a page) and live lines' (`fields`: keys
/// in their order). Numbers and strings are written by `JSONText`, the one place for both.
public enum JSONValue: Sendable, Equatable {
    case null
    case boolean(Bool)
    case num(Double)
    case whole(Int)
    case str(String)
    case arr([JSONValue])
    case obj([String: JSONValue])
    /// An object whose keys keep their order.
    case fields([(String, JSONValue)])

    /// A number, whole or not (nil for anything else).
    public var double: Double? {
        switch self {
        case .num(let x): return x
        case .whole(let i): return Double(i)
        default: return nil
        }
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.boolean(let x), .boolean(let y)): return x == y
        case (.num(let x), .num(let y)): return x == y
        case (.whole(let x), .whole(let y)): return x == y
        case (.str(let x), .str(let y)): return x == y
        case (.arr(let x), .arr(let y)): return x == y
        case (.obj(let x), .obj(let y)): return x == y
        case (.fields(let x), .fields(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public static func string(_ s: String?) -> JSONValue { s.map { .str($0) } ?? .null }
    public static func number(_ d: Double?) -> JSONValue { d.map { $0.isFinite ? .num($0) : .null } ?? .null }
    public static func int(_ i: Int?) -> JSONValue { i.map { .whole($0) } ?? .null }
    public static func bool(_ b: Bool?) -> JSONValue { b.map { .boolean($0) } ?? .null }
    public static func array(_ a: [JSONValue]) -> JSONValue { .arr(a) }
    public static func object(_ o: [String: JSONValue]) -> JSONValue { .obj(o) }

    /// A stored JSON text (verdicts, warnings, metadata); null when it is not JSON.
    public static func parse(_ text: String) -> JSONValue {
        guard let any = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return .null
        }
        return from(any)
    }

    static func from(_ any: Any) -> JSONValue {
        switch any {
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" { return .boolean(n.boolValue) }
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 9e15, !"\(n)".contains(".") { return .whole(n.intValue) }
            return .number(d)
        case let s as String: return .str(s)
        case let a as [Any]: return .arr(a.map(from))
        case let o as [String: Any]: return .obj(o.mapValues(from))
        default: return .null
        }
    }

    public var text: String { text(escapingMarkup: true) }

    public func text(escapingMarkup: Bool) -> String {
        var out: [UInt8] = []
        write(into: &out, escapingMarkup: escapingMarkup)
        return String(decoding: out, as: UTF8.self)
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(into: &out)
        return out
    }

    public func write(into out: inout [UInt8], escapingMarkup: Bool = true) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .boolean(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .whole(let i): out.append(contentsOf: String(i).utf8)
        case .num(let d): out.append(contentsOf: JSONText.number(d).utf8)
        case .str(let s): JSONText.appendQuoted(s, to: &out, escapingMarkup: escapingMarkup)
        case .arr(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out, escapingMarkup: escapingMarkup)
            }
            out.append(UInt8(ascii: "]"))
        case .obj(let o):
            out.append(UInt8(ascii: "{"))
            for (k, key) in o.keys.sorted().enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(key, to: &out, escapingMarkup: escapingMarkup)
                out.append(UInt8(ascii: ":"))
                o[key]!.write(into: &out, escapingMarkup: escapingMarkup)
            }
            out.append(UInt8(ascii: "}"))
        case .fields(let pairs):
            out.append(UInt8(ascii: "{"))
            for (k, (key, value)) in pairs.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(key, to: &out, escapingMarkup: escapingMarkup)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out, escapingMarkup: escapingMarkup)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// A JSON string literal, written by hand where `JSONEncoder` would cost more than the
/// line it is in (live lines, the service's answers): `"`, `\`, and control characters
/// escaped; with `escapingMarkup`, also `<`, `>`, `&`, U+2028 and U+2029, so that the
/// text is also safe inside an HTML page's script.
public enum JSONText {
    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func appendQuoted(_ s: String, to out: inout [UInt8], escapingMarkup: Bool = false) {
        out.append(UInt8(ascii: "\""))
        var utf8 = s.utf8.makeIterator()
        while let b = utf8.next() {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case UInt8(ascii: "\n"): out.append(contentsOf: [92, UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [92, UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20: unicodeEscape(b, into: &out)
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                // (A `where` clause would guard only the last pattern of the three.)
                if escapingMarkup { unicodeEscape(b, into: &out) } else { out.append(b) }
            case 0xE2 where escapingMarkup:
                // U+2028 and U+2029 (E2 80 A8/A9) end a line in JavaScript.
                let b1 = utf8.next()
                let b2 = utf8.next()
                if b1 == 0x80, let b2, b2 == 0xA8 || b2 == 0xA9 {
                    out.append(contentsOf: Array("\\u202".utf8))
                    out.append(b2 == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                } else {
                    out.append(b)
                    if let b1 { out.append(b1) }
                    if let b2 { out.append(b2) }
                }
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A number as every Yusu document writes it, the way `JSONEncoder` does for the score
    /// document: a whole value without a fraction ("3", not "3.0"), others in their shortest
    /// exact form; a non-finite one, which JSON cannot carry, as null.
    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return String(x)
    }

    static func unicodeEscape(_ b: UInt8, into out: inout [UInt8]) {
        out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
    }
}
