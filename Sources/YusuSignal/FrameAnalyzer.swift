// Per-frame analysis of one channel: energy, band energies, spectral flatness and pitch
// candidates, in one streaming pass with every buffer allocated up front.
//
// Stages per 10 ms frame (analysis rate 8 kHz):
//   1. energy: Hann-weighted mean square of a 32 ms window, dBov (0 dBov = full-scale square);
//   2. spectrum: 256-point real FFT of the Hann-windowed frame -> four band energies
//      (60–300, 300–1000, 1000–2000, 2000–3800 Hz) and spectral flatness over 300–3400 Hz
//      (Gray & Markel 1974: geometric over arithmetic mean of the power spectrum), and the
//      syllable envelope: the mean log energy of 12 log-spaced bands over 250–3400 Hz,
//      and the spectral change of those bands' shape over 20 ms (the RMS difference of
//      the log band energies less their mean; spectral transition after Furui 1986, "On
//      the role of spectral transition for speech perception", JASA 80(4)): gain-free, so
//      compression or an AGC that flattens speech's level leaves its transitions;
//   3. pitch candidates: YIN's cumulative-mean-normalised difference function
//      (de Cheveigné & Kawahara 2002, "YIN, a fundamental frequency estimator for speech
//      and music", JASA 111(4), steps 2–5), with the difference function's cross term
//      computed as an FFT cross-correlation (one 320-point r2c of the integration window,
//      one of the whole lag span, one c2r). Every local minimum of the normalised
//      difference in the lag range is a candidate, refined by parabolic interpolation;
//      the `pitchCandidatesPerFrame` deepest are kept.
// Departure from YIN: step 6 (best local estimate) and the absolute threshold's choice are
// left to `PitchTracker`, which picks among the candidates of all frames at once by
// dynamic programming (as RAPT does, Talkin 1995), the octave-error control YIN's
// per-frame threshold cannot give on band-limited telephone speech.
import Foundation

/// Streams the samples of one channel (at `config.analysisRateHz`) and writes each frame,
/// as soon as its windows are complete, into `frames`: a ring of the last frames, which
/// the next stage reads before it is overwritten. Look-ahead: half the longest window
/// (the pitch span, about 20 ms) past the frame's centre.
///
/// All workspaces are allocated in `init`; `process` and `finish` allocate only when the
/// caller's block is larger than any before (the input buffer grows once).
public final class FrameAnalyzer {
    public let config: AnalysisConfig
    /// The frames produced so far (the last `frames.capacity` of them held).
    public private(set) var frames: FrameRing<Frame>

    private let pitchSpanSamples: Int
    private let halfReachSamples: Int
    /// Where the pitch span starts relative to the frame centre, samples (negative).
    private let pitchStartOffset: Int
    private let bandBins: [(Int, Int)]
    private let flatnessBins: (Int, Int)
    private let envelopeBins: [(Int, Int)]

    private var buffer: [Float] = []
    private var bufferStart = 0
    private var samplesSeen = 0
    private var nextFrame = 0

    /// The envelope bands' shapes of the last two frames analysed (the older first), dB:
    /// state, so this analyzer's own.
    private let bandShapes: UnsafeMutablePointer<Float>
    /// The quietest frame level so far, dB: frames within `pitchGateDb` of it skip the YIN
    /// search (the tracker's quiet-frame penalty would never voice them anyway).
    private var runningFloorDb: Float = 0
    private var floorInitialised = false
    private var framesAnalysed = 0
    /// Frames whose pitch search ran (the others were background): for benchmarks.
    public private(set) var pitchSearchCount = 0

