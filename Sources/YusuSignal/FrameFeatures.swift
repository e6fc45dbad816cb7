/// Compact per-frame features of one channel: one array per feature, indexed by frame.
///
/// 48 bytes a frame: a two-hour stereo call at 100 frames/s keeps ~69 MB.
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
    /// Pitch candidates, `K` per frame, stored compactly: the fractional lag at the analysis
    /// rate in units of 1/256 sample (0 = no candidate; 134 samples fit in 16 bits) and the
    /// YIN cumulative-mean-normalised difference in units of 1/160 (saturating at 1.59).
    /// Read them with `candidateLag(_:_:)` and `candidateDip(_:_:)`.
    public var candidateLagQ8: [UInt16] = []
    public var candidateDipQ: [UInt8] = []
    public static let dipScale: Float = 160

    /// Lag of candidate `c` of frame `i`, samples; 0 when there is none.
    @inline(__always) public func candidateLag(_ i: Int, _ c: Int) -> Float {
        Float(candidateLagQ8[i * config.pitchCandidatesPerFrame + c]) / 256
    }

    /// YIN dip of candidate `c` of frame `i` (1 when there is none).
    @inline(__always) public func candidateDip(_ i: Int, _ c: Int) -> Float {
        Float(candidateDipQ[i * config.pitchCandidatesPerFrame + c]) / Self.dipScale
    }

    mutating func appendCandidate(lag: Float, dip: Float) {
        candidateLagQ8.append(lag > 0 ? UInt16(min(65535, (lag * 256).rounded())) : 0)
        candidateDipQ.append(UInt8(min(255, max(0, (dip * Self.dipScale).rounded()))))
    }
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
        candidateLagQ8.reserveCapacity(frames * candidatesPerFrame)
        candidateDipQ.reserveCapacity(frames * candidatesPerFrame)
        hopMeanSquare.reserveCapacity(frames)
        hopEnvelopePeak.reserveCapacity(frames)
    }
}
