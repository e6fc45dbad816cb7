// Voice activity of one party's channel in a two-channel call.
//
// Method: energy detection against the channel's own noise floor (`ChannelLevels`:
// minimum-statistics style, after Martin 2001, "Noise power spectral density estimation
// based on optimal smoothing and minimum statistics", with thresholds scaled down where the
// floor-to-speech range is small), confirmed by periodicity, as double-threshold region
// growing: frames over the onset threshold and within `onsetBelowSpeechDb` of the party's
// own speech level seed speech, which grows forwards (and `onsetLookBackSeconds`
// backwards) over frames over the continuation threshold. Two rejections that telephone
// calls need:
//   1. echo: a frame whose energy sits at least `echoMarginDb` below the other channel's
//      in the same frame is that party's voice leaking across, not this party's speech;
//   2. music: speech is modulated at the syllable rate (3–8 Hz: Scheirer & Slaney 1997,
//      "Construction and evaluation of a robust multifeature speech/music discriminator",
//      use the 4 Hz modulation energy and the share of low-energy frames), so within any
//      2 s it has unvoiced consonants and deep dips between syllables. A 2 s window that
//      is at least `musicVoicedShare` voiced and whose frame energies span less than
//      `musicEnergyRangeDb` (10th to 90th percentile) is music or a tone, not speech.
// Then bursts shorter than `minimumBurstSeconds` are dropped and gaps shorter than
// `bridgeGapSeconds` filled. Last, a run of speech frames with less than
// `minimumVoicedSeconds` of pitch and no voiced run within `unvoicedAttachSeconds` is
// dropped: every Mandarin syllable has a voiced nucleus, so a run without one is a noise
// burst (a passing car, a door, a street's hiss), not a word, and must not break a hold or
// count as a turn.

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
    /// Music test window, seconds.
    public var musicWindowSeconds: Double = 2
    /// A window at least this voiced ...
    public var musicVoicedShare: Double = 0.85
    /// ... whose energies span less than this (10th to 90th percentile, dB) is music.
    public var musicEnergyRangeDb: Float = 8
    public init() {}
}

public struct VoiceActivityDetector: Sendable {
    public var config: VoiceActivityConfig
    public init(config: VoiceActivityConfig = VoiceActivityConfig()) { self.config = config }

