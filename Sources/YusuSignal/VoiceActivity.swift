// Voice activity of one party's channel in a two-channel call, frame by frame as the call
// comes.
//
// Method: energy detection against the channel's own noise floor (`ChannelLevels`: a
// running minimum-statistics style floor, after Martin 2001, "Noise power spectral density
// estimation based on optimal smoothing and minimum statistics", with thresholds scaled down
// where the floor-to-speech range is small), confirmed by periodicity, as double-threshold
// region growing: frames over the onset threshold and within `onsetBelowSpeechDb` of the
// party's own speech level seed speech, which grows forwards (and `onsetLookBackSeconds`
// backwards) over frames over the continuation threshold. Two rejections that telephone
// calls need:
//   1. echo: a frame whose energy sits at least `echoMarginDb` below the other channel's
//      in the same frame is that party's voice leaking across, not this party's speech;
//   2. music: speech is modulated at the syllable rate (3–8 Hz: Scheirer & Slaney 1997,
//      "Construction and evaluation of a robust multifeature speech/music discriminator",
//      use the 4 Hz modulation energy and the share of low-energy frames), so within any
//      2 s it has unvoiced consonants and deep dips between syllables. A 2 s window (on a
//      grid of 0.5 s) that is at least `musicVoicedShare` voiced and whose frame energies
//      span less than `musicEnergyRangeDb` (10th to 90th percentile) is music or a tone,
//      if its spectrum also changes slowly (a mean spectral change, `Frame.spectralChangeDb`:
//      the band shape's change over 20 ms, which no gain moves, under
//      `musicSpectralChangeDb`) or its level hardly moves at all (a range under
//      `musicSteadyRangeDb`, as compressed hold music's does, however busy its spectrum),
//      and no half-second stretch of it spans `musicEnergyRangeDb` or more on its own
//      (syllables swing the level within half a second; a steady tune does not).
//      Speech whose dips compression or an AGC has filled keeps some level swing and the
//      formant transitions of its syllables (Scheirer & Slaney's spectral flux cue), and
//      stays speech. A tone (a voiced stretch whose pitch holds within `toneF0SpreadCents`
//      and level within `toneLevelRangeDb` for `toneMinimumSeconds`, as no voice does: a
//      synthesised note, a ringback) is music as soon as it is that long, without the
//      window's 2 s (`MusicRejection`).
// Then bursts shorter than `minimumBurstSeconds` are dropped and gaps shorter than
// `bridgeGapSeconds` filled. Last, a run of speech frames with less than
// `minimumVoicedSeconds` of pitch and no voiced run within `unvoicedAttachSeconds` is
// dropped: every Mandarin syllable has a voiced nucleus, so a run without one is a noise
// burst (a passing car, a door, a street's hiss), not a word.
//
// Streaming: each step is a stage that outputs a frame as soon as its decision cannot
// change, in frame order. Look-ahead per stage (the bound; typical in brackets):
//   region growing  `onsetLookBackSeconds` (0.05 s);
//   music           up to 2 s for active frames, which may be music (a tone: 0.3 s); a
//                   window fails as soon as what it holds proves it cannot qualify (too
//                   many unvoiced or silent frames, a 10th–90th range already ≥ 8 dB, a
//                   mean spectral change already at its limit with a level that is not
//                   steady, or a half-second stretch that swings 8 dB): in speech
//                   typically 0.5 s, after speech 0.2 s (20 silent frames), in hold music
//                   the whole 2 s. Inactive frames go out at once (no verdict changes them);
//   gap filling     `bridgeGapSeconds` (0.12 s);
//   bursts          `minimumBurstSeconds` (0.06 s);
//   unvoiced runs   until the run has its voicing, or `unvoicedAttachSeconds` past its end
//                   (0.4 s); a run still unvoiced after `unvoicedDecideSeconds` (2 s) is
//                   decided then, by what came before it.
// Non-speech is therefore final within 0.12 s, and speech within the music window's bound.

