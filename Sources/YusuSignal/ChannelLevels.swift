// The levels every detector of one channel judges frames against: the background (noise
// floor), the party's own speech level, and how far apart the two are.
//
// Method: the floor is a low percentile of frame energies (the minimum-statistics idea of
// Martin 2001, "Noise power spectral density estimation based on optimal smoothing and
// minimum statistics", IEEE TSAP 9(5)); the speech level is a high percentile of the
// energies of periodic frames (YIN dip below `periodicDip`), so that a party who only says
// a few words still has a level; periodic frames that are the other channel's echo are not
// the party's speech and are left out. Both are running percentiles (`RunningHistogram`) of
// everything heard so far, older frames forgotten over `forgetSeconds`: causal, so a
// frame is judged by what came before it. Look-ahead: only at the start of a call, where
// the first `warmUpSeconds` are judged together once they have all been heard (a
// percentile of nothing is no floor). Two departures that real recordings need:
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
    /// Frames older than this weigh 1/e of a new one in the percentiles, seconds.
    public var forgetSeconds: Double = 600
    /// The first frames are judged together, once this much has been heard, seconds.
    public var warmUpSeconds: Double = 3.0
    /// The percentiles are read again every this many frames.
    public var refreshFrames = 10
    /// A periodic frame this far under the other channel's is that party's echo, dB (as
    /// `VoiceActivityConfig.echoMarginDb`).
    public var echoMarginDb: Float = 18
    /// Periodic frames of the party's own needed before their level is its speech level
    /// (until then the speech level is the floor plus `referenceRangeDb`).
    public var minimumPeriodicFrames = 0
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

    /// How far the no-pause correction lowered the floor, dB (0 when it did not): detectors
    /// that keep a floor of their own (the syllable envelope's) lower it as far.
    public var floorCorrectionDb: Float { measuredFloorDb - floorDb }

    /// Levels of a clean channel with a known floor: thresholds unscaled.
    public static func clean(floorDb: Float) -> ChannelLevels {
        ChannelLevels(
            floorDb: floorDb, measuredFloorDb: floorDb, speechLevelDb: floorDb + 40, floorIsVoice: false, snrScale: 1)
    }

    /// The levels after every frame of `features` (tests, small signals): the running
    /// estimate at the end of the channel.
    public static func measure(_ features: FrameFeatures, config: ChannelLevelsConfig = ChannelLevelsConfig())
        -> ChannelLevels
    {
        var tracker = ChannelLevelsTracker(config: config, hopSeconds: features.config.hopSeconds)
        for i in 0..<features.frameCount { tracker.observe(features.frame(i)) }
        tracker.refresh()
        return tracker.levels
    }

    /// The levels from the floor and the periodic frames' level, and whether the quietest
    /// frames were voice.
    static func from(measuredFloor: Float, speech: Float?, floorIsVoice: Bool, config: ChannelLevelsConfig)
        -> ChannelLevels
    {
        guard let speech else {
            return ChannelLevels(
                floorDb: measuredFloor, measuredFloorDb: measuredFloor,
                speechLevelDb: measuredFloor + config.referenceRangeDb, floorIsVoice: false, snrScale: 1)
        }
        var floor = measuredFloor
        if floorIsVoice { floor = min(floor, speech - config.voiceFloorBelowSpeechDb) }
        let range = speech - floor
        let scale = max(config.minimumSnrScale, min(1, range / config.referenceRangeDb))
        return ChannelLevels(
            floorDb: floor, measuredFloorDb: measuredFloor, speechLevelDb: speech,
            floorIsVoice: floorIsVoice, snrScale: scale)
    }
}

/// The running levels of one channel: feed it every frame in order; `levels` holds the
/// estimate from what has been heard (read again every `refreshFrames` frames, at fixed
/// frame numbers, so the result does not depend on how the audio arrives in blocks).
public struct ChannelLevelsTracker: Sendable {
    public let config: ChannelLevelsConfig
    private var energies = RunningHistogram(lowest: -120, highest: 10, step: 0.1)
    private var periodic = RunningHistogram(lowest: -120, highest: 10, step: 0.1)
    private var clock: ForgettingClock
    public private(set) var levels = ChannelLevels.clean(floorDb: -120)
    public private(set) var framesSeen = 0
    private var periodicFrames = 0

    public init(config: ChannelLevelsConfig = ChannelLevelsConfig(), hopSeconds: Double = 0.01) {
        self.config = config
        clock = ForgettingClock(forgetAfterSteps: config.forgetSeconds / hopSeconds)
    }

    /// Adds a frame; every `refreshFrames` frames the levels are read again.
    /// - Parameter otherEnergyDb: the other channel's energy in the same frame: a periodic
    ///   frame `echoMarginDb` or more below it is the other party's voice leaking across,
    ///   not this party's speech, and does not count towards this party's speech level.
    @inline(__always) public mutating func observe(_ frame: Frame, otherEnergyDb: Float? = nil) {
        if frame.energyDb > -115 {
            energies.add(frame.energyDb, weight: clock.weight)
            let echo = otherEnergyDb.map { $0 - frame.energyDb >= config.echoMarginDb } ?? false
            if frame.dip(0) < config.periodicDip && !echo {
                periodic.add(frame.energyDb, weight: clock.weight)
                periodicFrames += 1
            }
        }
        if let factor = clock.tick() {
            energies.scale(by: factor)
            periodic.scale(by: factor)
        }
        framesSeen += 1
        if framesSeen % config.refreshFrames == 0 { refresh() }
    }

    /// Reads the percentiles now.
    public mutating func refresh() {
        guard let measured = energies.percentile(config.floorPercentile) else {
            levels = ChannelLevels.clean(floorDb: -120)
            levels.speechLevelDb = -120 + config.referenceRangeDb
            return
        }
        // A speech level needs some of the party's own voice to stand on.
        let speech = periodicFrames >= config.minimumPeriodicFrames ? periodic.percentile(config.speechPercentile) : nil
        let atFloor = energies.weight(atOrBelow: measured + 1)
        let periodicAtFloor = periodic.weight(atOrBelow: measured + 1)
        let floorIsVoice = speech != nil && atFloor > 0 && periodicAtFloor >= config.voiceFloorShare * atFloor
        levels = ChannelLevels.from(measuredFloor: measured, speech: speech, floorIsVoice: floorIsVoice, config: config)
    }
}
