// The levels every detector of one channel judges frames against: the background (noise
// floor), the party's own speech level, and how far apart the two are.
//
// Method: the floor is a low percentile of frame energies (the minimum-statistics idea of
// Martin 2001, "Noise power spectral density estimation based on optimal smoothing and
// minimum statistics", IEEE TSAP 9(5), taken over the channel); the speech level is a high
// percentile of the energies of periodic frames (YIN dip below `periodicDip`), so that a
// party who only says a few words still has a level. Two departures that real recordings
// need:
//   1. no pause: when most of the quietest frames are periodic, the recording holds no
//      background at all (a clip cut from continuous speech, or audio through a hard
//      compressor) and the "floor" is the quietest speech. The floor is then put
//      `voiceFloorBelowSpeechDb` under the speech level instead;
//   2. noise: thresholds over the floor (VAD onset, pitch's quiet-frame penalty, nucleus
//      SNR) were set for clean calls, where speech stands 30–50 dB over the line. Where the
//      floor-to-speech range is smaller, `snrScale` shrinks them in proportion (down to
//      `minimumSnrScale`), so speech 10 dB over street noise or babble is still found.

/// Settings of the level estimate, dB and YIN dip units.
public struct ChannelLevelsConfig: Sendable, Equatable {
    /// Percentile of frame energies taken as the floor (0...1).
    public var floorPercentile: Double = 0.10
    /// Percentile of periodic frames' energies taken as the speech level (0...1).
    public var speechPercentile: Double = 0.90
    /// A frame whose deepest YIN dip is below this is periodic (voice, or a tone).
    public var periodicDip: Float = 0.25
    /// If at least this share of the frames at the floor are periodic, the floor is voice.
    public var voiceFloorShare: Double = 0.4
    /// Where the floor is put when it is voice: this far under the speech level, dB.
    public var voiceFloorBelowSpeechDb: Float = 30
    /// Floor-to-speech range at which thresholds keep their clean-call values, dB.
    public var referenceRangeDb: Float = 25
    /// Smallest factor applied to the thresholds.
    public var minimumSnrScale: Float = 0.4
    public init() {}
}

/// A channel's floor, speech level and threshold scale.
public struct ChannelLevels: Sendable, Equatable {
    /// Background level, dBov (after the no-pause correction).
    public var floorDb: Float
    /// The floor as measured, before the no-pause correction, dBov.
    public var measuredFloorDb: Float
    /// The party's loud speech level, dBov (the floor + reference range when no periodic frame).
    public var speechLevelDb: Float
    /// True when the quietest frames were voice: the recording has no pause.
    public var floorIsVoice: Bool
    /// Factor (minimumSnrScale...1) for every threshold expressed over the floor.
    public var snrScale: Float

    public init(floorDb: Float, measuredFloorDb: Float, speechLevelDb: Float, floorIsVoice: Bool, snrScale: Float) {
        self.floorDb = floorDb
        self.measuredFloorDb = measuredFloorDb
        self.speechLevelDb = speechLevelDb
        self.floorIsVoice = floorIsVoice
        self.snrScale = snrScale
    }

    /// How far the no-pause correction lowered the floor, dB (0 when it did not): detectors
    /// that keep a floor of their own (the syllable envelope's) lower it as far.
    public var floorCorrectionDb: Float { measuredFloorDb - floorDb }

    /// Levels of a clean channel with a known floor: thresholds unscaled.
    public static func clean(floorDb: Float) -> ChannelLevels {
        ChannelLevels(floorDb: floorDb, measuredFloorDb: floorDb, speechLevelDb: floorDb + 40, floorIsVoice: false, snrScale: 1)
    }

    /// Measures the levels of one channel's frames.
    /// - Complexity: O(n log n) for the percentiles.
    public static func measure(_ features: FrameFeatures, config: ChannelLevelsConfig = ChannelLevelsConfig()) -> ChannelLevels {
        let energy = features.energyDb
        let measuredFloor = NoiseFloor.estimate(energy, percentile: config.floorPercentile)
        var periodic: [Float] = []
        periodic.reserveCapacity(features.frameCount)
        var atFloor = 0, periodicAtFloor = 0
        for i in 0..<features.frameCount where energy[i] > -115 {
            let isPeriodic = features.candidateDip(i, 0) < config.periodicDip
            if isPeriodic { periodic.append(energy[i]) }
            if energy[i] <= measuredFloor + 1 {
                atFloor += 1
                if isPeriodic { periodicAtFloor += 1 }
            }
        }
        guard !periodic.isEmpty else {
            return ChannelLevels(floorDb: measuredFloor, measuredFloorDb: measuredFloor,
                                 speechLevelDb: measuredFloor + config.referenceRangeDb, floorIsVoice: false, snrScale: 1)
        }
        periodic.sort()
        let speech = periodic[min(periodic.count - 1, Int(Double(periodic.count) * config.speechPercentile))]
        var floor = measuredFloor
        let floorIsVoice = atFloor > 0 && Double(periodicAtFloor) >= config.voiceFloorShare * Double(atFloor)
        if floorIsVoice { floor = min(floor, speech - config.voiceFloorBelowSpeechDb) }
        let range = speech - floor
        let scale = max(config.minimumSnrScale, min(1, range / config.referenceRangeDb))
        return ChannelLevels(floorDb: floor, measuredFloorDb: measuredFloor, speechLevelDb: speech,
                             floorIsVoice: floorIsVoice, snrScale: scale)
    }
}