/// Tunable thresholds of the detector, in dB over the noise floor and seconds.
public struct VoiceActivityConfig: Sendable, Equatable {
    /// Frames this far above the floor start speech, dB.
    public var onsetSnrDb: Float = 12
    /// Frames this far above the floor continue speech, dB.
    public var continueSnrDb: Float = 7
    /// Voiced frames this far above the floor are speech, dB.
    public var voicedSnrDb: Float = 6
    /// Speech starts only within this distance under the party's speech level, dB: quieter
    /// voices (neighbouring agents on a headset, a distant talker in the street, babble) and
    /// noise never start an utterance of this party, though they may continue one.
    public var onsetBelowSpeechDb: Float = 30
    /// Speech reaches back at most this far before the frame that started it, seconds.
    public var onsetLookBackSeconds: Double = 0.05
    /// A frame this far below the other channel is echo, dB.
    public var echoMarginDb: Float = 18
    /// Speech bursts shorter than this are dropped, seconds.
    public var minimumBurstSeconds: Double = 0.06
    /// Gaps shorter than this are filled, seconds.
    public var bridgeGapSeconds: Double = 0.12
    /// A speech run with less voiced time than this is a noise burst and dropped, seconds.
    public var minimumVoicedSeconds: Double = 0.03
    /// ... unless it is this close to a voiced run, seconds (an utterance pause).
    public var unvoicedAttachSeconds: Double = 0.4
    /// A run still without voicing this long is decided without waiting for its end, seconds.
    public var unvoicedDecideSeconds: Double = 2
    /// Music test window, seconds (on a grid of a quarter of it).
    public var musicWindowSeconds: Double = 2
    /// A window at least this voiced ...
    public var musicVoicedShare: Double = 0.85
    /// ... whose energies span less than this (10th to 90th percentile, dB), over the window
    /// and over every half second of it, is music.
    public var musicEnergyRangeDb: Float = 8
    /// ... and whose spectral shape changes less than this on average (dB per 20 ms). Set
    /// between the dev corpus's hold music (2 s windows at most 2.90 dB clean, 3.58 dB
    /// through AMR-NB, 3.42 dB under neighbours' babble) and hard-compressed speech's
    /// level windows (at least 3.92 dB): a thin margin, measured on one tune.
    public var musicSpectralChangeDb: Float = 3.75
    /// ... or whose energies span less than this, whatever its spectrum does (dev hold
    /// music: at most 3.9 dB; compressed speech: at least 4.3 dB).
    public var musicSteadyRangeDb: Float = 4
    /// A voiced stretch this long whose F0 stays within `toneF0SpreadCents` and whose level
    /// stays within `toneLevelRangeDb` is a tone, music at once (see `MusicRejection`),
    /// seconds; 0: no tones. The longest such stretch in the dev corpus's speech is 0.16 s.
    public var toneMinimumSeconds: Double = 0.3
    /// ... its F0's highest over its lowest, cents.
    public var toneF0SpreadCents: Float = 5
    /// ... its level's range, dB.
    public var toneLevelRangeDb: Float = 0.4
    public init() {}
}

/// The detector of one channel: `push` each frame (once its F0 is final) with the levels
/// known for it and the other channel's energy in the same frame; final decisions come out
/// in order in `speech`.
public struct VoiceActivityTracker: Sendable {
    public let config: VoiceActivityConfig
    private var seeded: SeededRuns
    private var music: MusicRejection
    private var gaps: ShortRuns
    private var bursts: ShortRuns
    private var unvoiced: UnvoicedRunDropper
    /// F0 (0: unvoiced), energy and spectral change of recent frames, for the stages that
    /// look back.
    private var f0Hz: FrameRing<Float>
    private var energy: FrameRing<Float>
    private var change: FrameRing<Float>
    /// Final decisions, frame by frame (the latest `speech.capacity`).
    public private(set) var speech: FrameRing<Bool>
    /// Frames pushed.
    public private(set) var framesIn = 0
    /// A hint for early alerts, never for a decision: the latest stretch of voiced speech as
    /// the first stage hears it (before music rejection and the clean-up stages, so about a
    /// pitch frame's look-ahead behind the input, where final decisions may wait up to the
    /// music window), joined over gaps shorter than `heardJoinFrames`, as frames. Music can
    /// still take it back.
    public private(set) var heardSpeech: Range<Int>? = nil
    /// See `heardSpeech`; 0 keeps no hint.
    public let heardJoinFrames: Int
    // Hand-over buffers between stages (reused).
    private var a: [(Int, Bool)] = [], b: [(Int, Bool)] = []

