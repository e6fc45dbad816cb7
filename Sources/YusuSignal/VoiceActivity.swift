// Voice activity of one party's channel in a two-channel call.
//
// Method: energy detection against the channel's own noise floor (minimum-statistics
// style: a low percentile of frame energies, after Martin 2001, "Noise power spectral
// density estimation based on optimal smoothing and minimum statistics"), confirmed by
// periodicity, with two rejections that telephone calls need:
//   1. echo: a frame whose energy sits at least `echoMarginDb` below the other channel's
//      in the same frame is that party's voice leaking across, not this party's speech;
//   2. music: speech is modulated at the syllable rate (3–8 Hz: Scheirer & Slaney 1997,
//      "Construction and evaluation of a robust multifeature speech/music discriminator",
//      use the 4 Hz modulation energy and the share of low-energy frames), so within any
//      2 s it has unvoiced consonants and deep dips between syllables. A 2 s window that
//      is at least `musicVoicedShare` voiced and whose frame energies span less than
//      `musicEnergyRangeDb` (10th to 90th percentile) is music or a tone, not speech.
// Then hysteresis on the frame decisions, bursts shorter than `minimumBurstSeconds`
// dropped and gaps shorter than `bridgeGapSeconds` filled.

/// Tunable thresholds of the detector, in dB over the noise floor and seconds.
public struct VoiceActivityConfig: Sendable, Equatable {
    /// Frames this far above the floor start speech, dB.
    public var onsetSnrDb: Float = 12
    /// Frames this far above the floor continue speech, dB.
    public var continueSnrDb: Float = 7
    /// Voiced frames this far above the floor are speech, dB.
    public var voicedSnrDb: Float = 6
    /// A frame this far below the other channel is echo, dB.
    public var echoMarginDb: Float = 18
    /// Speech bursts shorter than this are dropped, seconds.
    public var minimumBurstSeconds: Double = 0.06
    /// Gaps shorter than this are filled, seconds.
    public var bridgeGapSeconds: Double = 0.12
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
    /// channel, if any) to reject echo. `noiseFloorDb` is the channel's floor when the
    /// caller already has it (`NoiseFloor.estimate(features.energyDb)` otherwise).
    public func detect(_ features: FrameFeatures, pitch: PitchTrack, other: FrameFeatures? = nil, noiseFloorDb: Float? = nil) -> [Bool] {
        let n = features.frameCount
        guard n > 0 else { return [] }
        let floorDb = noiseFloorDb ?? NoiseFloor.estimate(features.energyDb)
        let energy = features.energyDb
        var speech = [Bool](repeating: false, count: n)
        var active = false
        for i in 0..<n {
            let snr = energy[i] - floorDb
            var isSpeech: Bool
            if active {
                isSpeech = snr >= config.continueSnrDb || (pitch.f0Hz[i] > 0 && snr >= config.voicedSnrDb)
            } else {
                isSpeech = snr >= config.onsetSnrDb || (pitch.f0Hz[i] > 0 && snr >= config.voicedSnrDb + 3)
            }
            if isSpeech, let other, i < other.frameCount, other.energyDb[i] - energy[i] >= config.echoMarginDb {
                isSpeech = false
            }
            speech[i] = isSpeech
            active = isSpeech
        }
        let hop = features.config.hopSeconds
        rejectMusic(&speech, energy: energy, f0Hz: pitch.f0Hz, hopSeconds: hop)
        Self.fillGaps(&speech, shorterThan: Int((config.bridgeGapSeconds / hop).rounded()))
        Self.dropBursts(&speech, shorterThan: Int((config.minimumBurstSeconds / hop).rounded()))
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
