import Foundation
import YusuDelivery
import YusuSignal

/// The machine-readable score of a call, as schema/score.v1.schema.json specifies (the shape
/// the evaluation contract reads, plus units in every name and evidence for every verdict).
public enum JSONReport {
    /// Version of the document's shape, `schema/score.v<N>.schema.json` in the repository.
    public static let schemaVersion = 1

    struct FillerDTO: Encodable {
        var start_s: Double
        var end_s: Double
    }
    struct UtteranceDTO: Encodable {
        var start_s: Double
        var end_s: Double
        var syllables: Int
        /// null: no voiced ending to measure.
        @Null var falling_ending: Bool?
        @Null var final_drop_st: Double?
        @Null var end_vs_median_st: Double?
    }
    struct InterruptionDTO: Encodable {
        var by: String
        var at_s: Double
        var overlap_s: Double
    }
    struct BackchannelDTO: Encodable {
        var by: String
        var at_s: Double
        var duration_s: Double
    }
    struct Span: Encodable {
        var start_s: Double
        var end_s: Double
        var duration_s: Double
    }
    /// A verdict's evidence as every JSON document writes it (score, night summary).
    public struct EvidenceDTO: Encodable, Sendable {
        public var start_s: Double
        public var end_s: Double
        public var note: String
        public init(start_s: Double, end_s: Double, note: String) {
            (self.start_s, self.end_s, self.note) = (start_s, end_s, note)
        }
    }
    struct LimitDTO: Encodable {
        var min: Double?
        var max: Double?
    }
    struct StandardDTO: Encodable {
        var name: String
        var version: Int
    }

    static func r(_ x: Double, _ digits: Double = 1000) -> Double { (x * digits).rounded() / digits }
    static func r(_ x: Double?, _ digits: Double = 1000) -> Double? { x.map { r($0, digits) } }

    /// Renders a scored call as JSON (see `write`), in one string.
    /// - Parameter pretty: indented (score's output) or one line (live's summary line).
    public static func render(_ call: CallMeasures, _ card: Scorecard, pretty: Bool = true) throws -> String {
        var out = ""
        try write(call, card, pretty: pretty) { out += $0 }
        return out
    }

    /// Writes a scored call as JSON to `sink`, in pieces of about 64 KB: the document of an
    /// hours-long call never sits in memory whole (its utterances, fillers and evidence are
    /// written one by one). Keys are sorted, as schema/score.v1 lists them.
    /// - Throws: `EncodingError` when a measure is not a finite number (a bug to report,
    ///   never an empty `{}`); what was written before it is incomplete.
    public static func write(
        _ call: CallMeasures, _ card: Scorecard, pretty: Bool = true, to sink: @escaping (String) -> Void
    ) throws {
        let w = JSONStreamWriter(pretty: pretty, sink: sink)
        try w.object {
            try w.field("backchannels") {
                try w.optionalArray(call.backchannels) {
                    BackchannelDTO(by: $0.by.rawValue, at_s: r($0.atSeconds), duration_s: r($0.durationSeconds))
                }
            }
            try w.field("channels") { try w.value(call.channels) }
            try w.field("duration_s") { try w.value(r(call.durationSeconds)) }
            try w.field("file") { try w.value((call.file as NSString).lastPathComponent) }
            try w.field("format") { try w.value(call.formatName) }
            try w.field("holds") {
                try w.array(call.holds) {
                    Span(start_s: r($0.startSeconds), end_s: r($0.endSeconds), duration_s: r($0.durationSeconds))
                }
            }
            // null when not measurable (mono).
            try w.field("interruptions") {
                try w.optionalArray(call.interruptions) {
                    InterruptionDTO(by: $0.by.rawValue, at_s: r($0.atSeconds), overlap_s: r($0.overlapSeconds))
                }
            }
            try w.field("sample_rate_hz") { try w.value(call.sampleRateHz) }
            try w.field("schema_version") { try w.value(schemaVersion) }
            try w.field("score") { try w.value(Scorecard.rounded(card.score)) }
            try w.field("speakers") {
                try w.object {
                    try w.field("agent") {
                        try speaker(call.agent, endings: card.verdict(FallingEndingsRule().id)?.utteranceJudgements, w)
                    }
                    try w.field("customer") {
                        if let customer = call.customer {
                            try speaker(customer, endings: nil, w)
                        } else {
                            try w.value(Double?.none)
                        }
                    }
                }
            }
            try w.field("standard") {
                try w.value(StandardDTO(name: card.standard.name, version: card.standard.version))
            }
            try w.field("verdicts") {
                try w.array {
                    for v in card.verdicts { try w.element { try verdict(v, w) } }
                }
            }
            try w.field("warnings") { try w.value(call.warnings) }
        }
        w.flush()
    }

