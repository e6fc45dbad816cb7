import Foundation

/// A FrameAnalyzer's workspaces, which hold nothing from one block of frames to the next (the
/// pitch window's FFT keeps only its zero tail): the three FFTs (FFTW plans and aligned
/// buffers), the Hann window, the analysis window, YIN's buffers, and a stage block's pitch
/// slots and band table. One set per thread and analysis grid, shared by every analyzer on
/// that thread: a server coaching hundreds of calls on one core touches one set of these
/// (about 23 KB, and of the 229 KB of slots and 7 KB of table the first few columns: a live
/// piece brings a few frames) instead of one per channel, so they stay in cache.
final class FrameScratch {
    let spectralFFT: RealFFT
    let pitchFFT: RealFFT
    /// The pitch search's integration window, transformed on its own: the part past the
    /// window stays zero from the start (FFTW's out-of-place r2c leaves its input as it was),
    /// and its spectrum stays where FFTW wrote it, so a frame neither clears nor copies them.
    let pitchWindowFFT: RealFFT
    let hann: UnsafeMutablePointer<Float>
    let hannPowerSum: Float
    let window: UnsafeMutablePointer<Float>
    /// Per searched frame of a stage block (`FrameAnalyzer.stageBlockFrames` slots), what
    /// the pitch search's transforms pass leaves for its YIN pass: the window's energy prefix
    /// sums (element j + 1 the sum of the first j + 1 squares; element 0 is 0 from the start
    /// and never written), and the cross term r(tau) for tau = 0 ... maxLag.
    private let prefixEnergies: UnsafeMutablePointer<Float>
    private let crossTerms: UnsafeMutablePointer<Float>
    private let prefixStride: Int, crossStride: Int
    /// The frame index of each slot.
    let searchedFrames: UnsafeMutablePointer<Int>
    /// A stage block's envelope band levels, band by band (`bandLevelStride` floats a band):
    /// columns 0 and 1 the two frames before the block, column 2 + j the block's frame j, and
    /// room for a last vector of eight.
    let bandLevels: UnsafeMutablePointer<Float>
    let bandLevelStride: Int
    let normalisedDifference: UnsafeMutablePointer<Float>
    let rawDifference: UnsafeMutablePointer<Float>
    /// The running sum of YIN's difference d(tau), lags 0 ... maxLag.
    let cumulativeDifference: UnsafeMutablePointer<Float>
    let bestLag: UnsafeMutablePointer<Float>
    let bestDip: UnsafeMutablePointer<Float>
    /// The four bands' and the envelope's mean squares, then their levels (`VectorLog`,
    /// eight lanes at a time; lanes past the sixteen bands hold 1).
    let levelPowers: UnsafeMutablePointer<Double>
    let levelDb: UnsafeMutablePointer<Float>
    /// The flatness's products of 16 powers, eight lanes at a time (lanes past them hold 1).
    let flatnessProducts: UnsafeMutablePointer<Double>
    /// |X_k|² of the spectral FFT's bins.
    let binPower: UnsafeMutablePointer<Float>

    /// Slot `slot`'s energy prefix sums (span + 1 elements).
    @inline(__always) func prefixEnergy(_ slot: Int) -> UnsafeMutablePointer<Float> {
        prefixEnergies + slot &* prefixStride
    }

    /// Slot `slot`'s cross term (maxLag + 1 elements).
    @inline(__always) func crossTerm(_ slot: Int) -> UnsafeMutablePointer<Float> {
        crossTerms + slot &* crossStride
    }

    static func pitchSpanSamples(_ config: AnalysisConfig) -> Int {
        config.pitchIntegrationSamples + config.maxLagSamples + 1
    }

