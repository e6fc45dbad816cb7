// Music rejection, the voice activity's stage that tells a steady tune or tone (hold music,
// a ringback) from speech on a channel where both are loud and voiced.
//
// Method: speech is modulated at the syllable rate (3–8 Hz), so within 2 s it has unvoiced
// consonants, deep dips between syllables and fast changes of spectral shape; a tune has
// none of them (Scheirer & Slaney 1997, "Construction and evaluation of a robust
// multifeature speech/music discriminator": the 4 Hz modulation energy, the share of
// low-energy frames and the spectral flux). Here, on 2 s windows starting every half second:
//   1. a window is music when it is at least 90% active and `musicVoicedShare` voiced,
//   2. its frame energies span under `musicEnergyRangeDb` (10th to 90th percentile), over the
//      window and over every half-second stretch of it (a syllable swings the level within
//      half a second; the dev corpus's hold music spans at most 3.9 dB in any half second,
//      clean, through AMR-NB and under babble),
//   3. and its mean spectral change (`Frame.spectralChangeDb`) is under
//      `musicSpectralChangeDb`, or its level hardly moves at all (`musicSteadyRangeDb`).
// A frame is music when any window holding it is. Departure from the paper: no classifier
// over the features, three thresholds instead, each proven as early as the data allows, so
// the verdict streams: a window fails as soon as what it holds proves it cannot qualify.
// The half-second stretches need only frame energies, which are known as the frames come,
// while voicing waits for the pitch tracker's look-ahead: `hear` takes energies ahead of
// `push`, so a swing fails its windows a pitch look-ahead sooner (speech resuming after a
// pause, into a window of its own, is decided about 0.25 s earlier).
//
// Tones, without the window's wait: a voiced stretch whose pitch and level hold still as no
// voice holds them (`Tone`: 0.3 s within 5 cents and 0.4 dB) is a machine's: a synthesised
// note of hold music, a ringback or busy tone (ITU-T E.180's national tones: 450 Hz in
// China), a beep. A voice's F0 wanders by more than that within a tenth of a second
// (jitter, flutter and drift: Titze 1994, "Principles of Voice Production"), and its
// level with every syllable. Measured with the tracker's F0 and the frame energies: the
// longest such stretch in speech is 0.16 s (a drawn-out 嗯 among the dev corpus's filled
// pauses; 0.09 s in its calls, 0.08 s in 500 training sentences), while the dev calls' hold
// music holds 0.31–1.24 s per note (through AMR-NB fewer notes, its level moving by 0.5 dB).
// Such a stretch is music as soon as it is 0.3 s long, and so is every frame that continues
// it. A window that holds its first frame and began at most that long before it makes its
// frames before the tone music then (the last decaying frames of a word, a gap): what a
// whole window of that tone would have made music at its end. It stays open, so its own
// verdict still reaches the frames after. So speech that stops where hold music starts is
// over 0.3 s into the music, not 2 s.
import Foundation

/// Music rejection on 2 s windows starting every quarter window from the channel's first
/// frame. A frame is decided once every window holding it is decided; a window is decided
/// when it is complete, or earlier when what it holds already proves it cannot qualify.
/// Windows that the channel's end cuts short are never judged.
struct MusicRejection: Sendable {
    /// What makes a window music: the window, frames; the fewest active and voiced frames in
    /// it; its energy range, under which its mean spectral change must lie, or under which
    /// its level counts as steady whatever the spectrum does.
    struct Limits: Sendable {
        var window: Int
        var minimumActive: Int
        var minimumVoiced: Int
        var rangeDb: Float
        var changeDb: Float
        var steadyRangeDb: Float
    }
    /// What makes a stretch a tone: its length, frames; its F0's highest over lowest; its
    /// level's range, dB. `frames` 0: no tones.
    struct Tone: Sendable {
        var frames: Int
        var f0Ratio: Float
        var rangeDb: Float

        /// A tone `frames` long whose F0 spans at most `spreadCents` and level `rangeDb`.
        init(frames: Int, spreadCents: Float, rangeDb: Float) {
            self.frames = frames
            f0Ratio = Float(pow(2, Double(spreadCents) / 1200))
            self.rangeDb = rangeDb
        }
    }
    let limits: Limits
    let tone: Tone
    var window: Int { limits.window }
    /// The steady stretch so far (it ends at the last frame pushed): its first frame (-1:
    /// none), its F0's and level's extremes.
    private var toneStart = -1
    private var toneLowHz: Float = 0, toneHighHz: Float = 0, toneLowDb: Float = 0, toneHighDb: Float = 0
    let step: Int
    /// Windows still open (at most `window / step` hold any frame).
    private var open: [Window] = []
    /// Sorted-energy buffers of closed windows, reused.
    private var spare: [[Float]] = []
    /// The next window to start.
    private var nextWindow = 0
    private var pendingFrom = 0
    private var next = 0
    private var active: FrameRing<Bool>
    private var music: FrameRing<Bool>
    /// Frame energies heard, as far back as the stretch of the last `step` frames reaches,
    /// and that stretch's energies sorted.
    private var energies: FrameRing<Float>
    private var stretchSorted: [Float]
    /// Per frame heard: whether the stretch of `step` frames ending at it swings.
    private var swings: FrameRing<Bool>
    /// Stretches ending before this frame have failed their windows.
    private var swingsApplied = 0
    /// Frames whose energies are known (`hear`), at least `next`.
    private(set) var heard = 0
    /// How far `hear` may run ahead of `push`, frames.
    let heardAhead: Int

