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