    /// - Parameters:
    ///   - config: the analysis grid.
    ///   - ringFrames: how many of the latest frames stay readable; the consumer must read
    ///     each frame before this many more are produced.
    public init(config: AnalysisConfig = AnalysisConfig(), ringFrames: Int = 4096) {
        self.config = config
        // At least a stage block: a block's frames are read back for their pitch.
        frames = FrameRing(capacity: max(ringFrames, Self.stageBlockFrames), filler: Frame())
        // This thread's workspaces and FFTW plans, made now rather than at the first samples.
        _ = FrameScratch.current(for: config)
        pitchSpanSamples = FrameScratch.pitchSpanSamples(config)
        let n = config.spectralWindowSamples
        // YIN compares the window [s, s+W) with [s+tau, s+tau+W): their joint centre is
        // s + (W + tau) / 2. Centre that on the frame for a typical lag (200 Hz), not the
        // whole lag span, or every estimate is taken ~6 ms early.
        let typicalLag = config.analysisRateHz / 200
        pitchStartOffset = -(config.pitchIntegrationSamples + typicalLag) / 2
        halfReachSamples = max(n / 2, pitchSpanSamples + pitchStartOffset, -pitchStartOffset) + 1
        let binHz = Double(config.analysisRateHz) / Double(n)
        let nyquistBin = n / 2
        bandBins = FrameFeatures.bandEdgesHz.map { lo, hi in
            (max(1, Int((lo / binHz).rounded())), min(nyquistBin, Int((hi / binHz).rounded())))
        }
        flatnessBins = (Int((300 / binHz).rounded()), min(nyquistBin, Int((3400 / binHz).rounded())))
        let (envelopeLow, envelopeHigh) = FrameFeatures.envelopeRangeHz
        let bandsN = FrameFeatures.envelopeBandCount
        envelopeBins = (0..<bandsN).map { b in
            let lo = envelopeLow * pow(envelopeHigh / envelopeLow, Double(b) / Double(bandsN))
            let hi = envelopeLow * pow(envelopeHigh / envelopeLow, Double(b + 1) / Double(bandsN))
            let first = Int((lo / binHz).rounded(.up))
            return (first, max(first + 1, Int((hi / binHz).rounded(.up))))
        }
        bandShapes = .allocate(capacity: 2 * FrameFeatures.envelopeBandCount)
        bandShapes.initialize(repeating: 0, count: 2 * FrameFeatures.envelopeBandCount)
        buffer.reserveCapacity(16_384)
    }

    deinit {
        bandShapes.deallocate()
    }

    /// The cross-correlation's FFT length: the shortest 2^k or 5 * 2^k that holds the span
    /// (a circular correlation that long has no wrap-around at the lags YIN reads). FFTW
    /// runs those lengths fast; at 8 kHz the span of 295 samples takes 320, not 512, and the
    /// three transforms a frame cost about half (FFTW_ESTIMATE plans, measured: 1.07 against
    /// 2.0 microseconds).
    public static func pitchFFTSize(_ config: AnalysisConfig) -> Int {
        let span = FrameScratch.pitchSpanSamples(config)
        var power = 64
        while power < span { power *= 2 }
        var fivePower = 80
        while fivePower < span { fivePower *= 2 }
        return min(power, fivePower)
    }

    /// Frames this close to the quietest level so far skip the pitch search, dB.
    public static let pitchGateDb: Float = 6
    static let pitchGateWarmupFrames = 100

    /// Appends samples and analyses every frame whose windows are complete.
    public func process(_ samples: UnsafeBufferPointer<Float>) {
        // This thread's workspaces (FFTs, windows, the YIN buffers), taken anew at each call
        // and passed down: a borrowed reference costs no retain per frame (a stored one cost
        // one, a cache miss each with hundreds of calls on a core).
        let s = FrameScratch.current(for: config)
        buffer.append(contentsOf: samples)
        samplesSeen += samples.count
        // The held samples borrowed once for the frames they complete (borrowed per window,
        // the array was retained and released twice a frame).
        buffer.withUnsafeBufferPointer { held in
            var ready = 0
            while frameCentre(nextFrame + ready) + halfReachSamples <= samplesSeen { ready += 1 }
            analyseFrames(ready, s, held)
        }
        compact()
    }

    /// Convenience for tests and small signals.
    public func process(_ samples: [Float]) {
        samples.withUnsafeBufferPointer { process($0) }
    }

    /// Analyses the remaining frames (the signal is taken as silent past its end):
    /// `ceil(samples / hop)` frames in all.
    public func finish() {
        let frameCount = (samplesSeen + config.hopSamples - 1) / config.hopSamples
        let s = FrameScratch.current(for: config)
        buffer.withUnsafeBufferPointer { held in analyseFrames(max(0, frameCount - nextFrame), s, held) }
        buffer.removeAll()
    }

    /// Samples processed so far.
    public var sampleCount: Int { samplesSeen }

    /// Frames produced so far.
    public var frameCount: Int { frames.count }

