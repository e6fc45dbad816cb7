/// The fixed analysis grid and the ranges every stage works in.
///
/// All analysis runs at `analysisRateHz` (telephone band): wider-band recordings are
/// converted down first, so one set of parameters serves 8, 16 and 48 kHz calls alike.
/// Frame `i` covers hop `i`, the samples `[i*hop, (i+1)*hop)`; its time is the hop centre,
/// `(i + 0.5) * hopSeconds`. Windows are centred on that time.
public struct AnalysisConfig: Sendable, Equatable {
    /// Rate every stage analyses at, Hz.
    public var analysisRateHz: Int = 8_000
    /// Frame hop, samples at `analysisRateHz` (80 = 10 ms).
    public var hopSamples: Int = 80
    /// Spectral window (Hann), samples; also the FFT size for band energies.
    public var spectralWindowSamples: Int = 256
    /// Lowest F0 searched, Hz (60–500 covers adult voices).
    public var minF0Hz: Double = 60
    /// Highest F0 searched, Hz.
    public var maxF0Hz: Double = 500
    /// YIN integration window, samples (20 ms: short enough not to smear voicing edges).
    public var pitchIntegrationSamples: Int = 160
    /// Pitch candidates kept per frame for the tracker.
    public var pitchCandidatesPerFrame: Int = 4

    public init() {}

    public var hopSeconds: Double { Double(hopSamples) / Double(analysisRateHz) }
    /// Longest pitch period searched, samples.
    public var maxLagSamples: Int { Int((Double(analysisRateHz) / minF0Hz).rounded(.up)) }
    /// Shortest pitch period searched, samples.
    public var minLagSamples: Int { Int((Double(analysisRateHz) / maxF0Hz).rounded(.down)) }
    /// Centre time of frame `index`, seconds.
    @inline(__always) public func frameTimeSeconds(_ index: Int) -> Double {
        (Double(index) + 0.5) * hopSeconds
    }
    /// Frame whose hop contains `seconds`.
    @inline(__always) public func frameIndex(atSeconds seconds: Double) -> Int {
        Int((seconds / hopSeconds).rounded(.down))
    }
}
