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

    static func render(_ v: JSONValue) -> String { v.text(escapingMarkup: false) }

    static func number(_ x: Double) -> String { JSONText.number(x) }

    static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        JSONText.appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
