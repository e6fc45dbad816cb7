import Foundation
import YusuDelivery

/// A value for an SQL parameter, the same for SQLite and PostgreSQL.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    init(_ x: Int?) { self = x.map { .integer(Int64($0)) } ?? .null }
    init(_ x: Double?) { self = x.map { .real($0) } ?? .null }
    init(_ x: String?) { self = x.map { .text($0) } ?? .null }
    init(_ x: Bool?) { self = x.map { .integer($0 ? 1 : 0) } ?? .null }
}

/// One scored (or failed) file as the rows both engines write: the `calls` row, its
/// verdicts, utterances and events. Written once, here, so that SQLite and PostgreSQL
/// store the same thing.
public struct CallRows: Sendable {
    /// `calls` columns and values (without `id`), sorted by column name.
    public var call: [(String, SQLValue)]
    /// (rule, passed, value, weight)
    public var verdicts: [(String, SQLValue, SQLValue, SQLValue)]
    /// (party, start_s, end_s, syllables, falling_ending, final_drop_st, end_vs_median_st)
    public var utterances: [(String, Double, Double, Int, SQLValue, SQLValue, SQLValue)]
    /// (kind, party, start_s, end_s, detail)
    public var events: [(String, SQLValue, Double, Double, SQLValue)]
}

extension CallRecord {
    public func rows(scoredAt: String) throws -> CallRows {
        var values: [String: SQLValue] = [
            "path": .text(item.path), "content_hash": .text(contentHash), "standard_key": .text(standard.key),
            "standard_name": .text(standard.name), "standard_version": .integer(Int64(standard.version)),
            "run_id": .integer(runId), "scored_at": .text(scoredAt),
            "status": .text(outcome.isScored ? "scored" : "failed"),
            "agent_id": .text(item.agentId), "call_id": .text(item.callId), "call_date": .text(item.callDate),
            "agent_channel": .integer(Int64(item.agentChannel)),
            "metadata_json": .text(ResultsDatabase.json(item.metadata)),
            "analysis_s": .real(analysisSeconds), "analysis_version": .text(analysisVersion),
        ]
        var verdicts: [(String, SQLValue, SQLValue, SQLValue)] = []
        var utterances: [(String, Double, Double, Int, SQLValue, SQLValue, SQLValue)] = []
        var events: [(String, SQLValue, Double, Double, SQLValue)] = []
        switch outcome {
        case .failed(let reason):
            values["failure_reason"] = .text(reason)
        case .scored(let m, let card):
            let a = m.agent
            values["duration_s"] = SQLValue(m.durationSeconds)
            values["sample_rate_hz"] = SQLValue(m.sampleRateHz)
            values["channels"] = SQLValue(m.channels)
            values["format"] = SQLValue(m.formatName)
            values["agent_syllables"] = SQLValue(a.syllables)
            values["agent_talk_time_s"] = SQLValue(a.talkTimeSeconds)
            values["agent_phonation_time_s"] = SQLValue(a.phonationTimeSeconds)
            values["agent_speech_rate_cpm"] = SQLValue(a.speechRateCharactersPerMinute)
            values["agent_articulation_rate_cpm"] = SQLValue(a.articulationRateCharactersPerMinute)
            values["agent_level_dbov"] = SQLValue(a.activeLevelDbov)
            values["agent_median_f0_hz"] = SQLValue(a.medianF0Hz)
            values["agent_utterances"] = SQLValue(a.utterances.count)
            // What the rules decided, read from their verdicts: nothing is judged again here.
            let endings = card.verdict(FallingEndingsRule().id)
            let long = card.verdict(LongUtterancesRule().id)
            let judged = endings?.utteranceJudgements ?? []
            values["agent_falling_endings"] = SQLValue(endings?.flaggedUtterances.count)
            values["agent_measured_endings"] = SQLValue(endings?.judgedUtterances)
            values["customer_syllables"] = SQLValue(m.customer?.syllables)
            values["customer_speech_rate_cpm"] = SQLValue(m.customer?.speechRateCharactersPerMinute)
            values["customer_level_dbov"] = SQLValue(m.customer?.activeLevelDbov)
            values["agent_interruptions"] = SQLValue(m.interruptions(by: .agent)?.count)
            values["customer_interruptions"] = SQLValue(m.interruptions(by: .customer)?.count)
            values["backchannels"] = SQLValue(m.backchannels?.count)
            values["holds"] = SQLValue(m.holds.count)
            values["longest_hold_s"] = SQLValue(m.holds.map(\.durationSeconds).max() ?? 0)
            values["long_utterances"] = SQLValue(long?.flaggedUtterances.count)
            values["score"] = SQLValue(card.score)
            values["verdicts_json"] = .text(try ResultsDatabase.verdictsJSON(card))
            values["warnings_json"] = .text(ResultsDatabase.json(m.warnings))
            verdicts = card.verdicts.map {
                ($0.rule, SQLValue($0.passed), SQLValue($0.value), SQLValue(card.standard.weights[$0.rule] ?? 0))
            }
            let parties =
                [("agent", a.utterances, judged)] + (m.customer.map { [("customer", $0.utterances, [Bool?]())] } ?? [])
            for (party, list, marks) in parties {
                for (k, u) in list.enumerated() {
                    utterances.append(
                        (
                            party, u.startSeconds, u.endSeconds, u.syllables,
                            SQLValue(k < marks.count ? marks[k] : nil),
                            SQLValue(u.finalDropSemitones), SQLValue(u.endRelativeToMedianSemitones)
                        ))
                }
            }
            for i in m.interruptions ?? [] {
                events.append(
                    ("interruption", .text(i.by.rawValue), i.atSeconds, i.atSeconds + i.overlapSeconds, .null))
            }
            for b in m.backchannels ?? [] {
                events.append(
                    ("backchannel", .text(b.by.rawValue), b.atSeconds, b.atSeconds + b.durationSeconds, .null))
            }
            for h in m.holds { events.append(("hold", .null, h.startSeconds, h.endSeconds, .null)) }
            for k in endings?.flaggedUtterances ?? [] {
                let u = a.utterances[k]
                let s = u.endingSpan ?? u.span
                events.append(
                    (
                        "falling_ending", .text("agent"), s.startSeconds, s.endSeconds,
                        .text(String(format: "%.1f st below the register", -(u.endRelativeToMedianSemitones ?? 0)))
                    ))
            }
            for k in long?.flaggedUtterances ?? [] {
                let u = a.utterances[k]
                events.append(
                    ("long_utterance", .text("agent"), u.startSeconds, u.endSeconds, .text("\(u.syllables) syllables")))
            }
            for f in a.filledPauses {
                events.append(("filled_pause", .text("agent"), f.startSeconds, f.endSeconds, .null))
            }
        }
        return CallRows(
            call: values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            verdicts: verdicts, utterances: utterances, events: events)
    }
}
