import Foundation
import YusuReport

/// A JSON value as the API writes it: keys sorted, NaN and infinities as null, absent
/// values as null (so every documented field is always there). Written as UTF-8 bytes,
/// with < > & escaped so that a document is also safe inside a page.
public enum JSONValue: Sendable, Equatable {
    case null
    case boolean(Bool)
    case num(Double)
    case whole(Int)
    case str(String)
    case arr([JSONValue])
    case obj([String: JSONValue])

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

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(into: &out)
        return out
    }

    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .boolean(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .whole(let i): out.append(contentsOf: String(i).utf8)
        case .num(let d): out.append(contentsOf: JSONText.number(d).utf8)
        case .str(let s): Self.quote(s, into: &out)
        case .arr(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .obj(let o):
            out.append(UInt8(ascii: "{"))
            for (k, key) in o.keys.sorted().enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                Self.quote(key, into: &out)
                out.append(UInt8(ascii: ":"))
                o[key]!.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func quote(_ s: String, into out: inout [UInt8]) {
        JSONText.appendQuoted(s, to: &out, escapingMarkup: true)
    }
}
