import Foundation
import Testing
import YusuTestSupport

@testable import YusuSignal

@Suite("Voice activity, syllable nuclei, P.56 level")
struct ActivityAndNucleiTests {
    func analyse(_ x: [Float]) -> (FrameFeatures, PitchTrack) {
        let f = FrameAnalyzer.features(of: x)
        return (f, PitchTracker.track(f))
    }

    @Test("a voiced burst in line noise is speech exactly where it sounds; held as steady as a machine's, it is not")
    func burst() {
        let rate = 8000
        let noise = Synth.noise(seconds: 4, rateHz: rate, rmsDbov: -60)
        func detect(f0Hz: @escaping (Double) -> Double) -> (speech: [Bool], frames: Int) {
            let tone = Synth.harmonicTone(seconds: 1.5, rateHz: rate, amplitude: 0.1, f0Hz: f0Hz)
            let x = Synth.mix(noise, Synth.place(tone, atSeconds: 1.0, totalSeconds: 4, rateHz: rate))
            let (f, p) = analyse(x)
            return (VoiceActivityDetector().detect(f, pitch: p), f.frameCount)
        }
        // A voice's pitch moves (here ±2% at 5 Hz); its level may hold.
        let (speech, frames) = detect { t in 150 * (1 + 0.02 * sin(2 * .pi * 5 * t)) }
        let truth = (0..<frames).map { i in (100..<250).contains(i) }
        let agree = zip(speech, truth).filter { $0 == $1 }.count
        #expect(Double(agree) / Double(frames) > 0.97)
        #expect(speech[175] && !speech[50] && !speech[350])
        // The same burst at one pitch and one level is a tone (a beep, a note of hold music).
        let (steady, _) = detect { _ in 150 }
        #expect(!steady.contains(true), "a machine-steady tone taken for speech")
    }

    @Test("echo of the other channel 25 dB down is not speech")
    func echo() {
        let rate = 8000
        let talker = Synth.mix(
            Synth.noise(seconds: 3, rateHz: rate, rmsDbov: -65, seed: 2),
            Synth.place(Synth.syllableTrain(count: 8), atSeconds: 0.5, totalSeconds: 3, rateHz: rate))
        let leak = Synth.mix(
            Synth.noise(seconds: 3, rateHz: rate, rmsDbov: -65, seed: 3), talker.map { $0 * pow(10, -25 / 20) })
        let (ft, pt) = analyse(talker)
        let (fl, pl) = analyse(leak)
        let talkerSpeech = VoiceActivityDetector().detect(ft, pitch: pt, other: fl)
        let leakSpeech = VoiceActivityDetector().detect(fl, pitch: pl, other: ft)
        #expect(talkerSpeech.filter { $0 }.count > 150)
        #expect(leakSpeech.filter { $0 }.count == 0)
    }

    @Test("hold music (steady harmonic notes) is not speech; speech beside it still is")
    func music() {
        let rate = 8000
        // A tune: eight 1 s notes, continuous and level, as hold music is.
        let notes = [262.0, 294, 330, 349, 392, 349, 330, 294]
        let tune = Synth.harmonicTone(seconds: 8, rateHz: rate, amplitude: 0.1, f0Hz: { t in notes[min(7, Int(t))] })
        let talk = Synth.syllableTrain(count: 16)
        let x = Synth.mix(
            Synth.mix(
                Synth.noise(seconds: 14, rateHz: rate, rmsDbov: -60),
                Synth.place(tune, atSeconds: 1, totalSeconds: 14, rateHz: rate)),
            Synth.place(talk, atSeconds: 9.5, totalSeconds: 14, rateHz: rate))
        let (f, p) = analyse(x)
        let speech = VoiceActivityDetector().detect(f, pitch: p)
        let inMusic = (100..<900).filter { speech[$0] }.count
        let inTalk = (980..<1350).filter { speech[$0] }.count
        #expect(inMusic < 40, "\(inMusic) music frames called speech")
        #expect(inTalk > 300, "\(inTalk) of 370 talk frames called speech")
    }

    /// A voiced sound whose formants glide all the time, as speech's do from syllable to
    /// syllable (F1 300–800 Hz and F2 900–2300 Hz moving at 4 Hz, F0 150 Hz), its level
    /// swinging about 6 dB at 3 Hz, as hard-compressed speech's does.
    static func glidingVowels(seconds: Double, rateHz: Int, amplitude: Float) -> [Float] {
        let n = Int(seconds * Double(rateHz))
        var out = [Float](repeating: 0, count: n)
        var phase = 0.0
        for i in 0..<n {
            let t = Double(i) / Double(rateHz)
            phase += 2 * Double.pi * 150 / Double(rateHz)
            let f1 = 550 + 250 * sin(2 * .pi * 4 * t)
            let f2 = 1600 - 700 * sin(2 * .pi * 4 * t + 1)
            var v = 0.0
            var k = 1
            while Double(k) * 150 < 3400 {
                let f = Double(k) * 150
                let gain = exp(-pow((f - f1) / 120, 2)) + 0.6 * exp(-pow((f - f2) / 180, 2)) + 0.02
                v += gain * sin(Double(k) * phase)
                k += 1
            }
            out[i] = Float(v * (1 + 0.35 * sin(2 * .pi * 3 * t)))
        }
        return Synth.normalise(out, peak: amplitude)
    }

