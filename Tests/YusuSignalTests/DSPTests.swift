import Foundation
import Testing
import YusuTestSupport

@testable import YusuSignal

@Suite("FFT, resampling, frames")
struct DSPTests {
    @Test("RealFFT matches a naive DFT, also with a dirty workspace")
    func fftAgainstDFT() {
        let fft = RealFFT(size: 64)
        var rng = Synth.Random(seed: 3)
        for round in 0..<2 {
            let x = (0..<64).map { _ in rng.uniform() }
            if round == 1 { for k in 0..<(2 * fft.binCount) { fft.spectrum[k] = 1e6 } }
            for i in 0..<64 { fft.real[i] = x[i] }
            fft.forward()
            for k in 0..<fft.binCount {
                var re = 0.0
                var im = 0.0
                for n in 0..<64 {
                    re += Double(x[n]) * cos(2 * .pi * Double(k * n) / 64)
                    im -= Double(x[n]) * sin(2 * .pi * Double(k * n) / 64)
                }
                #expect(abs(Double(fft.spectrum[2 * k]) - re) < 1e-3)
                #expect(abs(Double(fft.spectrum[2 * k + 1]) - im) < 1e-3)
            }
            fft.inverse()
            for i in 0..<64 { #expect(abs(fft.real[i] / 64 - x[i]) < 1e-5) }
        }
    }

    /// `x` through `r` in blocks of 1, then `nextSize(previous)` samples, and its finish.
    static func resample(_ x: [Float], with r: inout Resampler, nextSize: (Int) -> Int) -> [Float] {
        var out: [Float] = []
        var i = 0
        var size = 1
        while i < x.count {
            let end = min(x.count, i + size)
            x[i..<end].withUnsafeBufferPointer { r.process($0, into: &out) }
            i = end
            size = nextSize(size)
        }
        r.finish(into: &out)
        return out
    }

    @Test("FFTW alone (the bench's floor) transforms the same finite values however many rounds it runs")
    func transformsAloneStayFinite() {
        // One workspace whose c2r fed its own next r2c grew 320 times a round, to NaN by the
        // 16th: the floor was then measured on NaN, not on values like speech's.
        let config = AnalysisConfig()
        let once = TransformsAlone.run(frames: 1, pitchSearches: 1, config: config)
        let often = TransformsAlone.run(frames: 40, pitchSearches: 400, config: config)
        #expect(once.isFinite && once != 0)
        #expect(often == once, "\(often) after 400 rounds, \(once) after one")
    }

    @Test("the resampler keeps the telephone band and removes what lies above it")
    func resampler() {
        for rate in [16000, 22050, 48000] {
            var r = Resampler(inputRateHz: rate, outputRateHz: 8000)
            let inBand = Synth.sine(frequencyHz: 1000, amplitude: 0.5, seconds: 1, rateHz: rate)
            // Fed in uneven blocks, as a decoder would.
            let out = Self.resample(inBand, with: &r) { $0 * 3 % 4097 + 1 }
            #expect(out.count == 8000)
            let middle = Array(out[1000..<7000])
            #expect(abs(Synth.levelDbov(middle) - (20 * log10(0.5) - 3.01)) < 0.1)
            // Frequency: zero crossings of 1 kHz over 6000 samples (0.75 s) = 1500.
            var crossings = 0
            for j in 1..<middle.count where (middle[j - 1] < 0) != (middle[j] < 0) { crossings += 1 }
            #expect(abs(crossings - 1500) <= 2)

            var stop = Resampler(inputRateHz: rate, outputRateHz: 8000)
            var gone: [Float] = []
            let above = Synth.sine(frequencyHz: 5000, amplitude: 0.5, seconds: 1, rateHz: rate)
            above.withUnsafeBufferPointer { stop.process($0, into: &gone) }
            stop.finish(into: &gone)
            #expect(Synth.levelDbov(Array(gone[1000..<7000])) < -60)
        }
    }

    @Test("whole-ratio decimation sixteen outputs at a time equals it one output at a time, bit for bit")
    func decimationLanes() {
        for rate in [16000, 24000, 32000, 48000] {
            let x = Synth.noise(seconds: 0.5, rateHz: rate, rmsDbov: -20)
            // One sample a block: each output is emitted alone, as soon as its window is held.
            var single = Resampler(inputRateHz: rate, outputRateHz: 8000)
            var one: [Float] = []
            for k in 0..<x.count { x[k..<(k + 1)].withUnsafeBufferPointer { single.process($0, into: &one) } }
            single.finish(into: &one)
            // The whole signal at once: all but the edges go sixteen at a time.
            var whole = Resampler(inputRateHz: rate, outputRateHz: 8000)
            var all: [Float] = []
            x.withUnsafeBufferPointer { whole.process($0, into: &all) }
            whole.finish(into: &all)
            #expect(all.count == 4000 && one.count == 4000)
            let differing = zip(all, one).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(rate) Hz: \(differing) of 4000 outputs differ")
        }
    }

    @Test("a fractional ratio's phase tables give the per-tap kernel's output, in blocks of any size")
    func phaseTables() {
        for rate in [11025, 12000, 22050, 44100] {
            let x = Synth.noise(seconds: 0.5, rateHz: rate, rmsDbov: -20)
            var reference = Resampler(inputRateHz: rate, outputRateHz: 8000, phaseTables: false)
            var expected: [Float] = []
            x.withUnsafeBufferPointer { reference.process($0, into: &expected) }
            reference.finish(into: &expected)
            // Uneven blocks, as a decoder would give them: the first output, a block's last
            // ones and the end take the edge path, the rest the table's.
            var phased = Resampler(inputRateHz: rate, outputRateHz: 8000)
            let got = Self.resample(x, with: &phased) { $0 * 7 % 3001 + 1 }
            #expect(got.count == 4000 && expected.count == 4000)
            // The same kernel and positions; only the additions' order (eight lanes) differs.
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-6, "\(rate) Hz: largest difference \(worst)")
        }
    }