    public init(
        config: VoiceActivityConfig = VoiceActivityConfig(), hopSeconds: Double = 0.01, ringFrames: Int = 4096,
        heardJoinFrames: Int = 0
    ) {
        self.config = config
        self.heardJoinFrames = heardJoinFrames
        func frames(_ seconds: Double) -> Int { Int((seconds / hopSeconds).rounded()) }
        seeded = SeededRuns(lookBack: frames(config.onsetLookBackSeconds))
        // The music stage's frames come through the seeded runs, up to their look-back later.
        music = MusicRejection(
            window: frames(config.musicWindowSeconds), voicedShare: config.musicVoicedShare,
            rangeDb: config.musicEnergyRangeDb, changeDb: config.musicSpectralChangeDb,
            steadyRangeDb: config.musicSteadyRangeDb,
            tone: MusicRejection.Tone(
                frames: frames(config.toneMinimumSeconds), spreadCents: config.toneF0SpreadCents,
                rangeDb: config.toneLevelRangeDb),
            heardAhead: Self.maximumHeardAhead + frames(config.onsetLookBackSeconds) + 1)
        gaps = ShortRuns.gaps(shorterThan: frames(config.bridgeGapSeconds))
        bursts = ShortRuns.bursts(shorterThan: frames(config.minimumBurstSeconds))
        unvoiced = UnvoicedRunDropper(
            minimumVoiced: frames(config.minimumVoicedSeconds), attach: frames(config.unvoicedAttachSeconds),
            decideAfter: frames(config.unvoicedDecideSeconds))
        f0Hz = FrameRing(capacity: ringFrames, filler: 0)
        energy = FrameRing(capacity: ringFrames, filler: -120)
        change = FrameRing(capacity: ringFrames, filler: 0)
        speech = FrameRing(capacity: ringFrames, filler: false)
        a.reserveCapacity(512)
        b.reserveCapacity(512)
    }

    /// Frames decided so far.
    public var framesOut: Int { speech.count }

    /// Frames whose energies the music rejection has heard (`hear`), ahead of `push`. Stored,
    /// not read through `music`: the stream asks at every frame.
    public private(set) var framesHeard = 0
    /// How far ahead of `push` energies may be heard, frames (1 s).
    public static let maximumHeardAhead = 100

    /// The energy of frame `framesHeard`, as soon as it is known (before its pitch, which
    /// `push` needs): the music rejection's half-second stretches read only energies, so a
    /// level that swings fails its windows a pitch look-ahead sooner. Optional: `push` hears
    /// every frame not heard yet. At most `maximumHeardAhead` frames ahead of `push`.
    public mutating func hear(energyDb: Float) {
        precondition(framesHeard < framesIn + Self.maximumHeardAhead, "voice activity heard too far ahead")
        music.hear(energyDb: energyDb)
        framesHeard = music.heard
    }