    struct Window: Sendable {
        var number: Int
        var start: Int
        var seen = 0, activeCount = 0, voicedCount = 0
        var changeSum: Float = 0
        var sorted: [Float]
    }

    init(
        window: Int, voicedShare: Double, rangeDb: Float, changeDb: Float, steadyRangeDb: Float,
        tone: Tone = Tone(frames: 0, spreadCents: 0, rangeDb: 0), heardAhead: Int = 0
    ) {
        self.heardAhead = heardAhead
        self.tone = tone
        limits = Limits(
            window: window, minimumActive: Int((0.9 * Double(window)).rounded(.up)),
            minimumVoiced: Int((voicedShare * Double(window)).rounded(.up)),
            rangeDb: rangeDb, changeDb: changeDb, steadyRangeDb: steadyRangeDb)
        step = max(1, window / 4)
        open.reserveCapacity(8)
        for _ in 0..<8 {
            var b = [Float]()
            b.reserveCapacity(window)
            spare.append(b)
        }
        active = FrameRing(capacity: 2 * window + 64, filler: false)
        music = FrameRing(capacity: 2 * window + 64, filler: false)
        energies = FrameRing(capacity: step + 1, filler: 0)
        swings = FrameRing(capacity: heardAhead + step + 64, filler: false)
        stretchSorted = []
        stretchSorted.reserveCapacity(step)
    }

    /// The energy of the next frame, ahead of its `push` (at most `heardAhead` frames; `push`
    /// hears a frame not heard yet itself).
    mutating func hear(energyDb: Float) {
        precondition(heard - next <= heardAhead, "music rejection heard too far ahead")
        let h = heard
        heard += 1
        guard window > 10 else { return }
        energies.append(energyDb)
        swings.append(false)
        if h < step {
            Self.insert(energyDb, into: &stretchSorted)
            guard h + 1 == step else { return }
        } else {
            Self.replace(energies[h - step], with: energyDb, in: &stretchSorted)
        }
        // A level that swings like syllables within half a second, which music's does not.
        swings[h] = stretchSorted[step * 9 / 10] - stretchSorted[step / 10] >= limits.rangeDb
    }

    /// Adds frame `i`: whether it is active, its F0 (0: unvoiced), energy and spectral change.
    mutating func push(
        _ i: Int, active isActive: Bool, f0Hz: Float, energyDb: Float, changeDb: Float, into out: inout [(Int, Bool)]
    ) {
        let voiced = f0Hz > 0
        if heard <= i { hear(energyDb: energyDb) }
        next = i + 1
        active.append(isActive)
        music.append(false)
        guard window > 10 else {
            out.append((i, isActive))
            pendingFrom = next
            return
        }
        while nextWindow * step <= i {
            var buffer = spare.popLast() ?? []
            buffer.removeAll(keepingCapacity: true)
            open.append(Window(number: nextWindow, start: nextWindow * step, sorted: buffer))
            nextWindow += 1
        }
        failSwingingWindows(through: min(heard - 1, i + step - 1))
        let limits = self.limits
        var k = 0
        while k < open.count {
            let verdict = Self.add(
                &open[k], active: isActive, voiced: voiced, energyDb: energyDb, changeDb: changeDb, limits: limits)
            if let verdict {
                if verdict {
                    for f in open[k].start..<(open[k].start + window) where f >= pendingFrom && f < next {
                        music[f] = true
                    }
                }
                spare.append(open[k].sorted)
                open.remove(at: k)
            } else {
                k += 1
            }
        }
        if tone.frames > 0 { followTone(i, f0Hz: f0Hz, energyDb: energyDb) }
        release(into: &out)
    }

    /// Extends or restarts the steady stretch with frame `i`; once it is `tone.frames` long,
    /// it is music, and so is what the windows that hold its start (and began at most that
    /// long before it) held before it.
    private mutating func followTone(_ i: Int, f0Hz: Float, energyDb: Float) {
        guard f0Hz > 0 else {
            toneStart = -1
            return
        }
        let lowHz = min(toneLowHz, f0Hz), highHz = max(toneHighHz, f0Hz)
        let lowDb = min(toneLowDb, energyDb), highDb = max(toneHighDb, energyDb)
        if toneStart >= 0 && highHz <= lowHz * tone.f0Ratio && highDb - lowDb <= tone.rangeDb {
            (toneLowHz, toneHighHz, toneLowDb, toneHighDb) = (lowHz, highHz, lowDb, highDb)
        } else {
            // Restarted here: the stretch before is not steady with this frame.
            toneStart = i
            (toneLowHz, toneHighHz, toneLowDb, toneHighDb) = (f0Hz, f0Hz, energyDb, energyDb)
        }
        let length = i - toneStart + 1
        if length > tone.frames {
            music[i] = true
        } else if length == tone.frames {
            // From the earliest such window's start (what is already out stays as it went out).
            // The windows stay open: their own verdicts still reach the frames after this one.
            var from = toneStart
            for w in open where w.start <= toneStart && toneStart - w.start <= tone.frames { from = min(from, w.start) }
            var f = max(from, pendingFrom)
            while f <= i {
                music[f] = true
                f += 1
            }
        }
    }

