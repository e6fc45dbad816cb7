import Foundation

/// A JSON value as the API writes it: keys sorted, NaN and infinities as null, absent
/// values as null (so every documented field is always there).
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
        guard let any = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return .null }
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

    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    public func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .boolean(let b): out += b ? "true" : "false"
        case .whole(let i): out += String(i)
        case .num(let d): out += d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) + ".0" : "\(d)") : "null"
        case .str(let s): Self.quote(s, into: &out)
        case .arr(let a):
            out += "["
            for (k, v) in a.enumerated() { if k > 0 { out += "," }; v.write(into: &out) }
            out += "]"
        case .obj(let o):
            out += "{"
            for (k, key) in o.keys.sorted().enumerated() {
                if k > 0 { out += "," }
                Self.quote(key, into: &out)
                out += ":"
                o[key]!.write(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // Also < > & escaped, so JSON is safe inside a page's script.
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }
}
