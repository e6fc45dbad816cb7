import Foundation
import Testing
import YusuSignal
import YusuTestSupport

@Suite("Pitch: YIN candidates tracked by dynamic programming")
struct PitchTests {
    func track(_ x: [Float]) -> PitchTrack {
        PitchTracker.track(FrameAnalyzer.features(of: x), levels: .clean(floorDb: -90))
    }

    func cents(_ a: Double, _ b: Double) -> Double { 1200 * log2(a / b) }

    /// YIN's candidates as the paper writes them: the difference summed sample by sample in
    /// Double, its cumulative-mean normalisation, every local minimum below 1 refined on the
    /// raw difference, the deepest kept.
    func directCandidates(_ x: [Float], frame i: Int, config c: AnalysisConfig) -> [(lag: Float, dip: Float)] {
        let w = c.pitchIntegrationSamples
        let maxLag = c.maxLagSamples
        let start = i * c.hopSamples + c.hopSamples / 2 - (w + c.analysisRateHz / 200) / 2
        func at(_ j: Int) -> Double { j >= 0 && j < x.count ? Double(x[j]) : 0 }
        var raw = [Double](repeating: 0, count: maxLag + 2)
        var d = [Double](repeating: 1, count: maxLag + 2)
        var sum = 0.0
        for tau in 1...maxLag {
            var diff = 0.0
            for j in 0..<w {
                let e = at(start + j) - at(start + j + tau)
                diff += e * e
            }
            raw[tau] = diff
            sum += diff
            d[tau] = sum > 0 ? diff * Double(tau) / sum : 1
        }
        raw[maxLag + 1] = raw[maxLag]
        d[maxLag + 1] = d[maxLag]
        var found: [(lag: Float, dip: Float)] = []
        for tau in max(2, c.minLagSamples)...maxLag where d[tau] < d[tau - 1] && d[tau] <= d[tau + 1] && d[tau] < 1 {
            let curvature = raw[tau - 1] - 2 * raw[tau] + raw[tau + 1]
            let offset = curvature > 0 ? max(-0.5, min(0.5, 0.5 * (raw[tau - 1] - raw[tau + 1]) / curvature)) : 0
            found.append((Float(Double(tau) + offset), Float(d[tau])))
        }
        return Array(found.sorted { $0.dip < $1.dip }.prefix(c.pitchCandidatesPerFrame))
    }

    @Test(
        "the FFT-based candidates are YIN's, summed directly: lag within 0.02 samples, dip within 0.01",
        arguments: [(130.0, 60.0, 90), (60.5, 4.0, 50)])
    func candidatesAreDirectYIN(startHz: Double, risePerSecondHz: Double, minimumCompared: Int) {
        // A voiced tone in noise: several minima per frame, some shallow. The frame loop
        // splits its sums into interleaved chains and takes the cross term from a 320-point
        // FFT; neither may change what YIN finds. The second tone's period (127-132 samples)
        // lies in the last block of lags the minima search reads, next to maxLag (134).
        let c = AnalysisConfig()
        let tone = Synth.harmonicTone(seconds: 0.6, rateHz: 8000, f0Hz: { startHz + risePerSecondHz * $0 })
        let hiss = Synth.noise(seconds: 0.6, rateHz: 8000, rmsDbov: -32, seed: 7)
        let x = zip(tone, hiss).map { $0 + $1 }
        let f = FrameAnalyzer.features(of: x, config: c)
        var compared = 0
        for i in 2..<(f.frameCount - 2) {
            let direct = directCandidates(x, frame: i, config: c)
            for (slot, want) in direct.enumerated() {
                let lag = f.candidateLag(i, slot)
                let dip = f.candidateDip(i, slot)
                #expect(abs(lag - want.lag) < 0.02, "frame \(i) slot \(slot): lag \(lag) for \(want.lag)")
                #expect(abs(dip - want.dip) < 0.01, "frame \(i) slot \(slot): dip \(dip) for \(want.dip)")
                compared += 1
            }
        }
        // The low tone has fewer minima in range (its second period is past maxLag).
        #expect(compared > minimumCompared)
        #expect(FrameAnalyzer.pitchFFTSize(c) == 320)
    }

    @Test("a harmonic tone's F0 is found within 10 cents", arguments: [80.0, 120.0, 210.0, 330.0, 450.0])
    func steady(f0: Double) {
        let t = track(Synth.harmonicTone(seconds: 1, rateHz: 8000, f0Hz: { _ in f0 }))
        for i in 10..<90 {
            #expect(t.f0Hz[i] > 0)
            #expect(abs(cents(Double(t.f0Hz[i]), f0)) < 10, "frame \(i): \(t.f0Hz[i]) Hz for \(f0) Hz")
        }
    }

    @Test("no systematic bias: mean error under 2 cents on steady tones")
    func unbiased() {
        // Interpolating the lag on YIN's normalised difference (not the raw one) made every
        // estimate a few cents sharp.
        for f0 in [97.0, 153.0, 263.0] {
            let t = track(Synth.harmonicTone(seconds: 1, rateHz: 8000, f0Hz: { _ in f0 }))
            let errors = (10..<90).map { cents(Double(t.f0Hz[$0]), f0) }
            #expect(
                abs(errors.reduce(0, +) / Double(errors.count)) < 2,
                "mean \(errors.reduce(0, +) / Double(errors.count)) cents at \(f0) Hz")
        }
    }

    @Test("telephone band: F0 found with the fundamental filtered out")
    func missingFundamental() {
        for f0 in [110.0, 180.0, 240.0] {
            let t = track(Synth.harmonicTone(seconds: 1, rateHz: 8000, firstHarmonic: 2, f0Hz: { _ in f0 }))
            let voiced = (10..<90).filter { t.f0Hz[$0] > 0 }
            #expect(voiced.count >= 78)
            for i in voiced { #expect(abs(cents(Double(t.f0Hz[i]), f0)) < 15, "\(t.f0Hz[i]) Hz for \(f0) Hz") }
        }
    }

    @Test("a final glide is followed: 200 Hz falling 6 semitones over the last 0.4 s")
    func glide() {
        let f0: (Double) -> Double = { t in t < 0.6 ? 200 : 200 * pow(2, -6 * (t - 0.6) / 0.4 / 12) }
        let t = track(Synth.harmonicTone(seconds: 1.0, rateHz: 8000, f0Hz: f0))
        for i in stride(from: 5, to: 95, by: 5) {
            let truth = f0((Double(i) + 0.5) * 0.01)
            #expect(abs(cents(Double(t.f0Hz[i]), truth)) < 25, "frame \(i): \(t.f0Hz[i]) vs \(truth)")
        }
    }

    @Test("silence and white noise are unvoiced")
    func unvoiced() {
        let silent = track([Float](repeating: 0, count: 8000))
        #expect(silent.voicedFrameCount == 0)
        let noisy = PitchTracker.track(
            FrameAnalyzer.features(of: Synth.noise(seconds: 1, rateHz: 8000, rmsDbov: -20)),
            levels: .clean(floorDb: -60))
        #expect(noisy.voicedFrameCount < 10)
    }
}
