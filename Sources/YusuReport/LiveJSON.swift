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
    public static func writeSummary(
        _ call: CallMeasures, _ card: Scorecard, emittedAtSeconds: Double, to sink: @escaping (String) -> Void
    ) throws {
        sink(
            "{\"type\":\"summary\",\"emitted_at_s\":" + number((emittedAtSeconds * 1000).rounded() / 1000)
                + ",\"document\":")
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
        case .object(let fields):
            return "{" + fields.map { quoted($0.0) + ":" + render($0.1) }.joined(separator: ",") + "}"
        }
    }

    static func number(_ x: Double) -> String { JSONText.number(x) }

    static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        JSONText.appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
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