    /// Adds the next frame: its energy, the tracker's F0 for it (0: unvoiced), its spectral change
    /// (`Frame.spectralChangeDb`), the other channel's energy in the same frame (nil for
    /// mono), and the channel's levels for it.
    public mutating func push(
        energyDb: Float, f0Hz frameF0Hz: Float, spectralChangeDb: Float, otherEnergyDb: Float?, levels: ChannelLevels
    ) {
        let isVoiced = frameF0Hz > 0
        let i = framesIn
        framesIn += 1
        f0Hz.append(frameF0Hz)
        energy.append(energyDb)
        change.append(spectralChangeDb)
        let scale = levels.snrScale
        let snr = energyDb - levels.floorDb
        var continues = snr >= config.continueSnrDb * scale || (isVoiced && snr >= config.voicedSnrDb * scale)
        var starts =
            (snr >= config.onsetSnrDb * scale || (isVoiced && snr >= (config.voicedSnrDb + 3) * scale))
            && energyDb >= levels.speechLevelDb - config.onsetBelowSpeechDb
        if continues, let otherEnergyDb, otherEnergyDb - energyDb >= config.echoMarginDb {
            continues = false
            starts = false
        }
        seeded.push(i, continues: continues, seed: starts && continues, into: &a)
        flow(final: false)
    }

    /// Decides every frame still open: the channel has ended.
    public mutating func finish() {
        seeded.finish(into: &a)
        flow(final: true)
    }

    private mutating func flow(final: Bool) {
        if heardJoinFrames > 0 {
            for (i, flag) in a where flag && f0Hz[i] > 0 {
                let from = heardSpeech.flatMap { i - $0.upperBound < heardJoinFrames ? $0.lowerBound : nil }
                heardSpeech = (from ?? i)..<(i + 1)
            }
        }
        for (i, flag) in a {
            music.push(i, active: flag, f0Hz: f0Hz[i], energyDb: energy[i], changeDb: change[i], into: &b)
        }
        framesHeard = music.heard
        a.removeAll(keepingCapacity: true)
        if final { music.finish(into: &b) }
        for (i, flag) in b { gaps.push(i, flag, into: &a) }
        b.removeAll(keepingCapacity: true)
        if final { gaps.finish(into: &a) }
        for (i, flag) in a { bursts.push(i, flag, into: &b) }
        a.removeAll(keepingCapacity: true)
        if final { bursts.finish(into: &b) }
        for (i, flag) in b { unvoiced.push(i, flag, voiced: f0Hz[i] > 0, into: &a) }
        b.removeAll(keepingCapacity: true)
        if final { unvoiced.finish(into: &a) }
        for (i, flag) in a {
            precondition(i == speech.count, "voice activity decided out of order")
            speech.append(flag)
        }
        a.removeAll(keepingCapacity: true)
    }
}

/// The one-call form over collected features (tests, small signals): the same tracker.
public struct VoiceActivityDetector: Sendable {
    public var config: VoiceActivityConfig
    public init(config: VoiceActivityConfig = VoiceActivityConfig()) { self.config = config }

    /// Per-frame speech decisions for `features`, using `other` (the other party's channel,
    /// if any) to reject echo, against fixed `levels` (the running levels when nil).
    public func detect(
        _ features: FrameFeatures, pitch: PitchTrack, other: FrameFeatures? = nil, levels: ChannelLevels? = nil
    ) -> [Bool] {
        let n = features.frameCount
        guard n > 0 else { return [] }
        var tracker = VoiceActivityTracker(config: config, hopSeconds: features.config.hopSeconds, ringFrames: n + 1)
        var running = ChannelLevelsTracker(hopSeconds: features.config.hopSeconds)
        for i in 0..<n {
            let frame = features.frame(i)
            running.observe(frame)
            tracker.push(
                energyDb: frame.energyDb, f0Hz: pitch.f0Hz[i], spectralChangeDb: frame.spectralChangeDb,
                otherEnergyDb: other.flatMap { i < $0.frameCount ? $0.energyDb[i] : nil },
                levels: levels ?? running.levels)
        }
        tracker.finish()
        return (0..<n).map { tracker.speech[$0] }
    }

    /// Runs of `true` as half-open frame ranges.
    public static func runs(_ flags: [Bool]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = 0
        let n = flags.count
        while i < n {
            if flags[i] {
                var j = i
                while j < n && flags[j] { j += 1 }
                result.append(i..<j)
                i = j
            } else {
                i += 1
            }
        }
        return result
    }
}
