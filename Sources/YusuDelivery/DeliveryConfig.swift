/// How frame decisions become utterances, turns and call events. Seconds throughout.
public struct DeliveryConfig: Sendable, Equatable {
    /// Pauses at least this long are taken out of phonation time (CONTRACT: 0.25 s).
    public var phonationPauseSeconds: Double = 0.25
    /// Phonation counts only frames within this much of the speaker's loud speech (95th
    /// percentile of frame energy), dB: room tone in a pause is not phonation even where
    /// it stands above the line noise.
    public var phonationBelowPeakDb: Double = 16
    /// A pause at least this long ends an utterance.
    public var utterancePauseSeconds: Double = 0.50
    /// For interruptions, a party is "speaking" through pauses shorter than this: a
    /// sentence-internal breath does not open the floor to the other party. It is also how
    /// long an interruption's final overlap waits, so a live coach hears it this much (and
    /// the pitch stage's 0.25 s) after the overlap: 0.7 s finds the dev calls' interruptions and
    /// backchannels as 0.8 s did (0.6 s loses one agent interruption in twelve).
    public var interruptionHostPauseSeconds: Double = 0.7
    /// Pauses shorter than this are bridged inside a turn (CONTRACT: 1.5 s).
    public var turnPauseSeconds: Double = 1.5
    /// Silences at least this long are holds / dead air (CONTRACT: 10 s).
    public var minimumHoldSeconds: Double = 10
    /// Both speaking at least this long makes an interruption (CONTRACT: 0.5 s).
    public var interruptionMinimumOverlapSeconds: Double = 0.5
    /// The newcomer must go on at least this long (CONTRACT: 1 s).
    public var interruptionMinimumNewcomerSeconds: Double = 1.0
    /// The customer holds the floor across their own pauses up to this long, as long as the
    /// agent says nothing in them (a breath between sentences, or a thought).
    public var floorGapSeconds: Double = 3
    /// Agent speech starting this close to the end of the customer's floor is the reply
    /// latched onto it, not an acknowledgement inside it.
    public var floorLatchSeconds: Double = 0.5
    /// Speech shorter than this inside the other's speech is a backchannel (CONTRACT: ~0.6 s).
    public var backchannelMaximumSeconds: Double = 0.6
    /// Final intonation: length of the voiced ending measured.
    public var endingWindowSeconds: Double = 0.40
    /// Final intonation: the last voiced stretch must have at least this much voicing,
    /// seconds, to be judged at all ...
    public var endingMinimumVoicedSeconds: Double = 0.05
    /// ... and a voicing gap longer than this ends the stretch, seconds.
    public var endingMaximumGapSeconds: Double = 0.15
    /// Final intonation: this much voicing before the last stretch (looked for up to 1 s
    /// back) is the level the ending falls from when it lies above the stretch's own high
    /// point (a last syllable said wholly low after the word before it), seconds.
    public var endingPrecedingWordSeconds: Double = 0.3
    public init() {}
}