    /// Every frame of `samples` as columnar features (tests, benchmarks, small signals):
    /// the same analysis, collected.
    public static func features(of samples: [Float], config: AnalysisConfig = AnalysisConfig()) -> FrameFeatures {
        let analyzer = FrameAnalyzer(config: config, ringFrames: 1024)
        var out = FrameFeatures(config: config)
        var read = 0
        func drain() {
            while read < analyzer.frames.count {
                out.append(analyzer.frames[read])
                read += 1
            }
        }
        var i = 0
        while i < samples.count {
            let end = min(samples.count, i + 4096)
            samples.withUnsafeBufferPointer { analyzer.process(UnsafeBufferPointer(rebasing: $0[i..<end])) }
            drain()
            i = end
        }
        analyzer.finish()
        drain()
        return out
    }

    @inline(__always) private func frameCentre(_ index: Int) -> Int {
        index * config.hopSamples + config.hopSamples / 2
    }

    private func compact() {
        // Keep what the next frame's windows reach back to.
        let keepFrom = frameCentre(nextFrame) - halfReachSamples
        let drop = keepFrom - bufferStart
        if drop > 8_192 {
            buffer.removeFirst(drop)
            bufferStart += drop
        }
    }

    /// The `count` samples starting at absolute index `start`: in place in the held samples
    /// `b` when they are all there (nearly every frame: no copy), otherwise copied into `w`
    /// with zeros outside what is held and heard.
    private func window(
        start: Int, count: Int, from b: UnsafeBufferPointer<Float>, orInto w: UnsafeMutablePointer<Float>
    ) -> UnsafePointer<Float> {
        let origin = bufferStart
        let first = max(start, origin, 0)
        let end = min(start + count, samplesSeen, origin + b.count)
        if first == start && end == start + count { return b.baseAddress! + (start - origin) }
        if first >= end {
            w.update(repeating: 0, count: count)
            return UnsafePointer(w)
        }
        if first > start { w.update(repeating: 0, count: first - start) }
        (w + (first - start)).update(from: b.baseAddress! + (first - origin), count: end - first)
        if end < start + count { (w + (end - start)).update(repeating: 0, count: start + count - end) }
        return UnsafePointer(w)
    }

    /// Frames analysed a stage at a time, at most this many together: 128 holds all that a
    /// decoded block completes (about 100 a channel at 8 kHz), where 32 split them in four
    /// (frames 84.3 -> 83.4 ms on call_05, medians of four interleaved pairs).
    static let stageBlockFrames = 128

    /// Analyses the next `count` frames: up to `stageBlockFrames` at a time, first every
    /// frame's spectrum, then every frame's pitch (its transforms, then its YIN steps, each a
    /// pass of its own: `transformPitch`), so that each stage's FFTW plan, window and
    /// buffers stay warm from one frame to the next instead of alternating with the other's
    /// (whole score 153-156 -> 150-151 ms on call_05, A/B on one core). The arithmetic is the
    /// same, frame by frame, in the same order within each stage.
    private func analyseFrames(_ count: Int, _ s: FrameScratch, _ held: UnsafeBufferPointer<Float>) {
        var left = count
        while left > 0 {
            let block = min(left, Self.stageBlockFrames)
            let first = nextFrame
            for index in first..<(first + block) {
                // Filled as a local: writes to a class's stored property pay an exclusivity check each.
                var frame = Frame()
                analyseSpectrum(centre: frameCentre(index), s, held, column: index - first, into: &frame)
                frames.append(frame)
            }
            envelopeAndChange(first: first, count: block, s)
            // The pitch search in two passes: every searched frame's transforms, then every
            // searched frame's YIN steps (see `transformPitch`).
            var searched = 0
            for index in first..<(first + block) {
                var frame = frames[index]
                if transformPitch(centre: frameCentre(index), s, held, slot: searched, into: &frame) {
                    s.searchedFrames[searched] = index
                    searched += 1
                } else {
                    frames[index] = frame
                }
            }
            for slot in 0..<searched {
                let index = s.searchedFrames[slot]
                var frame = frames[index]
                searchPitch(slot: slot, s, into: &frame)
                frames[index] = frame
            }
            nextFrame += block
            left -= block
        }
    }