    init(config: AnalysisConfig) {
        let n = config.spectralWindowSamples
        let span = Self.pitchSpanSamples(config)
        spectralFFT = RealFFT(size: n)
        pitchFFT = RealFFT(size: FrameAnalyzer.pitchFFTSize(config))
        pitchWindowFFT = RealFFT(size: FrameAnalyzer.pitchFFTSize(config))
        hann = .allocate(capacity: n)
        var power: Float = 0
        for i in 0..<n {
            let h = Float(0.5 - 0.5 * cos(2 * Double.pi * (Double(i) + 0.5) / Double(n)))
            hann[i] = h
            power += h * h
        }
        hannPowerSum = power
        window = Self.buffer(max(n, span), 0)
        let slots = FrameAnalyzer.stageBlockFrames
        // Strides of whole 64-byte lines (16 floats).
        prefixStride = (span + 1 + 15) / 16 * 16
        crossStride = (config.maxLagSamples + 1 + 15) / 16 * 16
        prefixEnergies = Self.buffer(slots * prefixStride, 0)
        crossTerms = Self.buffer(slots * crossStride, 0)
        searchedFrames = .allocate(capacity: slots)
        searchedFrames.initialize(repeating: 0, count: slots)
        bandLevelStride = (2 + slots + 8 + 7) / 8 * 8
        bandLevels = Self.buffer(FrameFeatures.envelopeBandCount * bandLevelStride, 0)
        cumulativeDifference = Self.buffer(config.maxLagSamples + 1, 0)
        // Eight lags past the last are read by the vectorised minima search, unmasked: those
        // past maxLag + 1 keep their 1 for good, so none of them is taken for a minimum.
        normalisedDifference = Self.buffer(config.maxLagSamples + 10, 1)
        rawDifference = Self.buffer(config.maxLagSamples + 2, 0)
        bestLag = Self.buffer(config.pitchCandidatesPerFrame, 0)
        bestDip = Self.buffer(config.pitchCandidatesPerFrame, 0)
        let levelLanes = (4 + FrameFeatures.envelopeBandCount + 7) / 8 * 8
        levelPowers = .allocate(capacity: levelLanes)
        levelPowers.initialize(repeating: 1, count: levelLanes)
        levelDb = Self.buffer(levelLanes, 0)
        let productLanes = ((n / 2 + 1) / 16 + 1 + 7) / 8 * 8
        flatnessProducts = .allocate(capacity: productLanes)
        flatnessProducts.initialize(repeating: 1, count: productLanes)
        binPower = Self.buffer(spectralFFT.binCount, 0)
    }

    private static func buffer(_ count: Int, _ value: Float) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        p.initialize(repeating: value, count: count)
        return p
    }

    deinit {
        for p in [
            hann, window, prefixEnergies, crossTerms, cumulativeDifference, normalisedDifference, rawDifference,
            bestLag, bestDip, levelDb, binPower, bandLevels,
        ] {
            p.deallocate()
        }
        for p in [levelPowers, flatnessProducts] { p.deallocate() }
        searchedFrames.deallocate()
    }

    /// This thread's set for `config`'s grid, made on first use; kept for the thread's life.
    /// Allocates nothing once made (a thread-specific slot, a short list of grids).
    static func current(for config: AnalysisConfig) -> FrameScratch {
        let grid = Grid(config)
        let slots = threadSlots()
        for (g, scratch) in slots.sets where g == grid { return scratch }
        let made = FrameScratch(config: config)
        slots.sets.append((grid, made))
        return made
    }

    /// What sizes the workspaces.
    private struct Grid: Equatable {
        var window: Int, integration: Int, maxLag: Int, candidates: Int
        init(_ c: AnalysisConfig) {
            (window, integration, maxLag, candidates) = (
                c.spectralWindowSamples, c.pitchIntegrationSamples, c.maxLagSamples, c.pitchCandidatesPerFrame
            )
        }
    }

    private final class Slots {
        var sets: [(Grid, FrameScratch)] = []
        var block: UnsafeMutablePointer<Float>?
        var blockCapacity = 0
        deinit { block?.deallocate() }
    }

    /// This thread's block of at least `count` samples, for a front end's block of channels:
    /// it holds nothing from one `push` to the next, so every front end on the thread shares
    /// it (a coaching server's hundreds of calls touch one block, which stays in cache, not
    /// one each). Grows, never shrinks; valid until the next call on this thread.
    static func sampleBlock(count: Int) -> UnsafeMutablePointer<Float> {
        let slots = threadSlots()
        if slots.blockCapacity < count {
            slots.block?.deallocate()
            let capacity = max(count, 8192)
            slots.block = .allocate(capacity: capacity)
            slots.block!.initialize(repeating: 0, count: capacity)
            slots.blockCapacity = capacity
        }
        return slots.block!
    }

    private static func threadSlots() -> Slots {
        if let raw = pthread_getspecific(slotKey) { return Unmanaged<Slots>.fromOpaque(raw).takeUnretainedValue() }
        let slots = Slots()
        pthread_setspecific(slotKey, Unmanaged.passRetained(slots).toOpaque())
        return slots
    }

    /// The thread-specific slot; a thread's sets are released when it ends.
    private static let slotKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<Slots>.fromOpaque(raw).release() }
        }
        return key
    }()
}