    /// Per-frame speech decisions for `features`, using `other` (the other party's
    /// channel, if any) to reject echo. `levels` are the channel's floor, speech level and
    /// threshold scale when the caller already has them (`ChannelLevels.measure` otherwise).
    public func detect(_ features: FrameFeatures, pitch: PitchTrack, other: FrameFeatures? = nil, levels: ChannelLevels? = nil) -> [Bool] {
        let n = features.frameCount
        guard n > 0 else { return [] }
        let levels = levels ?? ChannelLevels.measure(features)
        let floorDb = levels.floorDb
        let scale = levels.snrScale
        let onsetSnrDb = config.onsetSnrDb * scale, continueSnrDb = config.continueSnrDb * scale
        let voicedSnrDb = config.voicedSnrDb * scale, voicedOnsetSnrDb = (config.voicedSnrDb + 3) * scale
        let onsetFloorDb = levels.speechLevelDb - config.onsetBelowSpeechDb
        let energy = features.energyDb
        // Double-threshold region growing: onset frames (loud enough over the floor, and
        // near the party's own speech level) seed speech over the frames that pass the
        // lower continuation threshold.
        var seed = [Bool](repeating: false, count: n)
        var speech = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let snr = energy[i] - floorDb
            let voiced = pitch.f0Hz[i] > 0
            var continues = snr >= continueSnrDb || (voiced && snr >= voicedSnrDb)
            var starts = (snr >= onsetSnrDb || (voiced && snr >= voicedOnsetSnrDb)) && energy[i] >= onsetFloorDb
            if continues, let other, i < other.frameCount, other.energyDb[i] - energy[i] >= config.echoMarginDb {
                continues = false
                starts = false
            }
            speech[i] = continues
            seed[i] = starts && continues
        }
        // A run of continuation frames is speech from its first seed on, and up to
        // `onsetLookBackSeconds` before it (the quiet consonant before a loud vowel).
        let lookBack = Int((config.onsetLookBackSeconds / features.config.hopSeconds).rounded())
        for run in Self.runs(speech) {
            guard let firstSeed = run.first(where: { seed[$0] }) else {
                for i in run { speech[i] = false }
                continue
            }
            for i in run.lowerBound..<max(run.lowerBound, firstSeed - lookBack) { speech[i] = false }
        }
        let hop = features.config.hopSeconds
        rejectMusic(&speech, energy: energy, f0Hz: pitch.f0Hz, hopSeconds: hop)
        Self.fillGaps(&speech, shorterThan: Int((config.bridgeGapSeconds / hop).rounded()))
        Self.dropBursts(&speech, shorterThan: Int((config.minimumBurstSeconds / hop).rounded()))
        Self.dropUnvoicedRuns(&speech, f0Hz: pitch.f0Hz, minimumVoicedFrames: Int((config.minimumVoicedSeconds / hop).rounded()),
                              attachFrames: Int((config.unvoicedAttachSeconds / hop).rounded()))
        return speech
    }

    /// Clears speech in every window that is steadily voiced and level: music, not speech.
    func rejectMusic(_ speech: inout [Bool], energy: [Float], f0Hz: [Float], hopSeconds: Double) {
        let n = speech.count
        let window = Int((config.musicWindowSeconds / hopSeconds).rounded())
        guard window > 10, n >= window else { return }
        let step = window / 4
        var music = [Bool](repeating: false, count: n)
        var scratch = [Float](repeating: 0, count: window)
        var start = 0
        while start + window <= n {
            var active = 0, voiced = 0
            for i in start..<(start + window) {
                if speech[i] { active += 1 }
                if f0Hz[i] > 0 { voiced += 1 }
            }
            if Double(active) >= 0.9 * Double(window) && Double(voiced) >= config.musicVoicedShare * Double(window) {
                for j in 0..<window { scratch[j] = energy[start + j] }
                scratch.sort()
                let range = scratch[window * 9 / 10] - scratch[window / 10]
                if range < config.musicEnergyRangeDb {
                    for i in start..<(start + window) { music[i] = true }
                }
            }
            start += step
        }
        for i in 0..<n where music[i] { speech[i] = false }
    }

    /// Sets runs of `false` shorter than `frames` (between two `true` runs) to `true`.
    public static func fillGaps(_ flags: inout [Bool], shorterThan frames: Int) {
        flipShortRuns(of: false, in: &flags, shorterThan: frames, onlyInside: true)
    }

    /// Clears every run of `true` with fewer than `minimumVoicedFrames` frames of pitch,
    /// unless it lies within `attachFrames` of a run that has them (a consonant cut off
    /// from its syllable by a short gap stays with it).
    public static func dropUnvoicedRuns(_ flags: inout [Bool], f0Hz: [Float], minimumVoicedFrames: Int, attachFrames: Int = 0) {
        guard minimumVoicedFrames > 0 else { return }
        let all = runs(flags)
        let voiced = all.map { run in run.reduce(0) { $0 + (f0Hz[$1] > 0 ? 1 : 0) } >= minimumVoicedFrames }
        for (k, run) in all.enumerated() where !voiced[k] {
            var near = false
            var j = k - 1
            while j >= 0 && run.lowerBound - all[j].upperBound <= attachFrames {
                if voiced[j] { near = true; break }
                j -= 1
            }
            j = k + 1
            while !near && j < all.count && all[j].lowerBound - run.upperBound <= attachFrames {
                if voiced[j] { near = true; break }
                j += 1
            }
            if !near { for i in run { flags[i] = false } }
        }
    }

    /// Sets runs of `true` shorter than `frames` to `false`.
    public static func dropBursts(_ flags: inout [Bool], shorterThan frames: Int) {
        flipShortRuns(of: true, in: &flags, shorterThan: frames, onlyInside: false)
    }

    /// Flips every run of `value` shorter than `frames`; with `onlyInside`, only runs with
    /// the other value on both sides.
    static func flipShortRuns(of value: Bool, in flags: inout [Bool], shorterThan frames: Int, onlyInside: Bool) {
        var i = 0
        let n = flags.count
        while i < n {
            guard flags[i] == value else { i += 1; continue }
            var j = i
            while j < n && flags[j] == value { j += 1 }
            if j - i < frames && (!onlyInside || (i > 0 && j < n)) {
                for k in i..<j { flags[k] = !value }
            }
            i = j
        }
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
