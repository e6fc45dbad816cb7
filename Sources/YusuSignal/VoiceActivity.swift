// Voice activity of one party's channel in a two-channel call.
//
// Method: energy detection against the channel's own noise floor (minimum-statistics
// style: a low percentile of frame energies, after Martin 2001, "Noise power spectral
// density estimation based on optimal smoothing and minimum statistics"), confirmed by
// periodicity, with two rejections that telephone calls need:
//   1. echo: a frame whose energy sits at least `echoMarginDb` below the other channel's
//      in the same frame is that party's voice leaking across, not this party's speech;
//   2. music: a stretch that stays voiced and level for longer than speech ever does
//      (speech is modulated at the syllable rate, 3–8 Hz; Scheirer & Slaney 1997 use the
//      4 Hz modulation energy to tell speech from music) is not speech.
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
    public init() {}
}

public struct VoiceActivityDetector: Sendable {
    public var config: VoiceActivityConfig
    public init(config: VoiceActivityConfig = VoiceActivityConfig()) { self.config = config }

    /// Per-frame speech decisions for `features`, using `other` (the other party's
    /// channel, if any) to reject echo.
    public func detect(_ features: FrameFeatures, pitch: PitchTrack, other: FrameFeatures? = nil) -> [Bool] {
        let n = features.frameCount
        guard n > 0 else { return [] }
        let floorDb = NoiseFloor.estimate(features.energyDb)
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
        Self.fillGaps(&speech, shorterThan: Int((config.bridgeGapSeconds / hop).rounded()))
        Self.dropBursts(&speech, shorterThan: Int((config.minimumBurstSeconds / hop).rounded()))
        return speech
    }

    /// Sets runs of `false` shorter than `frames` (between two `true` runs) to `true`.
    public static func fillGaps(_ flags: inout [Bool], shorterThan frames: Int) {
        var i = 0
        let n = flags.count
        while i < n {
            if !flags[i] {
                var j = i
                while j < n && !flags[j] { j += 1 }
                if i > 0 && j < n && j - i < frames {
                    for k in i..<j { flags[k] = true }
                }
                i = j
            } else {
                i += 1
            }
        }
    }

    /// Sets runs of `true` shorter than `frames` to `false`.
    public static func dropBursts(_ flags: inout [Bool], shorterThan frames: Int) {
        var i = 0
        let n = flags.count
        while i < n {
            if flags[i] {
                var j = i
                while j < n && flags[j] { j += 1 }
                if j - i < frames {
                    for k in i..<j { flags[k] = false }
                }
                i = j
            } else {
                i += 1
            }
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
