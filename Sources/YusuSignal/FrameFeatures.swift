/// Compact per-frame features of one channel: one array per feature, indexed by frame.
///
/// About 60 bytes a frame: a two-hour stereo call at 100 frames/s keeps ~90 MB.
public struct FrameFeatures: Sendable {
    /// Band edges of `bandDb`, Hz: [lower, upper) per band.
    public static let bandEdgesHz: [(Double, Double)] = [(60, 300), (300, 1000), (1000, 2000), (2000, 3800)]
    public static var bandCount: Int { bandEdgesHz.count }

    public let config: AnalysisConfig
    /// Hann-weighted mean-square level of the spectral window, dBov.
    public var energyDb: [Float] = []
    /// Band energies, dBov per band; `bandDb[b][i]` for band `b`, frame `i`.
    public var bandDb: [[Float]] = Array(repeating: [], count: FrameFeatures.bandCount)
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
        candidateLagSamples.reserveCapacity(frames * candidatesPerFrame)
        candidateDip.reserveCapacity(frames * candidatesPerFrame)
        hopMeanSquare.reserveCapacity(frames)
        hopEnvelopePeak.reserveCapacity(frames)
    }
}
