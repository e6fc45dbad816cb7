import Foundation
import Testing
import YusuTestSupport

@testable import YusuSignal

/// The whole-array forms the streaming stages replaced, kept here as oracles: each stage,
/// fed frame by frame, must decide exactly as these did on the whole array.
enum Reference {
    static func flipShortRuns(of value: Bool, in flags: inout [Bool], shorterThan frames: Int, onlyInside: Bool) {
        var i = 0
        let n = flags.count
        while i < n {
            guard flags[i] == value else {
                i += 1
                continue
            }
            var j = i
            while j < n && flags[j] == value { j += 1 }
            if j - i < frames && (!onlyInside || (i > 0 && j < n)) { for k in i..<j { flags[k] = !value } }
            i = j
        }
    }

    static func dropUnvoicedRuns(_ flags: inout [Bool], f0Hz: [Float], minimumVoicedFrames: Int, attachFrames: Int) {
        let all = VoiceActivityDetector.runs(flags)
        let voiced = all.map { run in run.reduce(0) { $0 + (f0Hz[$1] > 0 ? 1 : 0) } >= minimumVoicedFrames }
        for (k, run) in all.enumerated() where !voiced[k] {
            var near = false
            var j = k - 1
            while j >= 0 && run.lowerBound - all[j].upperBound <= attachFrames {
                if voiced[j] {
                    near = true
                    break
                }
                j -= 1
            }
            j = k + 1
            while !near && j < all.count && all[j].lowerBound - run.upperBound <= attachFrames {
                if voiced[j] {
                    near = true
                    break
                }
                j += 1
            }
            if !near { for i in run { flags[i] = false } }
        }
    }

    static func seeded(_ continues: [Bool], _ seeds: [Bool], lookBack: Int) -> [Bool] {
        var speech = continues
        for run in VoiceActivityDetector.runs(continues) {
            guard let first = run.first(where: { seeds[$0] }) else {
                for i in run { speech[i] = false }
                continue
            }
            for i in run.lowerBound..<max(run.lowerBound, first - lookBack) { speech[i] = false }
        }
        return speech
    }

    static func music(
        _ speech: [Bool], voiced: [Bool], energy: [Float], change: [Float], window: Int, voicedShare: Double,
        rangeDb: Float,
        changeDb: Float, steadyRangeDb: Float
    ) -> [Bool] {
        let n = speech.count
        var out = speech
        guard window > 10, n >= window else { return out }
        let step = window / 4
        var music = [Bool](repeating: false, count: n)
        var start = 0
        while start + window <= n {
            let active = (start..<(start + window)).filter { speech[$0] }.count
            let v = (start..<(start + window)).filter { voiced[$0] }.count
            if Double(active) >= 0.9 * Double(window) && Double(v) >= voicedShare * Double(window) {
                let sorted = energy[start..<(start + window)].sorted()
                let meanChange = change[start..<(start + window)].reduce(0, +) / Float(window)
                let range = sorted[window * 9 / 10] - sorted[window / 10]
                // No stretch of `step` frames in it swings `rangeDb` on its own.
                let stretchSwings = (start...(start + window - step)).contains { b in
                    let stretch = energy[b..<(b + step)].sorted()
                    return stretch[step * 9 / 10] - stretch[step / 10] >= rangeDb
                }
                if range < rangeDb && !stretchSwings && (meanChange < changeDb || range < steadyRangeDb) {
                    for i in start..<(start + window) { music[i] = true }
                }
            }
            start += step
        }
        for i in 0..<n where music[i] { out[i] = false }
        return out
    }