    @Test("speech whose level compression has made flat is still speech: its spectrum keeps changing, music's does not")
    func compressedSpeechIsNotMusic() {
        let rate = 8000
        let vowels = Self.glidingVowels(seconds: 4, rateHz: rate, amplitude: 0.1)
        let x = Synth.mix(
            Synth.noise(seconds: 6, rateHz: rate, rmsDbov: -60),
            Synth.place(vowels, atSeconds: 1, totalSeconds: 6, rateHz: rate))
        let (f, p) = analyse(x)
        // Level and voicing alone would call it music: energies within 8 dB, voiced throughout.
        let energies = (120..<480).map { f.energyDb[$0] }.sorted()
        #expect(energies[324] - energies[36] < 8 && energies[324] - energies[36] > 4)
        #expect((120..<480).filter { p.f0Hz[$0] > 0 }.count > 340)
        let speech = VoiceActivityDetector().detect(f, pitch: p)
        let inVowels = (110..<490).filter { speech[$0] }.count
        #expect(inVowels > 360, "\(inVowels) of 380 frames called speech")
        // The same detector without the spectral cue (a change limit no window stays under)
        // rejects it as music: the cue is what keeps it.
        var config = VoiceActivityConfig()
        config.musicSpectralChangeDb = .infinity
        let asMusic = VoiceActivityDetector(config: config).detect(f, pitch: p)
        #expect((110..<490).filter { asMusic[$0] }.count < 100)
    }

    @Test("gap filling and burst dropping")
    func smoothing() {
        var flags: [Bool] = [true, true, false, true, true, false, false, false, false, true, false]
        flags = StageRun.shortRuns(.gaps(shorterThan: 2), flags)
        #expect(flags == [true, true, true, true, true, false, false, false, false, true, false])
        flags = StageRun.shortRuns(.bursts(shorterThan: 2), flags)
        #expect(flags == [true, true, true, true, true, false, false, false, false, false, false])
        #expect(VoiceActivityDetector.runs(flags) == [0..<5])
    }

    @Test(
        "a syllable train of known count is counted", arguments: [(12, 0.18, 0.07), (20, 0.14, 0.06), (7, 0.25, 0.12)])
    func syllableCount(count: Int, syllable: Double, gap: Double) {
        let rate = 8000
        let train = Synth.syllableTrain(count: count, syllableSeconds: syllable, gapSeconds: gap)
        let x = Synth.mix(train, Synth.noise(seconds: Double(train.count) / Double(rate), rateHz: rate, rmsDbov: -60))
        let (f, p) = analyse(x)
        let speech = VoiceActivityDetector().detect(f, pitch: p)
        let nuclei = SyllableNucleusDetector().detect(f, pitch: p, speech: speech)
        #expect(nuclei.count == count, "found \(nuclei.count) of \(count)")
        // Each nucleus lies inside its syllable.
        let starts = Synth.syllableStarts(count: count, syllableSeconds: syllable, gapSeconds: gap)
        for (n, s) in zip(nuclei, starts) {
            let t = f.config.frameTimeSeconds(n)
            #expect(t >= s && t <= s + syllable, "nucleus at \(t) s outside \(s)...\(s + syllable)")
        }
    }

    @Test("slow speech: long syllables with a wobbling envelope count once each")
    func slowSyllables() {
        // Corpus case: at 0.6x tempo a vowel lasts ~0.4 s and its envelope wobbles (formant
        // and tone movement), which fixed 80 ms spacing counted twice.
        let rate = 8000
        let count = 60
        var x = Synth.syllableTrain(count: count, syllableSeconds: 0.42, gapSeconds: 0.1, f0Hz: 150)
        // Two humps of 2 dB inside every syllable.
        for i in 0..<x.count {
            let t = Double(i) / Double(rate) - 0.3
            let phase = t.truncatingRemainder(dividingBy: 0.52) / 0.42
            if t > 0 && phase < 1 { x[i] *= Float(pow(10, (1 - cos(4 * Double.pi * phase)) * 0.05)) }
        }
        x = Synth.mix(x, Synth.noise(seconds: Double(x.count) / Double(rate), rateHz: rate, rmsDbov: -60))
        let (f, p) = analyse(x)
        let speech = VoiceActivityDetector().detect(f, pitch: p)
        let nuclei = SyllableNucleusDetector().detect(f, pitch: p, speech: speech)
        #expect(abs(nuclei.count - count) <= 3, "found \(nuclei.count) of \(count)")
    }