    @Test("frame count, frame times and energy of a known sine")
    func frames() {
        let x = Synth.sine(frequencyHz: 500, amplitude: 0.1, seconds: 1.005, rateHz: 8000)
        let f = FrameAnalyzer.features(of: x)
        #expect(f.frameCount == 101)  // ceil(8040 / 80)
        #expect(abs(f.config.frameTimeSeconds(0) - 0.005) < 1e-12)
        #expect(abs(Double(f.energyDb[50]) - (20 * log10(0.1) - 3.01)) < 0.2)
        // A 500 Hz sine has its energy in the 300–1000 Hz band.
        #expect(f.bandDb[1][50] > f.bandDb[0][50] + 20)
        #expect(f.bandDb[1][50] > f.bandDb[3][50] + 20)
        // Tonal: flatness near 0. White noise: much flatter.
        #expect(f.spectralFlatness[50] < 0.1)
        #expect(
            FrameAnalyzer.features(of: Synth.noise(seconds: 1, rateHz: 8000, rmsDbov: -30)).spectralFlatness[50] > 0.4)
    }

    @Test("block size does not change the features", arguments: [333, 7, 80, 1_000])
    func blockIndependence(piece: Int) {
        // A glide, so that the spectrum changes from frame to frame: the spectral change of a
        // block's first two frames reads the shapes the block before it left.
        let x = Synth.harmonicTone(seconds: 1, rateHz: 8000, f0Hz: { t in 110 + 120 * t })
        let a = FrameAnalyzer.features(of: x)
        let pieces = FrameAnalyzer()
        var b = FrameFeatures(config: AnalysisConfig())
        var i = 0
        while i < x.count {
            let end = min(x.count, i + piece)
            pieces.process(Array(x[i..<end]))
            while b.frameCount < pieces.frameCount { b.append(pieces.frames[b.frameCount]) }
            i = end
        }
        pieces.finish()
        while b.frameCount < pieces.frameCount { b.append(pieces.frames[b.frameCount]) }
        #expect(a.frameCount == b.frameCount && a.frameCount > 90)
        #expect(a.energyDb == b.energyDb && a.bandDb == b.bandDb && a.spectralFlatness == b.spectralFlatness)
        #expect(a.syllableEnvelopeDb == b.syllableEnvelopeDb && a.spectralChangeDb == b.spectralChangeDb)
        #expect(a.spectralChangeDb.dropFirst(2).contains { $0 > 0.1 })
        #expect(a.candidateLagQ8 == b.candidateLagQ8 && a.candidateDipQ == b.candidateDipQ)
    }

    @Test("VectorLog's logarithm is within a few units in the last place of the C library's")
    func vectorLog() {
        // Across the whole range the frame loop feeds it: levels from 1e-12 up, flatness
        // products down to 1e-192, and the edges of the argument reduction (√½, 1, √2).
        var rng = Synth.Random(seed: 11)
        var xs: [Double] = [
            1e-192, 1e-12, 0.707_106_781_186_547_5, 1, 1.414_213_562_373_095, 1.414_213_562_373_096, 2, 1e80,
        ]
        // (`uniform` is in -1 ..< 1.)
        for _ in 0..<2000 { xs.append(pow(10, (Double(rng.uniform()) + 1) / 2 * 272 - 192)) }
        for _ in 0..<200 { xs.append(1 + Double(rng.uniform()) * 1e-6) }
        var worst = 0.0
        var lane = 0
        while lane < xs.count {
            var v = SIMD8<Double>(repeating: 1)
            for j in 0..<min(8, xs.count - lane) { v[j] = xs[lane + j] }
            let logs = VectorLog.naturalLog(v)
            let db = VectorLog.decibels(v)
            for j in 0..<min(8, xs.count - lane) {
                let exact = log(v[j])
                let error = abs(logs[j] - exact) / max(abs(exact), 1e-300)
                worst = max(worst, exact == 0 ? abs(logs[j]) : error)
                // A level rounded to Float: the correctly rounded value, or its neighbour.
                let level = Float(10 * log10(v[j]))
                #expect(abs(db[j] - level) <= level.ulp, "\(v[j]): \(db[j]) against \(level)")
            }
            lane += 8
        }
        #expect(worst < 1e-13, "worst relative error \(worst)")
    }

    @Test("band levels and flatness agree with a direct sum over the spectrum")
    func bandLevelsAgainstDirectSums() {
        // Noise plus two tones: every band holds power, flatness is in between.
        var x = Synth.noise(seconds: 0.5, rateHz: 8000, rmsDbov: -40)
        let tones = Synth.sine(frequencyHz: 700, amplitude: 0.05, seconds: 0.5, rateHz: 8000)
        let high = Synth.sine(frequencyHz: 2600, amplitude: 0.02, seconds: 0.5, rateHz: 8000)
        for i in x.indices { x[i] += tones[i] + high[i] }
        let f = FrameAnalyzer.features(of: x)
        let frame = 25
        // The frame's window, Hann-weighted, through a naive DFT.
        let n = 256
        let centre = frame * 80 + 40
        var windowed = [Double](repeating: 0, count: n)
        var hannPower = 0.0
        for i in 0..<n {
            let h = 0.5 - 0.5 * cos(2 * Double.pi * (Double(i) + 0.5) / Double(n))
            hannPower += h * h
            windowed[i] = Double(x[centre - n / 2 + i]) * h
        }
        func binPower(_ k: Int) -> Double {
            var re = 0.0
            var im = 0.0
            for i in 0..<n {
                re += windowed[i] * cos(2 * Double.pi * Double(k * i) / Double(n))
                im -= windowed[i] * sin(2 * Double.pi * Double(k * i) / Double(n))
            }
            return re * re + im * im
        }
        let binHz = 8000.0 / Double(n)
        let edges: [(Double, Double)] = FrameFeatures.bandEdgesHz
        for (b, edge) in edges.enumerated() {
            let lo = Int((edge.0 / binHz).rounded())
            let hi = min(n / 2 + 1, Int((edge.1 / binHz).rounded()))
            let power = (lo..<hi).reduce(0.0) { $0 + binPower($1) } * 2 / (Double(n) * hannPower)
            #expect(abs(Double(f.bandDb[b][frame]) - 10 * log10(power)) < 0.01, "band \(b)")
        }
        let lo = Int((300 / binHz).rounded())
        let hi = Int((3400 / binHz).rounded())
        let powers = (lo..<hi).map { binPower($0) + 1e-12 }
        let geometric = exp(powers.reduce(0.0) { $0 + log($1) } / Double(powers.count))
        let flatness = geometric / (powers.reduce(0, +) / Double(powers.count))
        #expect(abs(Double(f.spectralFlatness[frame]) - flatness) < 1e-3 * flatness + 1e-6)
        #expect(flatness > 0.01 && flatness < 0.5)
    }

    @Test(
        "CountingPercentile is the histogram's scanned percentile after every value",
        arguments: [0.95, 0.5, 0.1, 0.0])
    func countingPercentile(p: Double) {
        // Speech-like levels: a loud mode, a quiet tail, values off both ends of the grid and
        // on bin edges, and long runs in one bin (the cursor must cross empty bins both ways).
        var rng = Synth.Random(seed: 11)
        var counted = CountingPercentile(p: p, lowest: -120, highest: 10, step: 0.1)
        var scanned = RunningHistogram(lowest: -120, highest: 10, step: 0.1)
        #expect(counted.value == nil)
        var differing = 0
        for i in 0..<20_000 {
            let x: Float
            switch i % 10 {
            case 0: x = -150 + 200 * Float(rng.uniform())
            case 1: x = -30 + Float(Int(rng.uniform() * 20)) / 10
            case 2: x = i < 10_000 ? -25 : -80
            default: x = -30 + 6 * Float(rng.uniform())
            }
            counted.add(x)
            scanned.add(x)
            if counted.value != scanned.percentile(p) { differing += 1 }
        }
        #expect(differing == 0)
        #expect(counted.histogram.total == 20_000)
    }

    @Test("a frame is 52 bytes, its candidates' lags and dips read back as written")
    func frameLayout() {
        // Every stage keeps rings of frames (two of 4,096 per channel): a field of wider
        // alignment would cost every live call memory.
        #expect(MemoryLayout<Frame>.stride == 52)
        var f = Frame()
        for c in 0..<Frame.candidateCount { f.setCandidate(c, lag: 20 + 10.25 * Float(c), dip: 0.1 * Float(c)) }
        for c in 0..<Frame.candidateCount {
            #expect(f.lag(c) == 20 + 10.25 * Float(c))
            #expect(abs(f.dip(c) - 0.1 * Float(c)) <= 0.5 / FrameFeatures.dipScale)
        }
        f.setCandidate(2, lag: 0, dip: 0.3)
        #expect(f.lag(2) == 0 && f.dip(2) == 1 && f.lag(1) == 30.25 && f.lag(3) == 50.75)
    }

    @Test("the pitch tracker's traceback, stopped where it meets the last path, decides as a whole walk does")
    func tracebackEarlyStop() {
        // Random candidates (none to four a frame, lags over the whole range, octave pairs
        // among them) and levels near the floor: many close calls between paths.
        var rng = Synth.Random(seed: 21)
        var early = PitchTracker(ringFrames: 8192)
        var whole = PitchTracker(ringFrames: 8192)
        whole.tracesWholeLag = true
        let levels = ChannelLevels.clean(floorDb: -60)
        for i in 0..<6000 {
            var f = Frame()
            f.energyDb = -45 + 35 * (Float(rng.uniform()) + 1) / 2
            f.band1Db = f.energyDb - 3 * Float(rng.uniform())
            f.band3Db = f.energyDb - 20 + 10 * Float(rng.uniform())
            let count = Int((rng.uniform() + 1) * 2.5)
            let base: Float = 20 + 50 * (Float(rng.uniform()) + 1) / 2 + Float(i % 7)
            for c in 0..<min(count, Frame.candidateCount) {
                let lag = c == 1 ? 2 * base : base * (1 + 0.6 * Float(rng.uniform()))
                f.setCandidate(c, lag: min(lag, 134), dip: 0.02 + 0.3 * (Float(rng.uniform()) + 1) / 2)
            }
            early.push(f, levels: levels)
            whole.push(f, levels: levels)
        }
        early.finish()
        whole.finish()
        #expect(early.framesOut == 6000 && whole.framesOut == 6000)
        var differing = 0
        var voiced = 0
        for i in 0..<6000 where early.f0Hz[i] != whole.f0Hz[i] || early.chosenDip[i] != whole.chosenDip[i] {
            differing += 1
        }
        for i in 0..<6000 where early.f0Hz[i] > 0 { voiced += 1 }
        #expect(differing == 0)
        // The paths do switch: both states occur, often.
        #expect(voiced > 600 && voiced < 5400, "\(voiced) voiced")
    }
}