    /// Every open window holding a swinging stretch that ends at or before `last` fails. Run
    /// before a frame is added, so a window meets every stretch in it before its verdict.
    /// `last` is at most `step - 1` frames past the frame pushed: such a stretch starts at
    /// or before that frame, so every window that can hold it has been opened.
    private mutating func failSwingingWindows(through last: Int) {
        while swingsApplied <= last {
            let end = swingsApplied
            swingsApplied += 1
            guard swings[end] else { continue }
            let start = end + 1 - step
            while let k = open.firstIndex(where: { $0.start <= start && end < $0.start + window }) {
                spare.append(open[k].sorted)
                open.remove(at: k)
            }
        }
    }

    /// Inserts `x` into the ascending `sorted` at its rank.
    private static func insert(_ x: Float, into sorted: inout [Float]) {
        var j = sorted.count
        sorted.append(x)
        while j > 0 && sorted[j - 1] > x {
            sorted[j] = sorted[j - 1]
            j -= 1
        }
        sorted[j] = x
    }

    /// Puts `x` in the place of `old` (which `sorted` holds) and moves it to its rank:
    /// neighbouring frames differ little, so it seldom moves far.
    private static func replace(_ old: Float, with x: Float, in sorted: inout [Float]) {
        sorted.withUnsafeMutableBufferPointer { sorted in
            var low = 0
            var high = sorted.count
            while low < high {
                let middle = (low + high) >> 1
                if sorted[middle] < old { low = middle + 1 } else { high = middle }
            }
            var r = low
            if x > old {
                while r + 1 < sorted.count && sorted[r + 1] < x {
                    sorted[r] = sorted[r + 1]
                    r += 1
                }
            } else {
                while r > 0 && sorted[r - 1] > x {
                    sorted[r] = sorted[r - 1]
                    r -= 1
                }
            }
            sorted[r] = x
        }
    }

    /// Adds a frame to a window. - Returns: its verdict once decided (true: music).
    /// Static: a method reading `self` while `open[k]` is borrowed inout would copy `self`,
    /// share the window's buffer and reallocate it at every frame.
    private static func add(
        _ w: inout Window, active isActive: Bool, voiced: Bool, energyDb: Float, changeDb: Float,
        limits: Limits
    ) -> Bool? {
        let window = limits.window
        let rangeDb = limits.rangeDb
        w.seen += 1
        w.changeSum += changeDb
        if isActive { w.activeCount += 1 }
        if voiced { w.voicedCount += 1 }
        insert(energyDb, into: &w.sorted)
        let tenth = window / 10
        if w.seen - w.activeCount > window - limits.minimumActive
            || w.seen - w.voicedCount > window - limits.minimumVoiced
        {
            return false
        }
        // The final 90th percentile can only be higher than the 20th-largest so far, the
        // final 10th only lower than the 21st-smallest: a range already too wide stays so.
        if w.seen > 2 * tenth {
            let rangeAtLeast = w.sorted[w.seen - tenth] - w.sorted[tenth]
            if rangeAtLeast >= rangeDb { return false }
            // Spectral changes are never negative, so a mean change already at the limit stays
            // there: only a steady level could still make the window music.
            if rangeAtLeast >= limits.steadyRangeDb && w.changeSum / Float(window) >= limits.changeDb { return false }
        }
        guard w.seen == window else { return nil }
        let range = w.sorted[window * 9 / 10] - w.sorted[window / 10]
        return range < rangeDb && (w.changeSum / Float(window) < limits.changeDb || range < limits.steadyRangeDb)
    }

    /// Outputs the frames no open window holds, inactive frames whatever holds them (a
    /// window's verdict only ever silences active frames), and frames a window has already
    /// found music (no other window can take that back): the pause after an utterance is
    /// final while a window that reaches into the next utterance is still open, and music
    /// goes out a quarter window behind, not a whole one.
    private mutating func release(into out: inout [(Int, Bool)]) {
        var held = Int.max
        for w in open where w.start < held { held = w.start }
        while pendingFrom < next && (pendingFrom < held || !active[pendingFrom] || music[pendingFrom]) {
            out.append((pendingFrom, active[pendingFrom] && !music[pendingFrom]))
            pendingFrom += 1
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        // Windows the end cuts short are not judged.
        open.removeAll()
        release(into: &out)
    }
}
