import Foundation
import YusuDelivery

/// `yusu live`'s lines as JSON Lines (schema/live.v1.schema.json): one object per line,
/// `type` and `emitted_at_s` first, then the line's fields in order.
public enum LiveJSON {
    public static let schemaVersion = 1

    public static func render(_ line: LiveLine) -> String {
        var out = "{\"type\":" + quoted(line.type) + ",\"emitted_at_s\":" + number(line.emittedAtSeconds)
        for (key, value) in line.fields { out += "," + quoted(key) + ":" + render(value) }
        return out + "}"
    }

    /// The last line: the score document for the whole call, as `score --format json` gives
    /// it, written to `sink` in pieces (a long call's document never sits in one string),
    /// ending with a newline.
    public static func writeSummary(_ call: CallMeasures, _ card: Scorecard, emittedAtSeconds: Double, to sink: @escaping (String) -> Void) throws {
        sink("{\"type\":\"summary\",\"emitted_at_s\":" + number((emittedAtSeconds * 1000).rounded() / 1000) + ",\"document\":")
        try JSONReport.write(call, card, pretty: false, to: sink)
        sink("}\n")
    }

    static func render(_ v: LiveValue) -> String {
        switch v {
        case .number(let x): return number(x)
        case .integer(let i): return String(i)
        case .text(let s): return quoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .object(let fields): return "{" + fields.map { quoted($0.0) + ":" + render($0.1) }.joined(separator: ",") + "}"
        }
    }

    /// A finite number as JSON writes it (no exponent for the magnitudes lines carry); a
    /// non-finite one, which JSON cannot carry, as null.
    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return String(x)
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