    static func spacedPeaks(_ x: [Float], minimumDistance: Int) -> [Int] {
        var peaks: [Int] = []
        var i = 1
        let n = x.count
        while i < n - 1 {
            if x[i - 1] < x[i] {
                var j = i
                while j + 1 < n && x[j + 1] == x[i] { j += 1 }
                if j + 1 < n && x[j + 1] < x[i] { peaks.append((i + j) / 2) }
                i = j + 1
            } else {
                i += 1
            }
        }
        guard minimumDistance > 1, peaks.count > 1 else { return peaks }
        var keep = [Bool](repeating: true, count: peaks.count)
        let byHeight = peaks.indices.sorted {
            x[peaks[$0]] != x[peaks[$1]] ? x[peaks[$0]] > x[peaks[$1]] : peaks[$0] < peaks[$1]
        }
        for k in byHeight where keep[k] {
            var j = k - 1
            while j >= 0 && peaks[k] - peaks[j] < minimumDistance {
                keep[j] = false
                j -= 1
            }
            j = k + 1
            while j < peaks.count && peaks[j] - peaks[k] < minimumDistance {
                keep[j] = false
                j += 1
            }
        }
        return peaks.indices.filter { keep[$0] }.map { peaks[$0] }
    }
}

/// Runs one streaming stage over an array, frame by frame, checking it outputs every frame
/// once and in order.
enum StageRun {
    static func collect(_ n: Int, _ out: [(Int, Bool)]) -> [Bool] {
        precondition(out.map(\.0) == Array(0..<n), "frames out of order or missing: \(out.map(\.0))")
        return out.map(\.1)
    }

    static func shortRuns(_ stage: ShortRuns, _ flags: [Bool]) -> [Bool] {
        var s = stage
        var out: [(Int, Bool)] = []
        for (i, f) in flags.enumerated() { s.push(i, f, into: &out) }
        s.finish(into: &out)
        return collect(flags.count, out)
    }

    static func unvoiced(_ stage: UnvoicedRunDropper, _ flags: [Bool], _ f0: [Float]) -> [Bool] {
        var s = stage
        var out: [(Int, Bool)] = []
        for (i, f) in flags.enumerated() { s.push(i, f, voiced: f0[i] > 0, into: &out) }
        s.finish(into: &out)
        return collect(flags.count, out)
    }

    static func seeded(_ continues: [Bool], _ seeds: [Bool], lookBack: Int) -> [Bool] {
        var s = SeededRuns(lookBack: lookBack)
        var out: [(Int, Bool)] = []
        for i in continues.indices { s.push(i, continues: continues[i], seed: seeds[i] && continues[i], into: &out) }
        s.finish(into: &out)
        return collect(continues.count, out)
    }

    /// The music stage (2 s windows at 100 frames a second unless `window` says otherwise)
    /// over per-frame input: each frame's decision, and the frame at whose push it came out
    /// (the frame count for those the end decided). `heardAhead`: energies are heard that
    /// many frames before their frame is pushed, as the voice activity hears them before
    /// their pitch. `toneFrames`: the tone rule's length (5 cents, 0.4 dB); 0 for none.
    static func musicDecisions(
        active: [Bool], f0Hz: [Float], energy: [Float], change: [Float], window: Int = 200, heardAhead: Int = 0,
        toneFrames: Int = 0
    ) -> (speech: [Bool], decidedAt: [Int]) {
        var s = MusicRejection(
            window: window, voicedShare: 0.85, rangeDb: 8, changeDb: 3.75, steadyRangeDb: 4,
            tone: MusicRejection.Tone(frames: toneFrames, spreadCents: 5, rangeDb: 0.4), heardAhead: heardAhead)
        var out: [(Int, Bool)] = []
        var decidedAt: [Int] = []
        for i in active.indices {
            while s.heard < min(energy.count, i + 1 + heardAhead) { s.hear(energyDb: energy[s.heard]) }
            s.push(i, active: active[i], f0Hz: f0Hz[i], energyDb: energy[i], changeDb: change[i], into: &out)
            decidedAt += repeatElement(i, count: out.count - decidedAt.count)
        }
        s.finish(into: &out)
        decidedAt += repeatElement(active.count, count: out.count - decidedAt.count)
        return (collect(active.count, out), decidedAt)
    }

