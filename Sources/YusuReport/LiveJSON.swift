import Foundation
import YusuDelivery

/// `yusu live`'s lines as JSON Lines (schema/live.v1.schema.json): one object per line,
/// `type` and `emitted_at_s` first, then an alert's `kind`, then the line's fields in order.
public enum LiveJSON {
    public static let schemaVersion = 1

    public static func render(_ line: LiveLine) -> String {
        JSONValue.fields(line.writtenFields).text(escapingMarkup: false)
    }

    /// The last line: the score document for the whole call, as `score --format json` gives
    /// it, written to `sink` in pieces (a long call's document never sits in one string),
    /// ending with a newline.
    public static func writeSummary(
        _ call: CallMeasures, _ card: Scorecard, emittedAtSeconds: Double, to sink: @escaping (String) -> Void
    ) throws {
        sink(
            "{\"type\":\"summary\",\"emitted_at_s\":"
                + JSONText.number((emittedAtSeconds * 1000).rounded() / 1000) + ",\"document\":")
        try JSONReport.write(call, card, pretty: false, to: sink)
        sink("}\n")
    }
}