    /// One frame's energy, bands and flatness; its envelope bands' levels go to `column` of
    /// the block's table, for `envelopeAndChange`.
    private func analyseSpectrum(
        centre: Int, _ s: FrameScratch, _ held: UnsafeBufferPointer<Float>, column: Int, into frame: inout Frame
    ) {
        let n = config.spectralWindowSamples
        let w = window(start: centre - n / 2, count: n, from: held, orInto: s.window)
        let fft = s.spectralFFT
        let h = s.hann
        let hannPowerSum = s.hannPowerSum
        // Windowed eight samples at a time, the power summed in eight lanes (one running sum
        // was a chain of dependent additions, a quarter of this function's time).
        var powers = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            let v =
                UnsafeRawPointer(w + j).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(h + j).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(fft.real + j).storeBytes(of: v, as: SIMD8<Float>.self)
            powers += v * v
            j += 8
        }
        var weightedPower = powers.sum()
        while j < n {
            let v = w[j] * h[j]
            fft.real[j] = v
            weightedPower += v * v
            j += 1
        }
        let energy = Self.decibels(weightedPower / hannPowerSum)
        frame.energyDb = energy
        fft.forward()
        // Parseval: mean square in a band = 2/N * sum |X_k|^2 / sum(w^2). The 16 bands'
        // levels are taken eight at a time (`VectorLog`): the four bands, then the
        // envelope's twelve (padded to sixteen).
        let scale = 2 / (Float(n) * hannPowerSum)
        let bandPowers = s.levelPowers, levels = s.levelDb, products = s.flatnessProducts
        let binPower = s.binPower
        let spectrum = fft.spectrum
        // |X_k|² of every bin once, four bins at a time (each bin's sum in the scalar order).
        let binCount = fft.binCount
        var bin = 0
        while bin + 4 <= binCount {
            let v = UnsafeRawPointer(spectrum + 2 * bin).loadUnaligned(as: SIMD8<Float>.self)
            let squares = v * v
            UnsafeMutableRawPointer(binPower + bin).storeBytes(
                of: squares.evenHalf + squares.oddHalf, as: SIMD4<Float>.self)
            bin += 4
        }
        while bin < binCount {
            binPower[bin] = spectrum[2 * bin] * spectrum[2 * bin] + spectrum[2 * bin + 1] * spectrum[2 * bin + 1]
            bin += 1
        }
        let bandCount = FrameFeatures.envelopeBandCount
        for (b, bins) in bandBins.enumerated() {
            bandPowers[b] = Double(Self.clamped(Self.sum(binPower, bins) * scale))
        }
        for (b, bins) in envelopeBins.enumerated() {
            bandPowers[4 + b] = Double(Self.clamped(Self.sum(binPower, bins) * scale))
        }
        var lane = 0
        while lane < 4 + bandCount {
            let db = VectorLog.decibels(UnsafeRawPointer(bandPowers + lane).loadUnaligned(as: SIMD8<Double>.self))
            UnsafeMutableRawPointer(levels + lane).storeBytes(of: db, as: SIMD8<Float>.self)
            lane += 8
        }
        frame.band0Db = levels[0]
        frame.band1Db = levels[1]
        frame.band2Db = levels[2]
        frame.band3Db = levels[3]
        let table = s.bandLevels + 2 + column
        for b in 0..<bandCount { table[b &* s.bandLevelStride] = levels[4 + b] }
        // Geometric mean as one log per 16 bins: the product of 16 powers (each from 1e-12
        // to below 1e5 for a full-scale frame) stays inside Double's range (1e-192 to 1e80).
        // The products' logs are taken eight at a time.
        // Four bins at a time, each in its own lane, the lanes joined per group (one running
        // product and one running sum were chains of dependent operations; two lanes still
        // waited on a multiply each pair of bins).
        var linearSums = SIMD4<Double>()
        var groups = 0
        var k = flatnessBins.0
        while k < flatnessBins.1 {
            let end = min(k + 16, flatnessBins.1)
            var laneProducts = SIMD4<Double>(repeating: 1)
            while k + 4 <= end {
                let p =
                    SIMD4<Double>(UnsafeRawPointer(binPower + k).loadUnaligned(as: SIMD4<Float>.self)) + 1e-12
                laneProducts *= p
                linearSums += p
                k += 4
            }
            var product = (laneProducts[0] * laneProducts[1]) * (laneProducts[2] * laneProducts[3])
            var lane = 0
            while k < end {
                let p = Double(binPower[k]) + 1e-12
                product *= p
                linearSums[lane] += p
                lane += 1
                k += 1
            }
            products[groups] = product
            groups += 1
        }
        let linearSum = (linearSums[0] + linearSums[1]) + (linearSums[2] + linearSums[3])
        var logSum: Double = 0
        lane = 0
        while lane < groups {
            let logs = VectorLog.naturalLog(UnsafeRawPointer(products + lane).loadUnaligned(as: SIMD8<Double>.self))
            for g in lane..<min(groups, lane + 8) { logSum += logs[g - lane] }
            lane += 8
        }
        let count = Double(flatnessBins.1 - flatnessBins.0)
        frame.flatness = Float(min(1, exp(logSum / count) / (linearSum / count)))
    }

    /// The envelope (the mean of the envelope bands' levels) and the spectral change (the RMS
    /// difference of the bands' shape, levels less their mean, from two frames before) of a
    /// block's frames, eight frames to a vector: each lane sums its own frame's bands in band
    /// order, as one frame at a time did, so every value is the same to the bit, and the
    /// frames' two chains of twelve dependent additions run side by side (the frame analysis
    /// alone on call_05 about 0.6 ms faster, the median of six interleaved pairs of runs of 40).
    private func envelopeAndChange(first: Int, count: Int, _ s: FrameScratch) {
        let bands = FrameFeatures.envelopeBandCount
        let stride = s.bandLevelStride
        let table = s.bandLevels
        // Columns 0 and 1: the shapes of the two frames before the block.
        for b in 0..<bands {
            table[b &* stride] = bandShapes[b]
            table[b &* stride &+ 1] = bandShapes[bands &+ b]
        }
        var j = 0
        while j < count {
            var sum = SIMD8<Float>()
            for b in 0..<bands { sum += Self.load8(table + (b &* stride &+ 2 &+ j)) }
            let envelope = sum / Float(bands)
            for b in 0..<bands {
                let column = table + (b &* stride &+ 2 &+ j)
                Self.store8(Self.load8(column) - envelope, column)
            }
            var squares = SIMD8<Float>()
            for b in 0..<bands {
                let d = Self.load8(table + (b &* stride &+ 2 &+ j)) - Self.load8(table + (b &* stride &+ j))
                squares += d * d
            }
            let change = (squares / Float(bands)).squareRoot()
            for lane in 0..<min(8, count - j) {
                let index = first + j + lane
                var frame = frames[index]
                frame.envelopeDb = envelope[lane]
                // The stream's first two frames have no frame two before them.
                if index >= 2 { frame.spectralChangeDb = change[lane] }
                frames[index] = frame
            }
            j += 8
        }
        // The block's last two shapes, for the next block.
        for b in 0..<bands {
            bandShapes[b] = table[b &* stride &+ count]
            bandShapes[bands &+ b] = table[b &* stride &+ count &+ 1]
        }
    }

    /// The pitch search's first pass for one frame: the background gate, the window's energy
    /// prefix sums and the cross term by FFT, both kept in `slot` of the block's buffers.
    /// - Returns: whether the frame is searched; if not, its candidates are written (none).
    ///
    /// The transforms of a block's frames run one search after another with only the window
    /// copies and the prefix sums between them, and the YIN steps (`searchPitch`) run after
    /// them all, each loop over the block with its own code and branches warm: the frame
    /// analysis alone on call_05 2.1 ms faster (75.2 -> 73.1, medians of six interleaved runs
    /// of 40). In a profile the gain is all in the search's own code (13.7 -> 12.1 ms); FFTW's
    /// share is unchanged, and as large as `TransformsAlone` takes under the same profiler. The
    /// transforms and their order are as before; so is the arithmetic of each frame.
    private func transformPitch(
        centre: Int, _ s: FrameScratch, _ held: UnsafeBufferPointer<Float>, slot: Int, into frame: inout Frame
    ) -> Bool {
        let integration = config.pitchIntegrationSamples
        let maxLag = config.maxLagSamples
        let span = pitchSpanSamples
        let fft = s.pitchFFT
        let size = fft.size
        // Background: the quietest level heard so far (digital silence aside). Frames near
        // it have no pitch worth the search. It never rises, so a long steady sound (hold
        // music) is never taken for background and keeps its pitch; nothing is gated in
        // the first second, before the background has been heard.
        let energy = frame.energyDb
        if energy > -100 {
            runningFloorDb = floorInitialised ? min(runningFloorDb, energy) : energy
            floorInitialised = true
        }
        framesAnalysed += 1
        if energy < -100 || (framesAnalysed > Self.pitchGateWarmupFrames && energy < runningFloorDb + Self.pitchGateDb)
        {
            writeNoCandidates(into: &frame)
            return false
        }
        let w = window(start: centre + pitchStartOffset, count: span, from: held, orInto: s.window)
        pitchSearchCount += 1

        // Energies of every lagged window from one prefix sum, as four interleaved running
        // sums (one per quarter of the span) joined at the end: a single chain of dependent
        // additions was the frame loop's longest latency.
        let p = s.prefixEnergy(slot)
        Self.prefixSum(w, count: span, into: p + 1) { $0 * $0 }
        let e0 = p[integration]
        // Silence (below about -100 dBov) has no pitch worth tracking.
        guard e0 > Float(integration) * 1e-10 else {
            writeNoCandidates(into: &frame)
            return false
        }

        // Cross term r(tau) = sum_{j<W} x[j] x[j+tau] as an FFT cross-correlation.
        let windowFFT = s.pitchWindowFFT
        windowFFT.real.update(from: w, count: integration)
        windowFFT.forward()
        let a = windowFFT.spectrum
        fft.real.update(from: w, count: span)
        (fft.real + span).update(repeating: 0, count: size - span)
        fft.forward()
        let spectrum = fft.spectrum
        for bin in 0..<fft.binCount {
            let ar = a[2 * bin]
            let ai = a[2 * bin + 1]
            let br = spectrum[2 * bin]
            let bi = spectrum[2 * bin + 1]
            // conj(A) * B
            spectrum[2 * bin] = ar * br + ai * bi
            spectrum[2 * bin + 1] = ar * bi - ai * br
        }
        fft.inverse()
        s.crossTerm(slot).update(from: fft.real, count: maxLag + 1)
        return true
    }

    /// The pitch search's second pass: YIN's steps 2–5 on the energies and cross term kept
    /// in `slot`, and the frame's candidates.
    private func searchPitch(slot: Int, _ s: FrameScratch, into frame: inout Frame) {
        let bestLag = s.bestLag, bestDip = s.bestDip
        let integration = config.pitchIntegrationSamples
        let maxLag = config.maxLagSamples
        let minLag = max(2, config.minLagSamples)
        let size = s.pitchFFT.size
        let k = config.pitchCandidatesPerFrame
        for c in 0..<k {
            bestLag[c] = 0
            bestDip[c] = 0
        }
        let p = s.prefixEnergy(slot)
        let e0 = p[integration]
        let twiceInverseScale = 2 / Float(size)

        // YIN steps 2–3: difference and cumulative-mean-normalised difference, in three
        // passes so that the two without a carried sum vectorise: the differences, their
        // running sum, and the normalisation. Float throughout, as the cross term is: the
        // FFT's rounding (about 1e-7 of the energy) is the precision the difference has.
        let raw = s.rawDifference
        let d = s.normalisedDifference
        let cumulative = s.cumulativeDifference
        let cross = s.crossTerm(slot)
        // Eight lags at a time, then the rest one by one.
        var lag = 1
        let e0s = SIMD8<Float>(repeating: e0)
        let scales = SIMD8<Float>(repeating: twiceInverseScale)
        while lag + 7 <= maxLag {
            let lagged = Self.load8(p + lag + integration) - Self.load8(p + lag)
            var x = e0s + lagged - Self.load8(cross + lag) * scales
            x.replace(with: 0, where: .!(x .>= 0))
            Self.store8(x, raw + lag)
            lag += 8
        }
        while lag <= maxLag {
            let lagged = p[lag + integration] - p[lag]
            raw[lag] = max(0, e0 + lagged - cross[lag] * twiceInverseScale)
            lag += 1
        }
        Self.prefixSum(raw + 1, count: maxLag, into: cumulative + 1) { $0 }
        d[0] = 1
        raw[0] = 0
        lag = 1
        var lags = SIMD8<Float>(1, 2, 3, 4, 5, 6, 7, 8)
        while lag + 7 <= maxLag {
            let sums = Self.load8(cumulative + lag)
            var normalised = Self.load8(raw + lag) * lags / sums
            normalised.replace(with: 1, where: .!(sums .> 0))
            Self.store8(normalised, d + lag)
            lags += 8
            lag += 8
        }
        while lag <= maxLag {
            let sum = cumulative[lag]
            d[lag] = sum > 0 ? raw[lag] * Float(lag) / sum : 1
            lag += 1
        }
        d[maxLag + 1] = d[maxLag]
        raw[maxLag + 1] = raw[maxLag]

        // Local minima of d' in the lag range, found eight lags at a time; the lag is refined
        // by parabolic interpolation of the raw difference d (YIN step 5: d' is tilted by its
        // factor tau, which pulls an interpolated minimum towards shorter lags, i.e. sharp F0).
        var tau = max(minLag, 1)
        // Only a dip below the worst one kept can enter the candidates: 1 while there is room,
        // then the last kept dip, which only falls. Minima at or above it are not refined at
        // all: the candidates are the same, and most minima of a noisy frame are skipped.
        var worstKept: Float = 1
        while tau <= maxLag {
            // Sixty-four lags' minima below the worst kept, as the bits of one word taken lowest
            // first (the lags in ascending order): eight blocks of eight lanes, with no branch on
            // whether a block holds any. A branch per block was taken about one time in three
            // (220,000 of call_05's 647,000 blocks), unpredictably: the frame analysis about 1.5
            // ms faster on call_05 (76.1 -> 74.6, medians of four interleaved runs of 40), the
            // candidates the same. A word's limit is the one at its start: a minimum no deeper
            // than one kept earlier in the same word is refined, then dropped by
            // `insertCandidate`. Lanes past maxLag need no mask: d' there is 1 (never written),
            // or at maxLag + 1 a copy of maxLag's, so none of them is a minimum below 1.
            var minima: UInt64 = 0
            var block = 0
            while block < 8 && tau &+ 8 &* block <= maxLag {
                let mask = Self.localMinima(d, at: tau &+ 8 &* block, below: worstKept)
                minima |= UInt64(Self.laneBits(mask)) &<< UInt64(8 &* block)
                block &+= 1
            }
            while minima != 0 {
                let t = tau &+ minima.trailingZeroBitCount
                minima &= minima &- 1
                let left = raw[t - 1]
                let centre = raw[t]
                let right = raw[t + 1]
                let curvature = left - 2 * centre + right
                var offset: Float = 0
                if curvature > 0 {
                    offset = max(-0.5, min(0.5, 0.5 * (left - right) / curvature))
                }
                insertCandidate(lag: Float(t) + offset, dip: d[t], capacity: k, s)
                if bestLag[k - 1] != 0 { worstKept = bestDip[k - 1] }
            }
            tau &+= 64
        }
        appendCandidates(k, s, into: &frame)
    }

    @inline(__always) private func insertCandidate(lag: Float, dip: Float, capacity: Int, _ s: FrameScratch) {
        let bestLag = s.bestLag, bestDip = s.bestDip
        // Keep the `capacity` deepest dips, sorted ascending; empty slots have lag 0.
        var slot = capacity
        for c in 0..<capacity where bestLag[c] == 0 || dip < bestDip[c] {
            slot = c
            break
        }
        guard slot < capacity else { return }
        var c = capacity - 1
        while c > slot {
            bestLag[c] = bestLag[c - 1]
            bestDip[c] = bestDip[c - 1]
            c -= 1
        }
        bestLag[slot] = lag
        bestDip[slot] = dip
    }

    /// A frame not searched: its candidates all empty (lag 0, dip 1).
    @inline(__always) private func writeNoCandidates(into frame: inout Frame) {
        for c in 0..<min(config.pitchCandidatesPerFrame, Frame.candidateCount) { frame.setCandidate(c, lag: 0, dip: 1) }
    }

    @inline(__always) private func appendCandidates(_ k: Int, _ s: FrameScratch, into frame: inout Frame) {
        let bestLag = s.bestLag, bestDip = s.bestDip
        for c in 0..<min(k, Frame.candidateCount) {
            frame.setCandidate(c, lag: bestLag[c], dip: bestLag[c] == 0 ? 1 : bestDip[c])
        }
    }

    @inline(__always) static func load8(_ x: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(x).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func store8(_ v: SIMD8<Float>, _ x: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(x).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Σ `p[k]` over `bins.0 ..< bins.1`, in four lanes (one running sum was a chain of
    /// dependent additions).
    @inline(__always) static func sum(_ p: UnsafeMutablePointer<Float>, _ bins: (Int, Int)) -> Float {
        var lanes = SIMD4<Float>()
        var k = bins.0
        while k + 4 <= bins.1 {
            lanes += UnsafeRawPointer(p + k).loadUnaligned(as: SIMD4<Float>.self)
            k += 4
        }
        var sum = lanes.sum()
        while k < bins.1 {
            sum += p[k]
            k += 1
        }
        return sum
    }

    @inline(__always) static func decibels(_ meanSquare: Float) -> Float {
        10 * log10(clamped(meanSquare))
    }

    /// A mean square kept at or above 1e-12 (-120 dB) before its level is taken.
    @inline(__always) static func clamped(_ meanSquare: Float) -> Float { max(meanSquare, 1e-12) }

    /// A mask's lanes as the bits of a byte, lane 0 lowest.
    @inline(__always) static func laneBits(_ mask: SIMDMask<SIMD8<Int32>>) -> UInt32 {
        // A mask's lanes are all ones or all zeros: each keeps its own bit of the weights, and
        // the bits are joined by halves, three ORs (`wrappedSum` compiled to twice as many
        // instructions, with lane extracts and inserts: frame analysis alone on call_05 0.75
        // ms slower, medians of five interleaved runs of 40).
        let lanes = unsafeBitCast(mask, to: SIMD8<Int32>.self) & SIMD8<Int32>(1, 2, 4, 8, 16, 32, 64, 128)
        let four = lanes.lowHalf | lanes.highHalf
        let two = four.lowHalf | four.highHalf
        return UInt32(truncatingIfNeeded: two[0] | two[1])
    }

    /// Lanes `tau ..< tau + 8` of `d` that are local minima below `limit` (at most 1):
    /// `d[t] < d[t - 1]`, `d[t] <= d[t + 1]` and `d[t] < limit`. Reads `d[tau - 1 ... tau + 8]`.
    @inline(__always) static func localMinima(
        _ d: UnsafeMutablePointer<Float>, at tau: Int, below limit: Float
    ) -> SIMDMask<SIMD8<Int32>> {
        let here = UnsafeRawPointer(d + tau).loadUnaligned(as: SIMD8<Float>.self)
        let before = UnsafeRawPointer(d + tau - 1).loadUnaligned(as: SIMD8<Float>.self)
        let after = UnsafeRawPointer(d + tau + 1).loadUnaligned(as: SIMD8<Float>.self)
        return (here .< before) .& (here .<= after) .& (here .< SIMD8(repeating: limit))
    }

    /// `out[j] = v(x[0]) + ... + v(x[j])`, j < count: four running sums over the
    /// quarters of `x`, interleaved so that their additions overlap, each quarter then offset
    /// by the total of those before it. Each `v(x[j])` is taken as the sum needs it (for the
    /// energies, a sample's square: stored first and summed in a second pass it cost a pass).
    /// `out` may be `x`'s own storage (each element is read before it is written).
    @inline(__always) static func prefixSum(
        _ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>, _ v: (Float) -> Float
    ) {
        let quarter = count / 4
        // One pointer per quarter, so that no index is computed (with its overflow check) in
        // the loops, and the offsets' loops vectorise.
        let x1 = x + quarter, x2 = x + 2 * quarter, x3 = x + 3 * quarter
        let out1 = out + quarter, out2 = out + 2 * quarter, out3 = out + 3 * quarter
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        for j in 0..<quarter {
            s0 += v(x[j])
            s1 += v(x1[j])
            s2 += v(x2[j])
            s3 += v(x3[j])
            out[j] = s0
            out1[j] = s1
            out2[j] = s2
            out3[j] = s3
        }
        for j in (4 * quarter)..<count {
            s3 += v(x[j])
            out[j] = s3
        }
        let offset1 = s0, offset2 = s0 + s1, offset3 = s0 + s1 + s2
        for j in 0..<quarter {
            out1[j] += offset1
            out2[j] += offset2
        }
        for j in 0..<(count - 3 * quarter) { out3[j] += offset3 }
    }
}
