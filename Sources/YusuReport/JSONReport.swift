import Foundation
import YusuDelivery
import YusuSignal

/// The machine-readable score of a call, as schema/score.v1.schema.json specifies (the shape
/// the evaluation contract reads, plus units in every name and evidence for every verdict).
public enum JSONReport {
    /// Version of the document's shape, `schema/score.v<N>.schema.json` in the repository.
    public static let schemaVersion = 1

    struct Document: Encodable {
        var schema_version = JSONReport.schemaVersion
        var file: String
        var duration_s: Double
        var sample_rate_hz: Int
        var channels: Int
        var format: String
        var speakers: Speakers
        var interruptions: [InterruptionDTO]?
        var backchannels: [BackchannelDTO]?
        var holds: [Span]
        var verdicts: [VerdictDTO]
        var score: Double?
        var standard: StandardDTO
        var warnings: [String]

        enum CodingKeys: String, CodingKey {
            case schema_version, file, duration_s, sample_rate_hz, channels, format, speakers, interruptions, backchannels, holds, verdicts, score, standard, warnings
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(schema_version, forKey: .schema_version)
            try c.encode(file, forKey: .file)
            try c.encode(duration_s, forKey: .duration_s)
            try c.encode(sample_rate_hz, forKey: .sample_rate_hz)
            try c.encode(channels, forKey: .channels)
            try c.encode(format, forKey: .format)
            try c.encode(speakers, forKey: .speakers)
            try c.encode(interruptions, forKey: .interruptions)   // null when not measurable
            try c.encode(backchannels, forKey: .backchannels)
            try c.encode(holds, forKey: .holds)
            try c.encode(verdicts, forKey: .verdicts)
            try c.encode(score, forKey: .score)
            try c.encode(standard, forKey: .standard)
            try c.encode(warnings, forKey: .warnings)
        }
    }
    struct Speakers: Encodable {
        var agent: Speaker
        var customer: Speaker?
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(agent, forKey: .agent)
            try c.encode(customer, forKey: .customer)
        }
        enum CodingKeys: String, CodingKey { case agent, customer }
    }
    struct Speaker: Encodable {
        var channel: Int
        var syllables: Int
        var talk_time_s: Double
        var phonation_time_s: Double
        var speech_rate_cpm: Double?
        var articulation_rate_cpm: Double?
        var active_level_dbov: Double?
        var median_f0_hz: Double?
        var utterance_count: Int
        var falling_endings: Int
        var utterances: [UtteranceDTO]
        var filled_pauses: [FillerDTO]
        var pitch_range_st: Double?
        enum CodingKeys: String, CodingKey {
            case channel, syllables, talk_time_s, phonation_time_s, speech_rate_cpm, articulation_rate_cpm, active_level_dbov,
                 median_f0_hz, utterance_count, falling_endings, utterances, filled_pauses, pitch_range_st
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(channel, forKey: .channel)
            try c.encode(syllables, forKey: .syllables)
            try c.encode(talk_time_s, forKey: .talk_time_s)
            try c.encode(phonation_time_s, forKey: .phonation_time_s)
            try c.encode(speech_rate_cpm, forKey: .speech_rate_cpm)
            try c.encode(articulation_rate_cpm, forKey: .articulation_rate_cpm)
            try c.encode(active_level_dbov, forKey: .active_level_dbov)
            try c.encode(median_f0_hz, forKey: .median_f0_hz)
            try c.encode(utterance_count, forKey: .utterance_count)
            try c.encode(falling_endings, forKey: .falling_endings)
            try c.encode(utterances, forKey: .utterances)
            try c.encode(filled_pauses, forKey: .filled_pauses)
            try c.encode(pitch_range_st, forKey: .pitch_range_st)   // null: too little voiced speech
        }
    }
    struct FillerDTO: Encodable { var start_s: Double; var end_s: Double }
    struct UtteranceDTO: Encodable {
        var start_s: Double
        var end_s: Double
        var syllables: Int
        var falling_ending: Bool?
        var final_drop_st: Double?
        var end_vs_median_st: Double?
        enum CodingKeys: String, CodingKey { case start_s, end_s, syllables, falling_ending, final_drop_st, end_vs_median_st }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(start_s, forKey: .start_s)
            try c.encode(end_s, forKey: .end_s)
            try c.encode(syllables, forKey: .syllables)
            try c.encode(falling_ending, forKey: .falling_ending)   // null: no voiced ending to measure
            try c.encode(final_drop_st, forKey: .final_drop_st)
            try c.encode(end_vs_median_st, forKey: .end_vs_median_st)
        }
    }
    struct InterruptionDTO: Encodable { var by: String; var at_s: Double; var overlap_s: Double }
    struct BackchannelDTO: Encodable { var by: String; var at_s: Double; var duration_s: Double }
    struct Span: Encodable { var start_s: Double; var end_s: Double; var duration_s: Double }
    struct EvidenceDTO: Encodable { var start_s: Double; var end_s: Double; var note: String }
    struct VerdictDTO: Encodable {
        var rule: String
        var name_zh: String
        var name_en: String
        var passed: Bool?
        var value: Double?
        var unit: String
        var limit: LimitDTO
        var evidence: [EvidenceDTO]
        var reason: String?
        enum CodingKeys: String, CodingKey { case rule, name_zh, name_en, passed, value, unit, limit, evidence, reason }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(rule, forKey: .rule)
            try c.encode(name_zh, forKey: .name_zh)
            try c.encode(name_en, forKey: .name_en)
            try c.encode(passed, forKey: .passed)
            try c.encode(value, forKey: .value)
            try c.encode(unit, forKey: .unit)
            try c.encode(limit, forKey: .limit)
            try c.encode(evidence, forKey: .evidence)
            try c.encodeIfPresent(reason, forKey: .reason)
        }
    }
    struct LimitDTO: Encodable {
        var min: Double?
        var max: Double?
    }
    struct StandardDTO: Encodable { var name: String; var version: Int }

    static func r(_ x: Double, _ digits: Double = 1000) -> Double { (x * digits).rounded() / digits }
    static func r(_ x: Double?, _ digits: Double = 1000) -> Double? { x.map { r($0, digits) } }

    /// - Parameter endings: the falling-endings verdict's judgement of each utterance (the
    ///   agent's); nil for a party no rule judges.
    static func speaker(_ s: SpeakerMeasures, endings: [Bool?]?) -> Speaker {
        Speaker(
            channel: s.channel, syllables: s.syllables, talk_time_s: r(s.talkTimeSeconds), phonation_time_s: r(s.phonationTimeSeconds),
            speech_rate_cpm: r(s.speechRateCharactersPerMinute, 10), articulation_rate_cpm: r(s.articulationRateCharactersPerMinute, 10),
            active_level_dbov: r(s.activeLevelDbov, 100), median_f0_hz: r(s.medianF0Hz, 10),
            utterance_count: s.utterances.count, falling_endings: (endings ?? []).filter { $0 == true }.count,
            utterances: s.utterances.enumerated().map { k, u in
                UtteranceDTO(start_s: r(u.startSeconds), end_s: r(u.endSeconds), syllables: u.syllables,
                             falling_ending: endings.flatMap { k < $0.count ? $0[k] : nil }, final_drop_st: r(u.finalDropSemitones, 100),
                             end_vs_median_st: r(u.endRelativeToMedianSemitones, 100))
            },
            filled_pauses: s.filledPauses.map { FillerDTO(start_s: r($0.startSeconds), end_s: r($0.endSeconds)) },
            pitch_range_st: r(s.pitchRangeSemitones, 100))
    }

    /// Renders a scored call as pretty-printed JSON.
    /// - Throws: `EncodingError` when a measure is not a finite number.
    /// - Parameter pretty: indented (score's output) or one line (live's summary line).
    public static func render(_ call: CallMeasures, _ card: Scorecard, pretty: Bool = true) throws -> String {
        let document = Document(
            file: (call.file as NSString).lastPathComponent, duration_s: r(call.durationSeconds), sample_rate_hz: call.sampleRateHz,
            channels: call.channels, format: call.formatName,
            speakers: Speakers(agent: speaker(call.agent, endings: card.verdict(FallingEndingsRule().id)?.utteranceJudgements),
                               customer: call.customer.map { speaker($0, endings: nil) }),
            interruptions: call.interruptions?.map { InterruptionDTO(by: $0.by.rawValue, at_s: r($0.atSeconds), overlap_s: r($0.overlapSeconds)) },
            backchannels: call.backchannels?.map { BackchannelDTO(by: $0.by.rawValue, at_s: r($0.atSeconds), duration_s: r($0.durationSeconds)) },
            holds: call.holds.map { Span(start_s: r($0.startSeconds), end_s: r($0.endSeconds), duration_s: r($0.durationSeconds)) },
            verdicts: card.verdicts.map { v in
                let limit: LimitDTO
                switch v.limit {
                case .range(let lo, let hi): limit = LimitDTO(min: lo, max: hi)
                case .atMost(let hi): limit = LimitDTO(min: nil, max: hi)
                }
                return VerdictDTO(rule: v.rule, name_zh: v.chineseName, name_en: v.englishName, passed: v.passed,
                                  value: r(v.value), unit: v.unit, limit: limit,
                                  evidence: v.evidence.map { EvidenceDTO(start_s: r($0.startSeconds), end_s: r($0.endSeconds), note: $0.note) },
                                  reason: v.reason)
            },
            score: r(card.score, 10), standard: StandardDTO(name: card.standard.name, version: card.standard.version),
            warnings: call.warnings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // A value JSON cannot carry (NaN, infinity) is a bug to report, never an empty `{}`.
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