    static func music(
        _ speech: [Bool], voiced: [Bool], energy: [Float], change: [Float], window: Int, heardAhead: Int = 0
    ) -> [Bool] {
        musicDecisions(
            active: speech, f0Hz: voiced.map { $0 ? 200 : 0 }, energy: energy, change: change, window: window,
            heardAhead: heardAhead
        ).speech
    }

    static func peaks(_ x: [Float], spacingFrames: Int) -> [Int] {
        var spacer = PeakSpacer(widestSpacing: spacingFrames)
        var kept: [Int] = []
        for i in 1..<(x.count - 1) where x[i - 1] < x[i] {
            var j = i
            while j + 1 < x.count && x[j + 1] == x[i] { j += 1 }
            if j + 1 < x.count && x[j + 1] < x[i] && j == i {
                spacer.add(frame: i, height: x[i], spacing: spacingFrames)
            }
            spacer.decide(knownThrough: i + 2, force: false, into: &kept)
        }
        spacer.decide(knownThrough: x.count, force: true, into: &kept)
        return kept
    }

    static func smoothed(_ x: [Float], stretch: Double) -> [Float] {
        x.indices.map { i in NucleusDetector.average({ x[min(x.count - 1, max(0, $0))] }, at: i, width: 5 * stretch) }
    }
}

@Suite("Streaming stages decide as the whole-array forms did")
struct StreamingStageTests {
    /// Random runs of true and false, the lengths the stages care about.
    func runs(_ rng: inout Synth.Random, count: Int, maxRun: Int) -> [Bool] {
        var out: [Bool] = []
        var value = rng.next() % 2 == 0
        while out.count < count {
            out += [Bool](repeating: value, count: 1 + Int(rng.next() % UInt64(maxRun)))
            value.toggle()
        }
        return Array(out.prefix(count))
    }

