import YusuSignal

/// Every setting of the analysis, one value per stage. The analysis measures; it reads no
/// standard (the rules do that).
public struct AnalysisSettings: Sendable, Equatable {
    public var analysis = AnalysisConfig()
    public var channelLevels = ChannelLevelsConfig()
    public var pitch = PitchTrackerConfig()
    public var voiceActivity = VoiceActivityConfig()
    public var nuclei = SyllableNucleiConfig()
    public var delivery = DeliveryConfig()
    public var filledPauses = FilledPauseConfig()
    public var twoVoices = TwoVoicesConfig()
    /// How large and how long a recording may be.
    public var limits = InputLimits()
    /// Frames each stage keeps to look back at (20 s): more than the longest look-ahead and
    /// look-back of any stage together.
    public var ringFrames = 2048
    /// Two stereo channels correlated at least this much over the first `warmUp` seconds are
    /// one signal saved twice. Two parties on separate channels, even with echo leaking
    /// across at -20 dB, correlate far less.
    public var identicalChannelCorrelation = 0.99
    /// A recording known to be no longer than this is judged whole, as one warm-up (its
    /// levels and floors from all of it): short clips have nothing to stream, seconds.
    public var wholeWarmUpSeconds = 10.0
    /// Shortest recording analysed, seconds.
    public var minimumDurationSeconds = 0.5

    public init() {
        #if YUSU_DEV_TUNING
            applyDev()
        #endif
    }
}
