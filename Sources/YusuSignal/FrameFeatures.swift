/// Compact per-frame features of one channel: one array per feature, indexed by frame.
///
/// About 60 bytes a frame: a two-hour stereo call at 100 frames/s keeps ~90 MB.
public struct FrameFeatures: Sendable {
    /// Band edges of `bandDb`, Hz: [lower, upper) per band.
    public static let bandEdgesHz: [(Double, Double)] = [(60, 300), (300, 1000), (1000, 2000), (2000, 3800)]
    public static var bandCount: Int { bandEdgesHz.count }
    /// Bands of the syllable envelope: 12 log-spaced over 250–3400 Hz.
    public static let envelopeBandCount = 12
    public static let envelopeRangeHz = (250.0, 3400.0)

    public let config: AnalysisConfig
    /// Hann-weighted mean-square level of the spectral window, dBov.
    public var energyDb: [Float] = []
    /// Band energies, dBov per band; `bandDb[b][i]` for band `b`, frame `i`.
    public var bandDb: [[Float]] = Array(repeating: [], count: FrameFeatures.bandCount)
    /// Syllable envelope: mean of the log energies of 12 log-spaced bands over 250–3400 Hz, dB.
    /// Each band counts alike, so a syllable onset in any region of the spectrum raises it.
    public var syllableEnvelopeDb: [Float] = []
    /// Spectral flatness (geometric / arithmetic mean of power, 300–3400 Hz), 0...1.
    public var spectralFlatness: [Float] = []
    /// Pitch candidates: `candidateLagSamples[i * K + k]` (fractional lag at the analysis rate,
    /// 0 = none) and `candidateDip[i * K + k]` (YIN cumulative-mean-normalised difference, 0...~1.5).
    public var candidateLagSamples: [Float] = []
    public var candidateDip: [Float] = []
    /// Mean square of the hop's samples at the file's own rate (for P.56), linear.
    public var hopMeanSquare: [Float] = []
    /// Peak of the P.56 envelope within the hop, linear.
    public var hopEnvelopePeak: [Float] = []

    public init(config: AnalysisConfig) { self.config = config }

    public var frameCount: Int { energyDb.count }
    public var candidatesPerFrame: Int { config.pitchCandidatesPerFrame }

    mutating func reserve(frames: Int) {
        energyDb.reserveCapacity(frames)
        for b in 0..<bandDb.count { bandDb[b].reserveCapacity(frames) }
        spectralFlatness.reserveCapacity(frames)
        syllableEnvelopeDb.reserveCapacity(frames)
        candidateLagSamples.reserveCapacity(frames * candidatesPerFrame)
        candidateDip.reserveCapacity(frames * candidatesPerFrame)
        hopMeanSquare.reserveCapacity(frames)
        hopEnvelopePeak.reserveCapacity(frames)
    }
}
