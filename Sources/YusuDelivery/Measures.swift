import YusuSignal

/// Who is speaking: the call-centre agent or the customer.
public enum Party: String, Sendable, Codable, CaseIterable {
    case agent, customer
    public var other: Party { self == .agent ? .customer : .agent }
    public var chineseName: String { self == .agent ? "坐席" : "客户" }
}

/// One speaker's speech between pauses.
public struct Utterance: Sendable, Equatable, Codable {
    public var startSeconds: Double
    public var endSeconds: Double
    /// Syllable nuclei inside (Mandarin: characters, 字), filled pauses counted as one each.
    public var syllables: Int
    /// The final pitch movement: semitones from the high point to the end of the last voiced
    /// stretch (positive = falling); nil when the utterance has no voiced ending to measure,
    /// or is an acknowledgement (under `DeliveryConfig.backchannelMaximumSeconds`).
    public var finalDropSemitones: Double?
    /// Where the ending finished relative to the speaker's register (median F0 of what the
    /// speaker had said by then), semitones.
    public var endRelativeToMedianSemitones: Double?
    /// The last voiced stretch the ending was measured on.
    public var endingSpan: TimeSpan?

    public var span: TimeSpan { TimeSpan(startSeconds: startSeconds, endSeconds: endSeconds) }
    public var durationSeconds: Double { endSeconds - startSeconds }
    /// Whether the ending was measured (a voiced ending of a sentence).
    public var hasEnding: Bool { finalDropSemitones != nil && endRelativeToMedianSemitones != nil }
    /// The ending as a person is shown it (the tracker's octave jump taken out); nil when
    /// the ending was not measured.
    public var shownEnding: ShownEnding? {
        guard let drop = finalDropSemitones, let end = endRelativeToMedianSemitones else { return nil }
        return ShownEnding(dropSemitones: drop, endRelativeToMedianSemitones: end)
    }
}

/// Everything measured of one party.
public struct SpeakerMeasures: Sendable, Equatable {
    public var party: Party
    public var channel: Int
    public var syllables: Int
    /// Sum of turns (pauses under 1.5 s bridged unless the other party starts in them), s.
    public var talkTimeSeconds: Double
    /// Speech with pauses of 0.25 s or more taken out, s.
    public var phonationTimeSeconds: Double
    /// Syllables per minute of talk time (字/分钟); nil without talk time.
    public var speechRateCharactersPerMinute: Double?
    /// Syllables per minute of phonation time; nil without phonation time.
    public var articulationRateCharactersPerMinute: Double?
    /// ITU-T P.56 active speech level, dBov; nil when the party never speaks.
    public var activeLevelDbov: Double?
    /// The speaker's median F0 over voiced speech, Hz; nil when nothing voiced.
    public var medianF0Hz: Double?
    public var utterances: [Utterance]
    public var turns: [TimeSpan]
    /// Filled pauses (嗯, 呃/啊 used to hesitate), `FilledPauseDetector`.
    public var filledPauses: [TimeSpan] = []
    /// Pitch range over the call: semitones between the 10th and 90th percentile of voiced
    /// F0; nil with under a second of voiced speech.
    public var pitchRangeSemitones: Double?

    /// 90% intervals of the count and the rates (`MeasureUncertainty`).
    public var syllablesInterval: Interval { MeasureUncertainty.syllableInterval(syllables) }
    public var speechRateInterval: Interval? {
        speechRateCharactersPerMinute.map {
            MeasureUncertainty.interval($0, syllables: syllables, systematic: MeasureUncertainty.systematicSpeechRate)
        }
    }
    public var articulationRateInterval: Interval? {
        articulationRateCharactersPerMinute.map {
            MeasureUncertainty.interval(
                $0, syllables: syllables, systematic: MeasureUncertainty.systematicArticulationRate)
        }
    }
}

/// One party starting to speak over the other.
public struct Interruption: Sendable, Equatable, Codable {
    public var by: Party
    /// When the newcomer started, s.
    public var atSeconds: Double
    /// How long both spoke at once, s.
    public var overlapSeconds: Double
}

/// A short acknowledgement (嗯, 对, 好的) inside the other party's speech.
public struct Backchannel: Sendable, Equatable, Codable {
    public var by: Party
    public var atSeconds: Double
    public var durationSeconds: Double
}

/// Everything measured of a call.
public struct CallMeasures: Sendable, Equatable {
    public var file: String
    public var durationSeconds: Double
    public var sampleRateHz: Int
    public var channels: Int
    public var formatName: String
    public var agent: SpeakerMeasures
    /// nil for mono recordings.
    public var customer: SpeakerMeasures?
    /// nil when not measurable (mono).
    public var interruptions: [Interruption]?
    /// nil when not measurable (mono).
    public var backchannels: [Backchannel]?
    /// Stretches where neither party speaks, at least `minimumHoldSeconds`.
    public var holds: [TimeSpan]
    /// The shortest silence counted as a hold, seconds: the analysis's
    /// `DeliveryConfig.minimumHoldSeconds`, carried with the holds for those who show them.
    public var minimumHoldSeconds = DeliveryConfig().minimumHoldSeconds
    /// Every stretch in which the customer held the floor; nil when not measurable (mono).
    public var customerFloors: [CustomerFloor]?
    /// What a reader must know about how the recording was read (clipped samples, a stereo
    /// file scored as mono): shown in every report and on stderr.
    public var warnings: [String] = []

    /// The interruptions one party made, in time order; nil when not measurable (mono). The
    /// one place a party's interruptions are told apart: rules, reports and rows read it.
    public func interruptions(by party: Party) -> [Interruption]? {
        interruptions?.filter { $0.by == party }
    }
}

/// A stretch in which the customer held the floor: their utterances joined across their own
/// pauses under `DeliveryConfig.floorGapSeconds` unless the agent starts in the pause.
public struct CustomerFloor: Sendable, Equatable {
    public var span: TimeSpan
    /// Agent speech started inside it, before its last `DeliveryConfig.floorLatchSeconds`
    /// (a reply latched onto its end answers the turn; it does not acknowledge it).
    public var acknowledged: Bool
    public var startSeconds: Double { span.startSeconds }
    public var endSeconds: Double { span.endSeconds }
    public var durationSeconds: Double { span.durationSeconds }
}

extension SpeakerMeasures {
    /// Each turn with its own rate: the syllables of the utterances starting in it per
    /// minute of the turn, 字/分钟 (the speech rate rule's evidence).
    public var turnRates: [(turn: TimeSpan, charactersPerMinute: Double)] {
        turns.map { turn in
            let syllables = utterances.filter { turn.contains($0.startSeconds) }.reduce(0) { $0 + $1.syllables }
            return (turn, Double(syllables) / max(turn.durationSeconds, 1e-9) * 60)
        }
    }
}