    @Test("gap filling, burst dropping, region growing and unvoiced runs: streamed = whole array, on 400 random inputs")
    func stagesMatchOracles() {
        var rng = Synth.Random(seed: 42)
        for trial in 0..<100 {
            let n = 50 + Int(rng.next() % 400)
            let flags = runs(&rng, count: n, maxRun: trial % 2 == 0 ? 15 : 60)
            var expected = flags
            Reference.flipShortRuns(of: false, in: &expected, shorterThan: 12, onlyInside: true)
            #expect(StageRun.shortRuns(.gaps(shorterThan: 12), flags) == expected, "gaps, trial \(trial)")
            expected = flags
            Reference.flipShortRuns(of: true, in: &expected, shorterThan: 6, onlyInside: false)
            #expect(StageRun.shortRuns(.bursts(shorterThan: 6), flags) == expected, "bursts, trial \(trial)")
            let voiced = runs(&rng, count: n, maxRun: 8).map { $0 && rng.next() % 3 != 0 }
            let f0: [Float] = voiced.map { $0 ? 150 : 0 }
            expected = flags
            Reference.dropUnvoicedRuns(&expected, f0Hz: f0, minimumVoicedFrames: 3, attachFrames: 40)
            #expect(
                StageRun.unvoiced(UnvoicedRunDropper(minimumVoiced: 3, attach: 40, decideAfter: 10_000), flags, f0)
                    == expected,
                "unvoiced runs, trial \(trial)")
            let seeds = flags.map { $0 && rng.next() % 17 == 0 }
            #expect(
                StageRun.seeded(flags, seeds, lookBack: 5) == Reference.seeded(flags, seeds, lookBack: 5),
                "seeds, trial \(trial)")
        }
    }

    @Test("music windows: streamed = whole array, including windows that qualify and ones cut by the end")
    func musicMatchesOracle() {
        var rng = Synth.Random(seed: 7)
        for trial in 0..<40 {
            let n = 150 + Int(rng.next() % 900)
            // Stretches of steady voiced "music", of speech-like variation, and of a level
            // swinging a few dB with a changing spectrum (compressed speech).
            var speech: [Bool] = []
            var voiced: [Bool] = []
            var energy: [Float] = []
            var change: [Float] = []
            while speech.count < n {
                let kind = rng.next() % 3
                let steady = kind != 1
                let length = 60 + Int(rng.next() % 300)
                for _ in 0..<length {
                    speech.append(steady || rng.next() % 10 != 0)
                    voiced.append(steady ? rng.next() % 20 != 0 : rng.next() % 3 != 0)
                    energy.append(kind == 0 ? -30 + rng.uniform() * 2 : -30 + rng.uniform() * (kind == 2 ? 3.5 : 12))
                    change.append(kind == 0 ? 2.5 + rng.uniform() * 0.8 : 4.5 + rng.uniform())
                }
            }
            speech = Array(speech.prefix(n))
            voiced = Array(voiced.prefix(n))
            energy = Array(energy.prefix(n))
            change = Array(change.prefix(n))
            let expected = Reference.music(
                speech, voiced: voiced, energy: energy, change: change, window: 200, voicedShare: 0.85, rangeDb: 8,
                changeDb: 3.75, steadyRangeDb: 4)
            #expect(
                StageRun.music(speech, voiced: voiced, energy: energy, change: change, window: 200) == expected,
                "trial \(trial)")
            // Energies heard ahead of the frames (the pitch look-ahead): the same verdicts.
            #expect(
                StageRun.music(speech, voiced: voiced, energy: energy, change: change, window: 200, heardAhead: 30)
                    == expected,
                "trial \(trial), heard 30 frames ahead")
        }
    }

    @Test("energies heard ahead: speech resuming into a window of its own is decided that much sooner")
    func musicHeardAhead() {
        // 1 s of steady voiced sound, 0.4 s of pause, then speech whose level swings within
        // half a second: its first frames open a window (at frame 150) that only its own
        // swinging stretch, complete at frame 199, can fail.
        var energy: [Float] = []
        var active: [Bool] = []
        for i in 0..<600 {
            let pause = i >= 100 && i < 140
            active.append(!pause)
            let k = i % 50
            energy.append(pause ? -70 : (i < 100 ? -30 : (k < 5 ? -40 : (k < 10 ? -20 : -30))))
        }
        func decidedAt(ahead: Int) -> [Int] {
            StageRun.musicDecisions(
                active: active, f0Hz: active.map { $0 ? 200 : 0 }, energy: energy,
                change: [Float](repeating: 0, count: energy.count), heardAhead: ahead
            ).decidedAt
        }
        let now = decidedAt(ahead: 0)
        let ahead = decidedAt(ahead: 25)
        // Frame 160, speech in the window from 150: decided at 199 when heard at push time,
        // 25 frames sooner when the energies came 25 frames ahead.
        #expect(now[160] == 199, "decided at \(now[160])")
        #expect(ahead[160] == 174, "decided at \(ahead[160])")
        #expect(zip(now, ahead).allSatisfy { $0 >= $1 }, "hearing ahead never decides later")
    }

    @Test("music goes out at most a quarter window behind the input once a window has found it, not a whole window")
    func musicLookAhead() {
        var s = MusicRejection(window: 200, voicedShare: 0.85, rangeDb: 8, changeDb: 3.75, steadyRangeDb: 4)
        var rng = Synth.Random(seed: 11)
        var out: [(Int, Bool)] = []
        var worstLag = 0
        // 10 s of steady voiced music.
        for i in 0..<1000 {
            s.push(
                i, active: true, f0Hz: 200, energyDb: -30 + rng.uniform(), changeDb: 2.5 + rng.uniform() * 0.5,
                into: &out)
            if i >= 200 { worstLag = max(worstLag, i + 1 - out.count) }
        }
        s.finish(into: &out)
        // The first window decides at its end; from then on every quarter window's end.
        #expect(out.prefix(1000 - 200).allSatisfy { !$0.1 }, "music taken for speech")
        #expect(worstLag <= 50, "music held \(worstLag) frames behind the input")
    }

    @Test("speech whose level swings within half a second goes out half a second behind, not a window")
    func swingingSpeechLookAhead() {
        // Per half second: 40 frames at the speech level, 5 dips 10 dB under, 5 peaks 10 dB
        // over: every half-second stretch spans 10 dB (10th to 90th percentile), while a window's range is
        // proven too wide only once 20 peaks are in, at its end. Voiced, active, slowly
        // changing: only the level swing says speech.
        for change: Float in [0, 5] {
            var s = MusicRejection(window: 200, voicedShare: 0.85, rangeDb: 8, changeDb: 3.75, steadyRangeDb: 4)
            var out: [(Int, Bool)] = []
            var worstLag = 0
            for i in 0..<1000 {
                let k = i % 50
                let energyDb: Float = k < 5 ? -40 : (k < 10 ? -20 : -30)
                s.push(i, active: true, f0Hz: 200, energyDb: energyDb, changeDb: change, into: &out)
                worstLag = max(worstLag, i + 1 - out.count)
            }
            s.finish(into: &out)
            #expect(out.count == 1000 && out.allSatisfy { $0.1 }, "speech taken for music (change \(change) dB)")
            #expect(worstLag <= 50, "speech held \(worstLag) frames behind the input (change \(change) dB)")
        }
        // The same level without its swing is music, as before.
        var s = MusicRejection(window: 200, voicedShare: 0.85, rangeDb: 8, changeDb: 3.75, steadyRangeDb: 4)
        var out: [(Int, Bool)] = []
        for i in 0..<1000 { s.push(i, active: true, f0Hz: 200, energyDb: -30, changeDb: 0, into: &out) }
        s.finish(into: &out)
        #expect(out.prefix(800).allSatisfy { !$0.1 }, "a steady tone taken for speech")
    }

    @Test("a window whose mean spectral change has reached the limit fails then, unless its level is steady")
    func changeBoundLookAhead() {
        // Level swings of 6 dB (over the steady range, under the music range): only the change
        // can fail the window, and at 7.5 dB per frame its mean is at the limit half way in.
        var s = MusicRejection(window: 200, voicedShare: 0.85, rangeDb: 8, changeDb: 3.75, steadyRangeDb: 4)
        var out: [(Int, Bool)] = []
        var worstLag = 0
        for i in 0..<1000 {
            let energyDb: Float = i % 2 == 0 ? -33 : -27
            s.push(i, active: true, f0Hz: 200, energyDb: energyDb, changeDb: 7.5, into: &out)
            worstLag = max(worstLag, i + 1 - out.count)
        }
        s.finish(into: &out)
        #expect(out.count == 1000 && out.allSatisfy { $0.1 }, "speech taken for music")
        #expect(worstLag <= 100 + 1, "held \(worstLag) frames")
        #expect(worstLag > 50, "the stretch rule, not the change bound, decided: \(worstLag)")
    }

    /// The music stage with 2 s windows, the tone rule `tone` frames long (0: none), and a
    /// slowly changing spectrum.
    static func musicDecisions(
        tone: Int, f0Hz: [Float], energyDb: [Float], active: [Bool]
    ) -> (speech: [Bool], decidedAt: [Int]) {
        StageRun.musicDecisions(
            active: active, f0Hz: f0Hz, energy: energyDb, change: [Float](repeating: 2, count: f0Hz.count),
            toneFrames: tone)
    }

    @Test("a machine-steady tone right after speech is music 0.3 s in, and so are the word's last frames before it")
    func toneEndsSpeechEarly() {
        // 3 s of syllables (level swinging 12 dB every 0.2 s, pitch wandering), 6 frames of a
        // word's decay, then 4 s of a synthesised note: 261.6 Hz, -35 dB, as steady as a machine.
        var f0: [Float] = [], energy: [Float] = [], active: [Bool] = []
        for i in 0..<300 {
            f0.append(180 + 20 * Float(sin(Double(i) * 0.3)))
            energy.append(i % 20 < 12 ? -20 : -32)
            active.append(true)
        }
        for k in 0..<6 {
            f0.append(150)
            energy.append(-24 - 2 * Float(k))
            active.append(true)
        }
        let toneStart = f0.count
        for _ in 0..<400 {
            f0.append(261.6)
            energy.append(-35)
            active.append(true)
        }
        let windows = Self.musicDecisions(tone: 0, f0Hz: f0, energyDb: energy, active: active)
        let tones = Self.musicDecisions(tone: 30, f0Hz: f0, energyDb: energy, active: active)
        // Windows alone: the decay and the tone wait for a 2 s window of the tone.
        #expect(windows.decidedAt[toneStart] >= toneStart + 150, "decided at \(windows.decidedAt[toneStart])")
        // The tone rule: the decay and the tone's first frames go out once it is 0.3 s long.
        #expect(tones.decidedAt[toneStart - 6] == toneStart + 29, "decided at \(tones.decidedAt[toneStart - 6])")
        #expect(tones.decidedAt[toneStart] == toneStart + 29, "decided at \(tones.decidedAt[toneStart])")
        #expect(!tones.speech[(toneStart - 6)...].contains(true), "the tone or the decay taken for speech")
        // The speech before is speech, decided as without tones.
        #expect(tones.speech[..<290].allSatisfy { $0 } && windows.speech[..<290].allSatisfy { $0 })
        #expect(Array(tones.decidedAt[..<250]) == Array(windows.decidedAt[..<250]))
    }

    @Test("a voice is never a tone: a pitch that wanders by cents or a level that moves by a decibel is not steady")
    func voiceIsNotATone() {
        // Half a second of a held vowel between swinging syllables, four ways: wandering pitch
        // (±0.5%, about ±9 cents) on a steady level; a steady pitch on a level moving ±0.6 dB;
        // and two too short to count (0.25 s of a perfectly steady tone).
        func decisions(held: (Int) -> (Float, Float), heldFrames: Int) -> [Bool] {
            var f0: [Float] = [], energy: [Float] = [], active: [Bool] = []
            for i in 0..<(200 + heldFrames + 200) {
                let inHeld = i >= 200 && i < 200 + heldFrames
                let (f, e) = inHeld ? held(i - 200) : (180 + 20 * Float(sin(Double(i) * 0.3)), i % 20 < 12 ? -20 : -32)
                f0.append(f)
                energy.append(e)
                active.append(true)
            }
            return Self.musicDecisions(tone: 30, f0Hz: f0, energyDb: energy, active: active).speech
        }
        let wandering = decisions(held: { (200 * (1 + 0.005 * Float(sin(Double($0) * 0.7))), -25) }, heldFrames: 50)
        let moving = decisions(held: { (200, -25 + 0.6 * Float(sin(Double($0) * 0.9))) }, heldFrames: 50)
        let short = decisions(held: { _ in (200, -25) }, heldFrames: 25)
        #expect(wandering.allSatisfy { $0 }, "a wandering pitch taken for a tone")
        #expect(moving.allSatisfy { $0 }, "a moving level taken for a tone")
        #expect(short.allSatisfy { $0 }, "0.25 s of steadiness taken for a tone")
        // The same half second perfectly steady is a tone.
        let steady = decisions(held: { _ in (200, -25) }, heldFrames: 50)
        #expect(!steady[200..<250].contains(true), "a half-second machine tone taken for speech")
    }

    @Test("a tone whose frames went out already (inactive: under the line's threshold) is followed without harm")
    func inactiveTone() {
        // Inactive frames go out at once, so the stretch's start is behind what is out when it
        // has lasted 0.3 s (a stage that reached back over it trapped on dev-robust's AMR call).
        var f0: [Float] = [], energy: [Float] = [], active: [Bool] = []
        for i in 0..<600 {
            let inTone = i >= 200 && i < 260
            f0.append(inTone ? 440 : 180 + 20 * Float(sin(Double(i) * 0.3)))
            energy.append(inTone ? -60 : (i % 20 < 12 ? -20 : -32))
            active.append(!inTone || i >= 240)
        }
        let d = Self.musicDecisions(tone: 30, f0Hz: f0, energyDb: energy, active: active)
        #expect(d.decidedAt.allSatisfy { $0 >= 0 }, "frames never decided")
        #expect(!d.speech[200..<260].contains(true), "the tone taken for speech")
        #expect(d.speech[..<200].allSatisfy { $0 } && d.speech[300...].allSatisfy { $0 })
    }

    @Test("peak spacing: the highest-first choice, made as the peaks come")
    func spacingMatchesOracle() {
        var rng = Synth.Random(seed: 3)
        for trial in 0..<200 {
            let n = 30 + Int(rng.next() % 300)
            // Distinct values, so that peaks are single frames and ties do not arise.
            let x = (0..<n).map { _ in Float(rng.next() % 1_000_000) / 1000 }
            let distance = 1 + Int(rng.next() % 16)
            #expect(
                StageRun.peaks(x, spacingFrames: distance) == Reference.spacedPeaks(x, minimumDistance: distance),
                "trial \(trial)")
        }
    }

    @Test("the fixed-lag pitch search decides as the whole-channel search on a glide and a syllable train")
    func fixedLagPitch() {
        let glide = Synth.harmonicTone(seconds: 3, rateHz: 8000, f0Hz: { t in 120 * pow(2, t / 3) })
        let train = Synth.syllableTrain(count: 12)
        for x in [glide, train] {
            let f = FrameAnalyzer.features(of: x)
            var short = PitchTrackerConfig()
            var long = PitchTrackerConfig()
            short.lagSeconds = 0.3
            long.lagSeconds = 100  // longer than the signal: one traceback from the end
            let a = PitchTracker.track(f, levels: .clean(floorDb: -90), config: short)
            let b = PitchTracker.track(f, levels: .clean(floorDb: -90), config: long)
            let same = zip(a.f0Hz, b.f0Hz).filter { $0 == $1 }.count
            #expect(Double(same) >= 0.99 * Double(a.f0Hz.count), "\(same) of \(a.f0Hz.count) frames agree")
        }
    }

    @Test(
        """
        running histogram: percentiles from either end = the sorted values' on the 0.1 dB grid; forgetting weighs \
        the recent
        """
    )
    func histogramPercentiles() {
        var rng = Synth.Random(seed: 11)
        for trial in 0..<50 {
            var h = RunningHistogram(lowest: -120, highest: 0, step: 0.1)
            let n = 1 + Int(rng.next() % 2000)
            let centre = -90 + rng.uniform() * 60
            let values = (0..<n).map { _ in max(-119.9, min(-0.1, centre + (rng.uniform() - 0.5) * 40)) }
            for v in values { h.add(v) }
            let sorted = values.sorted()
            for p in [0.05, 0.1, 0.5, 0.9, 0.95, 0.99] {
                // The bin that holds the value whose rank first exceeds p·n.
                let exact = sorted[min(n - 1, Int((p * Double(n)).rounded(.down)))]
                let got = h.percentile(p)!
                #expect(abs(got - exact) <= 0.1, "trial \(trial) p \(p): \(got) against \(exact)")
            }
            #expect(
                abs(h.weight(atOrBelow: sorted[n / 2]) - Double(sorted.filter { $0 <= sorted[n / 2] }.count)) <= Double(
                    n) * 0.01 + 2)
        }
        // Forgetting: 10 minutes at -60 then 10 minutes at -20, τ = 1 minute: the median is the recent level.
        var h = RunningHistogram(lowest: -120, highest: 0, step: 0.1)
        var clock = ForgettingClock(forgetAfterSteps: 6000)
        for i in 0..<120_000 {
            h.add(i < 60_000 ? -60 : -20, weight: clock.weight)
            if let factor = clock.tick() { h.scale(by: factor) }
        }
        // The old level keeps about e^-10 of the weight: still the lowest 0.001 %.
        #expect(
            abs(h.percentile(0.5)! + 20) <= 0.1 && abs(h.percentile(0.00001)! + 60) <= 0.1
                && abs(h.percentile(0.001)! + 20) <= 0.1)
        #expect(RunningHistogram(lowest: 0, highest: 1, step: 0.1).percentile(0.5) == nil)
    }
}
