/// Per-frame features of one channel collected into arrays, one per feature, indexed by
/// frame: for tests, benchmarks and small signals. The streaming analysis never builds
/// this; it reads `Frame`s from a ring.
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
    /// Spectral change over 20 ms of the envelope bands' shape, dB (`Frame.spectralChangeDb`).
    public var spectralChangeDb: [Float] = []
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

    /// Appends one frame's features.
    public mutating func append(_ f: Frame) {
        energyDb.append(f.energyDb)
        bandDb[0].append(f.band0Db)
        bandDb[1].append(f.band1Db)
        bandDb[2].append(f.band2Db)
        bandDb[3].append(f.band3Db)
        syllableEnvelopeDb.append(f.envelopeDb)
        spectralChangeDb.append(f.spectralChangeDb)
        spectralFlatness.append(f.flatness)
        for c in 0..<candidatesPerFrame {
            candidateLagQ8.append(c < Frame.candidateCount ? f.lagQ8(at: c) : 0)
            candidateDipQ.append(c < Frame.candidateCount ? f.dipQ[c] : 160)
        }
        hopMeanSquare.append(f.hopMeanSquare)
        hopEnvelopePeak.append(f.hopEnvelopePeak)
    }

    /// Frame `i` as the streaming stages see it.
    public func frame(_ i: Int) -> Frame {
        var f = Frame()
        f.energyDb = energyDb[i]
        // Tests build features column by column; a column left empty reads as its default.
        func at(_ column: [Float], _ fallback: Float) -> Float { i < column.count ? column[i] : fallback }
        f.band0Db = at(bandDb[0], f.energyDb)
        f.band1Db = at(bandDb[1], f.energyDb)
        f.band2Db = at(bandDb[2], f.energyDb)
        f.band3Db = at(bandDb[3], f.energyDb)
        f.envelopeDb = at(syllableEnvelopeDb, f.energyDb)
        f.flatness = at(spectralFlatness, 0)
        f.spectralChangeDb = at(spectralChangeDb, 0)
        let k = candidatesPerFrame
        func lag(_ c: Int) -> UInt16 { c < k ? candidateLagQ8[i * k + c] : 0 }
        func dip(_ c: Int) -> UInt8 { c < k ? candidateDipQ[i * k + c] : 160 }
        f.lagQ8 = (lag(0), lag(1), lag(2), lag(3))
        f.dipQ = SIMD4(dip(0), dip(1), dip(2), dip(3))
        f.hopMeanSquare = i < hopMeanSquare.count ? hopMeanSquare[i] : 0
        f.hopEnvelopePeak = i < hopEnvelopePeak.count ? hopEnvelopePeak[i] : 0
        return f
    }

    mutating func reserve(frames: Int) {
        energyDb.reserveCapacity(frames)
        for b in 0..<bandDb.count { bandDb[b].reserveCapacity(frames) }
        spectralFlatness.reserveCapacity(frames)
        syllableEnvelopeDb.reserveCapacity(frames)
        spectralChangeDb.reserveCapacity(frames)
        candidateLagQ8.reserveCapacity(frames * candidatesPerFrame)
        candidateDipQ.reserveCapacity(frames * candidatesPerFrame)
        hopMeanSquare.reserveCapacity(frames)
        hopEnvelopePeak.reserveCapacity(frames)
    }
}