    @Test("tempo stretch: spacing keeps the higher of close peaks; smoothing widens fractionally")
    func stretchMechanics() {
        // Peaks at 10 (low), 16 (high), 30: spacing 8 drops 10 and keeps 16 and 30.
        var x = [Float](repeating: 0, count: 40)
        x[10] = 1
        x[16] = 2
        x[30] = 1
        #expect(Reference.spacedPeaks(x, minimumDistance: 8) == [16, 30])
        #expect(StageRun.peaks(x, spacingFrames: 8) == [16, 30])
        #expect(StageRun.peaks(x, spacingFrames: 1) == [10, 16, 30])
        // A unit impulse spread by a 6.5-frame window: 5 full frames of 1/6.5, two of 0.75/6.5.
        var impulse = [Float](repeating: 0, count: 21)
        impulse[10] = 1
        let smoothed = StageRun.smoothed(impulse, stretch: 1.3)
        #expect(abs(smoothed[10] - 1 / 6.5) < 1e-6 && abs(smoothed[13] - 0.75 / 6.5) < 1e-6 && smoothed[14] == 0)
        #expect(abs(smoothed.reduce(0, +) - 1) < 1e-5)
    }

    @Test("P.56: a sine on half the time measures its own level, activity about one half")
    func activeLevel() {
        let rate = 8000
        let tone = Synth.sine(frequencyHz: 400, amplitude: 0.1, seconds: 2, rateHz: rate)
        let x =
            Synth.place(tone, atSeconds: 1, totalSeconds: 4, rateHz: rate)
            + Synth.place(tone, atSeconds: 0, totalSeconds: 2, rateHz: rate)
        let hops = LevelAccumulator.hops(of: x, sampleRateHz: rate)
        let m = ActiveSpeechLevel.measure(
            hopMeanSquare: hops.map(\.meanSquare), hopEnvelopePeak: hops.map(\.envelopePeak))!
        #expect(abs(m.activeLevelDbov - (20 * log10(0.1) - 3.01)) < 0.3)
        #expect(abs(m.activityFactor - 4.0 / 6.0) < 0.06)  // 4 s of tone in 6 s
        #expect(abs(m.longTermLevelDbov - (20 * log10(0.1) - 3.01 + 10 * log10(4.0 / 6.0))) < 0.1)
    }

    @Test("P.56 envelope in blocks, one channel or two at once, equals it sample by sample, bit for bit")
    func levelBlocks() {
        let rate = 8000
        // Two different signals, so that a mix-up of the channels shows.
        let a = Synth.sine(frequencyHz: 300, amplitude: 0.3, seconds: 1.3, rateHz: rate)
        let b = Synth.sine(frequencyHz: 170, amplitude: 0.05, seconds: 1.3, rateHz: rate).enumerated().map {
            $1 * Float(1 + $0 % 7)
        }
        var one = LevelAccumulator(sampleRateHz: rate)
        var pairA = LevelAccumulator(sampleRateHz: rate)
        var pairB = LevelAccumulator(sampleRateHz: rate)
        // Blocks of odd sizes, so that hop boundaries (every 80 samples) fall inside and at their ends.
        var at = 0
        var size = 1
        while at < a.count {
            let n = min(size, a.count - at)
            a.withUnsafeBufferPointer { xa in
                b.withUnsafeBufferPointer { xb in
                    let blockA = UnsafeBufferPointer(rebasing: xa[at..<(at + n)])
                    one.add(contentsOf: blockA)
                    LevelAccumulator.add(&pairA, &pairB, blockA, UnsafeBufferPointer(rebasing: xb[at..<(at + n)]))
                }
            }
            at += n
            size = size * 3 % 997 + 1
        }
        one.finish()
        pairA.finish()
        pairB.finish()
        // The reference: one sample at a time.
        func sampleBySample(_ x: [Float]) -> [LevelAccumulator.Hop] {
            var reference = LevelAccumulator(sampleRateHz: rate)
            x.withUnsafeBufferPointer { all in
                for k in all.indices { reference.add(contentsOf: UnsafeBufferPointer(rebasing: all[k..<(k + 1)])) }
            }
            reference.finish()
            return (0..<reference.hops.count).map { reference.hops[$0] }
        }
        let hopsA = sampleBySample(a)
        let hopsB = sampleBySample(b)
        #expect(hopsA.count == 130 && one.hops.count == hopsA.count && pairB.hops.count == hopsB.count)
        for k in 0..<hopsA.count {
            #expect(one.hops[k] == hopsA[k] && pairA.hops[k] == hopsA[k] && pairB.hops[k] == hopsB[k])
        }
    }

    @Test("P.56 gate leaves out what is not this party's speech")
    func gatedLevel() {
        let rate = 8000
        let speech = Synth.sine(frequencyHz: 300, amplitude: 0.05, seconds: 2, rateHz: rate)
        let music = Synth.sine(frequencyHz: 600, amplitude: 0.5, seconds: 2, rateHz: rate)
        let x = speech + music
        let hops = LevelAccumulator.hops(of: x, sampleRateHz: rate)
        let gate = (0..<hops.count).map { $0 < 200 }
        let m = ActiveSpeechLevel.measure(
            hopMeanSquare: hops.map(\.meanSquare), hopEnvelopePeak: hops.map(\.envelopePeak), gate: gate)!
        #expect(abs(m.activeLevelDbov - (20 * log10(0.05) - 3.01)) < 0.3)
    }
}
