import Foundation
import Testing
import YusuSignal

@testable import YusuDelivery

@Suite("A party's running voice measures: phonation, register, gated active level")
struct PartyVoiceTests {
    let hop = 0.01

    @Test("phonation bridges pauses under 0.25 s, not longer ones, and leaves out frames 16 dB under the loud level")
    func phonation() {
        var p = PhonationTimer(config: DeliveryConfig(), hopSeconds: hop)
        // 1 s of speech at -20 dB, a 0.2 s pause (bridged), 1 s more, a 0.5 s pause (not bridged), 1 s more.
        for j in 0..<100 { p.addSpeech(j, energyDb: -20) }
        for j in 120..<220 { p.addSpeech(j, energyDb: -20) }
        #expect(p.frames == 220, "a 0.2 s pause is phonation: \(p.frames)")
        for j in 270..<370 { p.addSpeech(j, energyDb: -20) }
        #expect(p.frames == 320, "a 0.5 s pause is not: \(p.frames)")
        // Speech frames 20 dB under the loud level (room tone between words) are not phonation.
        for j in 370..<400 { p.addSpeech(j, energyDb: -40) }
        #expect(p.frames == 320, "quiet speech frames counted: \(p.frames)")
    }

    @Test("the register's median and its 10th-90th percentile range, on a known F0 distribution")
    func register() {
        var r = PitchRegister()
        #expect(r.medianHz == nil && r.rangeSemitones(hopSeconds: hop) == nil)
        // Half a second at 150 Hz: a median, but under a second for a range.
        for _ in 0..<50 { r.add(f0Hz: 150) }
        #expect(abs((r.medianHz ?? 0) - 150) < 150 * 0.003, "\(String(describing: r.medianHz))")
        #expect(r.rangeSemitones(hopSeconds: hop) == nil)
        // Then 100 and 200 Hz in equal parts: the range spans the octave between them.
        for _ in 0..<200 {
            r.add(f0Hz: 100)
            r.add(f0Hz: 200)
        }
        let range = r.rangeSemitones(hopSeconds: hop) ?? 0
        #expect(abs(range - 12) < 0.1, "range \(range) st")
    }

    @Test("the active level gates in the hops within 0.2 s of speech: a tone's level, not the silence around it")
    func gatedLevel() {
        let n = 600
        var frames = FrameRing<Frame>(capacity: 1024, filler: Frame())
        var speech = FrameRing<Bool>(capacity: 1024, filler: false)
        // A tone of mean square -23 dB (a sine of peak -20 dBov) over frames 200..<400 marked speech;
        // noise 60 dB under it elsewhere.
        let tone = Float(pow(10, -20.0 / 10)) / 2
        let noise = Float(pow(10, -80.0 / 10)) / 2
        var level = SpeechGatedLevel()
        var reference = ActiveLevelMeter()
        for j in 0..<n {
            var f = Frame()
            let isSpeech = j >= 200 && j < 400
            f.hopMeanSquare = isSpeech ? tone : noise
            f.hopEnvelopePeak = (isSpeech ? tone : noise).squareRoot() * 2
            frames.append(f)
            speech.append(isSpeech)
            level.decided(j, speech: isSpeech, frames: frames, speechRing: speech)
        }
        level.finish(through: n, frames: frames, speechRing: speech)
        // The same hops through the meter, gated by hand: speech from 19 frames before a hop
        // to 20 after it (P.56's 0.2 s hangover either side).
        for j in 0..<n {
            reference.add(
                meanSquare: frames[j].hopMeanSquare, envelopePeak: frames[j].hopEnvelopePeak,
                gated: j >= 200 - 20 && j < 400 + 19)
        }
        #expect(level.metered == n)
        let got = level.measurement()?.activeLevelDbov ?? 0
        #expect(got == reference.measurement()?.activeLevelDbov, "level \(got)")
        // The long-term level and activity divide by the gated hops: a gate a hop wider or
        // narrower moves them.
        #expect(level.measurement()?.longTermLevelDbov == reference.measurement()?.longTermLevelDbov)
        #expect(level.measurement()?.activityFactor == reference.measurement()?.activityFactor)
        #expect(
            abs(got - (-23)) < 1.5,
            "the tone's active level (its mean square, the gated noise hops diluting it a little): \(got)")
    }
}