    /// A party's measures; `endings`: the falling-endings verdict's judgement of each
    /// utterance (the agent's); nil for a party no rule judges.
    static func speaker(_ s: SpeakerMeasures, endings: [Bool?]?, _ w: JSONStreamWriter) throws {
        try w.object {
            try w.field("active_level_dbov") { try w.value(r(s.activeLevelDbov, 100)) }
            try w.field("articulation_rate_cpm") { try w.value(r(s.articulationRateCharactersPerMinute, 10)) }
            try w.field("articulation_rate_cpm_90") {
                try w.value(s.articulationRateInterval.map { [r($0.low, 10), r($0.high, 10)] })
            }
            try w.field("channel") { try w.value(s.channel) }
            try w.field("falling_endings") { try w.value((endings ?? []).filter { $0 == true }.count) }
            try w.field("filled_pauses") {
                try w.array(s.filledPauses) { FillerDTO(start_s: r($0.startSeconds), end_s: r($0.endSeconds)) }
            }
            try w.field("median_f0_hz") { try w.value(r(s.medianF0Hz, 10)) }
            try w.field("phonation_time_s") { try w.value(r(s.phonationTimeSeconds)) }
            // null: too little voiced speech.
            try w.field("pitch_range_st") { try w.value(r(s.pitchRangeSemitones, 100)) }
            try w.field("speech_rate_cpm") { try w.value(r(s.speechRateCharactersPerMinute, 10)) }
            try w.field("speech_rate_cpm_90") {
                try w.value(s.speechRateInterval.map { [r($0.low, 10), r($0.high, 10)] })
            }
            try w.field("syllables") { try w.value(s.syllables) }
            try w.field("syllables_90") {
                try w.value([r(s.syllablesInterval.low, 10), r(s.syllablesInterval.high, 10)])
            }
            try w.field("talk_time_s") { try w.value(r(s.talkTimeSeconds)) }
            try w.field("utterance_count") { try w.value(s.utterances.count) }
            try w.field("utterances") {
                try w.array {
                    for (k, u) in s.utterances.enumerated() {
                        try w.element {
                            try w.value(
                                UtteranceDTO(
                                    start_s: r(u.startSeconds), end_s: r(u.endSeconds), syllables: u.syllables,
                                    falling_ending: endings.flatMap { k < $0.count ? $0[k] : nil },
                                    final_drop_st: r(u.finalDropSemitones, 100),
                                    end_vs_median_st: r(u.endRelativeToMedianSemitones, 100)))
                        }
                    }
                }
            }
        }
    }

    static func verdict(_ v: Verdict, _ w: JSONStreamWriter) throws {
        let limit: LimitDTO
        switch v.limit {
        case .range(let lo, let hi): limit = LimitDTO(min: lo, max: hi)
        case .atMost(let hi): limit = LimitDTO(min: nil, max: hi)
        }
        try w.object {
            try w.field("evidence") {
                try w.array(v.evidence) {
                    EvidenceDTO(start_s: r($0.startSeconds), end_s: r($0.endSeconds), note: $0.note)
                }
            }
            try w.field("limit") { try w.value(limit) }
            try w.field("name_en") { try w.value(v.englishName) }
            try w.field("name_zh") { try w.value(v.chineseName) }
            try w.field("near_limit") { try w.value(v.nearLimit) }
            try w.field("passed") { try w.value(v.passed) }
            if let reason = v.reason { try w.field("reason") { try w.value(reason) } }
            try w.field("rule") { try w.value(v.rule) }
            try w.field("unit") { try w.value(v.unit) }
            try w.field("value") { try w.value(r(v.value)) }
        }
    }
}

/// JSON written as it is produced: containers opened and closed by the caller, small values
/// encoded by `JSONEncoder` (so numbers and strings read exactly as elsewhere), the text
/// handed to `sink` in pieces of about 64 KB. Pretty output indents by two spaces, as
/// `JSONEncoder`'s does.
final class JSONStreamWriter {
    let pretty: Bool
    private let sink: (String) -> Void
    private var buffer = ""
    private var depth = 0
    /// Per open container: whether it holds an element yet.
    private var filled: [Bool] = []
    private let encoder = JSONEncoder()

    init(pretty: Bool, sink: @escaping (String) -> Void) {
        self.pretty = pretty
        self.sink = sink
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        buffer.reserveCapacity(1 << 16)
    }

    func object(_ body: () throws -> Void) throws {
        open("{")
        try body()
        close("}")
    }
    func array(_ body: () throws -> Void) throws {
        open("[")
        try body()
        close("]")
    }

    /// An array of `items`, each written as `transform` makes it.
    func array<T, D: Encodable>(_ items: [T], _ transform: (T) -> D) throws {
        try array { for item in items { try element { try value(transform(item)) } } }
    }

    /// `null` for nil, else the array.
    func optionalArray<T, D: Encodable>(_ items: [T]?, _ transform: (T) -> D) throws {
        if let items { try array(items, transform) } else { try value(Double?.none) }
    }

    func field(_ key: String, _ body: () throws -> Void) throws {
        separate()
        buffer += "\"" + key + (pretty ? "\" : " : "\":")
        try body()
    }

    func element(_ body: () throws -> Void) throws {
        separate()
        try body()
    }

    func value<T: Encodable>(_ v: T) throws {
        let text = String(decoding: try encoder.encode(v), as: UTF8.self)
        if pretty && depth > 0 && text.contains("\n") {
            buffer += text.replacingOccurrences(of: "\n", with: "\n" + String(repeating: "  ", count: depth))
        } else {
            buffer += text
        }
        if buffer.utf8.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func open(_ bracket: String) {
        buffer += bracket
        depth += 1
        filled.append(false)
    }

    private func close(_ bracket: String) {
        depth -= 1
        let had = filled.removeLast()
        if pretty && had { buffer += "\n" + String(repeating: "  ", count: depth) }
        buffer += bracket
    }

    private func separate() {
        if filled[filled.count - 1] { buffer += "," }
        filled[filled.count - 1] = true
        if pretty { buffer += "\n" + String(repeating: "  ", count: depth) }
    }
}
