// Voice activity of one party's channel in a two-channel call, frame by frame as the call
// comes.
//
// Method: energy detection against the channel's own noise floor (`ChannelLevels`: a
// running minimum-statistics style floor, after Martin 2001, "Noise power spectral density
// estimation based on optimal smoothing and minimum statistics", with thresholds scaled down
// where the floor-to-speech range is small), confirmed by periodicity, as double-threshold
// region growing: frames over the onset threshold and within `onsetBelowSpeechDb` of the
// party's own speech level seed speech, which grows forwards (and `onsetLookBackSeconds`
// backwards) over frames over the continuation threshold. Two rejections that telephone
// calls need:
//   1. echo: a frame whose energy sits at least `echoMarginDb` below the other channel's
//      in the same frame is that party's voice leaking across, not this party's speech;
//   2. music: speech is modulated at the syllable rate (3–8 Hz: Scheirer & Slaney 1997,
//      "Construction and evaluation of a robust multifeature speech/music discriminator",
//      use the 4 Hz modulation energy and the share of low-energy frames), so within any
//      2 s it has unvoiced consonants and deep dips between syllables. A 2 s window (on a
//      grid of 0.5 s) that is at least `musicVoicedShare` voiced and whose frame energies
//      span less than `musicEnergyRangeDb` (10th to 90th percentile) is music or a tone,
//      if its spectrum also changes slowly (a mean spectral change, `Frame.spectralChangeDb`:
//      the band shape's change over 20 ms, which no gain moves, under
//      `musicSpectralChangeDb`) or its level hardly moves at all (a range under
//      `musicSteadyRangeDb`, as compressed hold music's does, however busy its spectrum),
//      and no half-second stretch of it spans `musicEnergyRangeDb` or more on its own
//      (syllables swing the level within half a second; a steady tune does not).
//      Speech whose dips compression or an AGC has filled keeps some level swing and the
//      formant transitions of its syllables (Scheirer & Slaney's spectral flux cue), and
//      stays speech.
// Then bursts shorter than `minimumBurstSeconds` are dropped and gaps shorter than
// `bridgeGapSeconds` filled. Last, a run of speech frames with less than
// `minimumVoicedSeconds` of pitch and no voiced run within `unvoicedAttachSeconds` is
// dropped: every Mandarin syllable has a voiced nucleus, so a run without one is a noise
// burst (a passing car, a door, a street's hiss), not a word.
//
// Streaming: each step is a stage that outputs a frame as soon as its decision cannot
// change, in frame order. Look-ahead per stage (the bound; typical in brackets):
//   region growing  `onsetLookBackSeconds` (0.05 s);
//   music           up to 2 s for active frames, which may be music; a window fails as soon
//                   as what it holds proves it cannot qualify (too many unvoiced or silent
//                   frames, a 10th–90th range already ≥ 8 dB, a mean spectral change
//                   already at its limit with a level that is not steady, or a half-second
//                   stretch that swings 8 dB): in speech typically 0.5 s, after
//                   speech 0.2 s (20 silent frames), in hold music the whole 2 s. Inactive
//                   frames go out at once (no verdict changes them);
//   gap filling     `bridgeGapSeconds` (0.12 s);
//   bursts          `minimumBurstSeconds` (0.06 s);
//   unvoiced runs   until the run has its voicing, or `unvoicedAttachSeconds` past its end
//                   (0.4 s); a run still unvoiced after `unvoicedDecideSeconds` (2 s) is
//                   decided then, by what came before it.
// Non-speech is therefore final within 0.12 s, and speech within the music window's bound.

/// Tunable thresholds of the detector, in dB over the noise floor and seconds.
public struct VoiceActivityConfig: Sendable, Equatable {
    /// Frames this far above the floor start speech, dB.
    public var onsetSnrDb: Float = 12
    /// Frames this far above the floor continue speech, dB.
    public var continueSnrDb: Float = 7
    /// Voiced frames this far above the floor are speech, dB.
    public var voicedSnrDb: Float = 6
    /// Speech starts only within this distance under the party's speech level, dB: quieter
    /// voices (neighbouring agents on a headset, a distant talker in the street, babble) and
    /// noise never start an utterance of this party, though they may continue one.
    public var onsetBelowSpeechDb: Float = 30
    /// Speech reaches back at most this far before the frame that started it, seconds.
    public var onsetLookBackSeconds: Double = 0.05
    /// A frame this far below the other channel is echo, dB.
    public var echoMarginDb: Float = 18
    /// Speech bursts shorter than this are dropped, seconds.
    public var minimumBurstSeconds: Double = 0.06
    /// Gaps shorter than this are filled, seconds.
    public var bridgeGapSeconds: Double = 0.12
    /// A speech run with less voiced time than this is a noise burst and dropped, seconds.
    public var minimumVoicedSeconds: Double = 0.03
    /// ... unless it is this close to a voiced run, seconds (an utterance pause).
    public var unvoicedAttachSeconds: Double = 0.4
    /// A run still without voicing this long is decided without waiting for its end, seconds.
    public var unvoicedDecideSeconds: Double = 2
    /// Music test window, seconds (on a grid of a quarter of it).
    public var musicWindowSeconds: Double = 2
    /// A window at least this voiced ...
    public var musicVoicedShare: Double = 0.85
    /// ... whose energies span less than this (10th to 90th percentile, dB), over the window
    /// and over every half second of it, is music.
    public var musicEnergyRangeDb: Float = 8
    /// ... and whose spectral shape changes less than this on average (dB per 20 ms). Set
    /// between the dev corpus's hold music (2 s windows at most 2.90 dB clean, 3.58 dB
    /// through AMR-NB, 3.42 dB under neighbours' babble) and hard-compressed speech's
    /// level windows (at least 3.92 dB): a thin margin, measured on one tune.
    public var musicSpectralChangeDb: Float = 3.75
    /// ... or whose energies span less than this, whatever its spectrum does (dev hold
    /// music: at most 3.9 dB; compressed speech: at least 4.3 dB).
    public var musicSteadyRangeDb: Float = 4
    public init() {}
}

/// The detector of one channel: `push` each frame (once its F0 is final) with the levels
/// known for it and the other channel's energy in the same frame; final decisions come out
/// in order in `speech`.
public struct VoiceActivityTracker: Sendable {
    public let config: VoiceActivityConfig
    private var seeded: SeededRuns
    private var music: MusicRejection
    private var gaps: GapFiller
    private var bursts: BurstDropper
    private var unvoiced: UnvoicedRunDropper
    /// Voicing, energy and spectral change of recent frames, for the stages that look back.
    private var voiced: FrameRing<Bool>
    private var energy: FrameRing<Float>
    private var change: FrameRing<Float>
    /// Final decisions, frame by frame (the latest `speech.capacity`).
    public private(set) var speech: FrameRing<Bool>
    /// Frames pushed.
    public private(set) var framesIn = 0
    /// A hint for early alerts, never for a decision: the latest stretch of voiced speech as
    /// the first stage hears it (before music rejection and the clean-up stages, so about a
    /// pitch frame's look-ahead behind the input, where final decisions may wait up to the
    /// music window), joined over gaps shorter than `heardJoinFrames`, as frames. Music can
    /// still take it back.
    public private(set) var heardSpeech: Range<Int>? = nil
    /// See `heardSpeech`; 0 keeps no hint.
    public let heardJoinFrames: Int
    // Hand-over buffers between stages (reused).
    private var a: [(Int, Bool)] = [], b: [(Int, Bool)] = []

    public init(
        config: VoiceActivityConfig = VoiceActivityConfig(), hopSeconds: Double = 0.01, ringFrames: Int = 4096,
        heardJoinFrames: Int = 0
    ) {
        self.config = config
        self.heardJoinFrames = heardJoinFrames
        func frames(_ seconds: Double) -> Int { Int((seconds / hopSeconds).rounded()) }
        seeded = SeededRuns(lookBack: frames(config.onsetLookBackSeconds))
        music = MusicRejection(
            window: frames(config.musicWindowSeconds), voicedShare: config.musicVoicedShare,
            rangeDb: config.musicEnergyRangeDb, changeDb: config.musicSpectralChangeDb,
            steadyRangeDb: config.musicSteadyRangeDb)
        gaps = GapFiller(shorterThan: frames(config.bridgeGapSeconds))
        bursts = BurstDropper(shorterThan: frames(config.minimumBurstSeconds))
        unvoiced = UnvoicedRunDropper(
            minimumVoiced: frames(config.minimumVoicedSeconds), attach: frames(config.unvoicedAttachSeconds),
            decideAfter: frames(config.unvoicedDecideSeconds))
        voiced = FrameRing(capacity: ringFrames, filler: false)
        energy = FrameRing(capacity: ringFrames, filler: -120)
        change = FrameRing(capacity: ringFrames, filler: 0)
        speech = FrameRing(capacity: ringFrames, filler: false)
        a.reserveCapacity(512)
        b.reserveCapacity(512)
    }

    /// Frames decided so far.
    public var framesOut: Int { speech.count }

    /// Adds the next frame: its energy, whether the tracker voiced it, its spectral change
    /// (`Frame.spectralChangeDb`), the other channel's energy in the same frame (nil for
    /// mono), and the channel's levels for it.
    public mutating func push(
        energyDb: Float, voiced isVoiced: Bool, spectralChangeDb: Float, otherEnergyDb: Float?, levels: ChannelLevels
    ) {
        let i = framesIn
        framesIn += 1
        voiced.append(isVoiced)
        energy.append(energyDb)
        change.append(spectralChangeDb)
        let scale = levels.snrScale
        let snr = energyDb - levels.floorDb
        var continues = snr >= config.continueSnrDb * scale || (isVoiced && snr >= config.voicedSnrDb * scale)
        var starts =
            (snr >= config.onsetSnrDb * scale || (isVoiced && snr >= (config.voicedSnrDb + 3) * scale))
            && energyDb >= levels.speechLevelDb - config.onsetBelowSpeechDb
        if continues, let otherEnergyDb, otherEnergyDb - energyDb >= config.echoMarginDb {
            continues = false
            starts = false
        }
        seeded.push(i, continues: continues, seed: starts && continues, into: &a)
        flow(final: false)
    }

    /// Decides every frame still open: the channel has ended.
    public mutating func finish() {
        seeded.finish(into: &a)
        flow(final: true)
    }

    private mutating func flow(final: Bool) {
        if heardJoinFrames > 0 {
            for (i, flag) in a where flag && voiced[i] {
                let from = heardSpeech.flatMap { i - $0.upperBound < heardJoinFrames ? $0.lowerBound : nil }
                heardSpeech = (from ?? i)..<(i + 1)
            }
        }
        for (i, flag) in a {
            music.push(i, active: flag, voiced: voiced[i], energyDb: energy[i], changeDb: change[i], into: &b)
        }
        a.removeAll(keepingCapacity: true)
        if final { music.finish(into: &b) }
        for (i, flag) in b { gaps.push(i, flag, into: &a) }
        b.removeAll(keepingCapacity: true)
        if final { gaps.finish(into: &a) }
        for (i, flag) in a { bursts.push(i, flag, into: &b) }
        a.removeAll(keepingCapacity: true)
        if final { bursts.finish(into: &b) }
        for (i, flag) in b { unvoiced.push(i, flag, voiced: voiced[i], into: &a) }
        b.removeAll(keepingCapacity: true)
        if final { unvoiced.finish(into: &a) }
        for (i, flag) in a {
            precondition(i == speech.count, "voice activity decided out of order")
            speech.append(flag)
        }
        a.removeAll(keepingCapacity: true)
    }
}

/// Region growing: a run of continuation frames is speech from its first seed on, and up to
/// `lookBack` frames before it. Look-ahead: `lookBack` frames.
struct SeededRuns: Sendable {
    let lookBack: Int
    /// The open run's first frame, and whether a seed has come in it.
    private var runStart: Int? = nil
    private var seeded = false
    /// Frames of the open run not yet decided: `pendingFrom..<next`.
    private var pendingFrom = 0
    private var next = 0

    init(lookBack: Int) { self.lookBack = lookBack }

    mutating func push(_ i: Int, continues: Bool, seed: Bool, into out: inout [(Int, Bool)]) {
        next = i + 1
        guard continues else {
            // The run ended without a seed: what it held is not speech.
            for p in pendingFrom..<i { out.append((p, false)) }
            out.append((i, false))
            runStart = nil
            seeded = false
            pendingFrom = i + 1
            return
        }
        if runStart == nil {
            runStart = i
            seeded = false
        }
        if seeded {
            out.append((i, true))
            pendingFrom = i + 1
            return
        }
        if seed {
            for p in pendingFrom..<i { out.append((p, p >= i - lookBack)) }
            out.append((i, true))
            seeded = true
            pendingFrom = i + 1
            return
        }
        // No seed yet: frames too far back for a later seed to reach are not speech.
        while pendingFrom < i - lookBack {
            out.append((pendingFrom, false))
            pendingFrom += 1
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        for p in pendingFrom..<next { out.append((p, false)) }
        pendingFrom = next
    }
}

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
    let limits: Limits
    var window: Int { limits.window }
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
    /// The last `step` frames' energies: in arrival order (a ring, `recentHead` the oldest)
    /// and sorted.
    private var recent: [Float]
    private var recentSorted: [Float]
    private var recentHead = 0

    struct Window: Sendable {
        var number: Int
        var start: Int
        var seen = 0, activeCount = 0, voicedCount = 0
        var changeSum: Float = 0
        var sorted: [Float]
    }

    init(window: Int, voicedShare: Double, rangeDb: Float, changeDb: Float, steadyRangeDb: Float) {
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
        recent = []
        recent.reserveCapacity(step)
        recentSorted = []
        recentSorted.reserveCapacity(step)
    }

    mutating func push(
        _ i: Int, active isActive: Bool, voiced: Bool, energyDb: Float, changeDb: Float, into out: inout [(Int, Bool)]
    ) {
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
        if stretchSwings(energyDb) {
            // Every window holding this stretch fails now.
            let stretchStart = i + 1 - step
            while let k = open.firstIndex(where: { $0.start <= stretchStart }) {
                spare.append(open[k].sorted)
                open.remove(at: k)
            }
        }
        release(into: &out)
    }

    /// Adds a frame to the stretch of the last `step` frames; true when that stretch is full
    /// and its energies span `rangeDb` or more (10th to 90th percentile): a level that swings
    /// like syllables within half a second, which music's does not.
    private mutating func stretchSwings(_ energyDb: Float) -> Bool {
        if recent.count < step {
            recent.append(energyDb)
            var j = recentSorted.count
            recentSorted.append(energyDb)
            while j > 0 && recentSorted[j - 1] > energyDb {
                recentSorted[j] = recentSorted[j - 1]
                j -= 1
            }
            recentSorted[j] = energyDb
            guard recentSorted.count == step else { return false }
        } else {
            // The newest takes the oldest's place in the sorted copy, and moves to its rank:
            // neighbouring frames differ little, so it seldom moves far.
            let oldest = recent[recentHead]
            recent[recentHead] = energyDb
            recentHead = recentHead + 1 == step ? 0 : recentHead + 1
            recentSorted.withUnsafeMutableBufferPointer { sorted in
                var low = 0
                var high = sorted.count
                while low < high {
                    let middle = (low + high) >> 1
                    if sorted[middle] < oldest { low = middle + 1 } else { high = middle }
                }
                var r = low
                if energyDb > oldest {
                    while r + 1 < sorted.count && sorted[r + 1] < energyDb {
                        sorted[r] = sorted[r + 1]
                        r += 1
                    }
                } else {
                    while r > 0 && sorted[r - 1] > energyDb {
                        sorted[r] = sorted[r - 1]
                        r -= 1
                    }
                }
                sorted[r] = energyDb
            }
        }
        return recentSorted[step * 9 / 10] - recentSorted[step / 10] >= limits.rangeDb
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
        var j = w.sorted.count
        w.sorted.append(energyDb)
        while j > 0 && w.sorted[j - 1] > energyDb {
            w.sorted[j] = w.sorted[j - 1]
            j -= 1
        }
        w.sorted[j] = energyDb
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

/// Fills runs of non-speech shorter than `shorterThan` between speech (never at the start
/// or the end of the channel). Look-ahead: `shorterThan` frames.
struct GapFiller: Sendable {
    let shorterThan: Int
    private var seenSpeech = false
    private var gapFrom: Int? = nil
    /// The open gap is known to be long (or leading): its frames went out as they came.
    private var gapDecided = false
    private var next = 0

    init(shorterThan: Int) { self.shorterThan = shorterThan }

    mutating func push(_ i: Int, _ flag: Bool, into out: inout [(Int, Bool)]) {
        next = i + 1
        if flag {
            if let from = gapFrom, !gapDecided {
                let fill = i - from < shorterThan
                for p in from..<i { out.append((p, fill)) }
            }
            gapFrom = nil
            gapDecided = false
            seenSpeech = true
            out.append((i, true))
            return
        }
        if gapFrom == nil {
            gapFrom = i
            gapDecided = !seenSpeech
        }
        if gapDecided {
            out.append((i, false))
            return
        }
        if i - gapFrom! + 1 >= shorterThan {
            for p in gapFrom!...i { out.append((p, false)) }
            gapDecided = true
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        if let from = gapFrom, !gapDecided { for p in from..<next { out.append((p, false)) } }
        gapFrom = nil
    }
}

/// Drops runs of speech shorter than `shorterThan`. Look-ahead: that.
struct BurstDropper: Sendable {
    let shorterThan: Int
    private var runFrom: Int? = nil
    private var longRun = false
    private var next = 0

    init(shorterThan: Int) { self.shorterThan = shorterThan }

    mutating func push(_ i: Int, _ flag: Bool, into out: inout [(Int, Bool)]) {
        next = i + 1
        if !flag {
            if let from = runFrom { for p in from..<i { out.append((p, false)) } }
            runFrom = nil
            longRun = false
            out.append((i, false))
            return
        }
        if longRun {
            out.append((i, true))
            return
        }
        if runFrom == nil { runFrom = i }
        if i - runFrom! + 1 >= shorterThan {
            for p in runFrom!...i { out.append((p, true)) }
            runFrom = nil
            longRun = true
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        if let from = runFrom { for p in from..<next { out.append((p, false)) } }
        runFrom = nil
    }
}

/// Drops runs of speech with fewer than `minimumVoiced` voiced frames unless a voiced run
/// ends within `attach` frames before them or starts within `attach` frames after them.
/// Look-ahead: until the run has its voicing, or `attach` frames past its end (and, for a
/// run starting there, until its voicing is known); a run still unvoiced after
/// `decideAfter` frames is decided then, by what came before it.
struct UnvoicedRunDropper: Sendable {
    let minimumVoiced: Int
    let attach: Int
    let decideAfter: Int

    enum State: Sendable { case speech, silence, waiting }
    struct Segment: Sendable {
        var from: Int
        var to: Int
        var state: State
    }

    /// Decided and waiting stretches not yet output, in order ([from, to)).
    private var segments: [Segment] = []
    private var head = 0
    /// The open run.
    private var runFrom: Int? = nil
    private var runVoiced = 0
    private var runIsVoiced = false
    /// End (exclusive) of the last voiced run.
    private var lastVoicedEnd: Int? = nil
    private var outNext = 0
    private var next = 0

    init(minimumVoiced: Int, attach: Int, decideAfter: Int) {
        self.minimumVoiced = max(1, minimumVoiced)
        self.attach = attach
        self.decideAfter = decideAfter
        segments.reserveCapacity(64)
    }

    mutating func push(_ i: Int, _ flag: Bool, voiced: Bool, into out: inout [(Int, Bool)]) {
        next = i + 1
        if flag {
            if runFrom == nil {
                runFrom = i
                runVoiced = 0
                runIsVoiced = false
            }
            if voiced { runVoiced += 1 }
            if !runIsVoiced && runVoiced >= minimumVoiced {
                runIsVoiced = true
                keepWaiting(before: runFrom!)
            }
            if !runIsVoiced && i + 1 - runFrom! >= decideAfter {
                let keep = lastVoicedEnd.map { runFrom! - $0 <= attach } ?? false
                append(Segment(from: runFrom!, to: i + 1, state: keep ? .speech : .silence))
                runFrom = nil
            }
        } else {
            closeRun(at: i)
            append(Segment(from: i, to: i + 1, state: .silence))
        }
        expire(after: i)
        release(into: &out)
    }

    /// Closes the open run at `end` (exclusive).
    private mutating func closeRun(at end: Int) {
        guard let from = runFrom else { return }
        if runIsVoiced {
            append(Segment(from: from, to: end, state: .speech))
            lastVoicedEnd = end
        } else if let e = lastVoicedEnd, from - e <= attach {
            append(Segment(from: from, to: end, state: .speech))
        } else {
            append(Segment(from: from, to: end, state: .waiting))
        }
        runFrom = nil
    }

    private mutating func append(_ s: Segment) {
        if let last = segments.last, segments.count > head, last.to == s.from, last.state == s.state,
            s.state != .waiting
        {
            segments[segments.count - 1].to = s.to
        } else {
            segments.append(s)
        }
    }

    /// A run that has just turned out voiced keeps the waiting runs that end within `attach` before it.
    private mutating func keepWaiting(before start: Int) {
        for k in head..<segments.count where segments[k].state == .waiting && start - segments[k].to <= attach {
            segments[k].state = .speech
        }
    }

    /// Waiting runs that no run can keep any more are dropped.
    private mutating func expire(after i: Int) {
        for k in head..<segments.count where segments[k].state == .waiting {
            let limit = segments[k].to + attach
            guard i + 1 > limit else { continue }  // a run may still start in reach
            if let from = runFrom, from <= limit, !runIsVoiced { continue }  // one in reach may turn voiced
            segments[k].state = .silence
        }
    }

    /// Outputs every frame up to the first one still undecided.
    private mutating func release(into out: inout [(Int, Bool)]) {
        while head < segments.count {
            let s = segments[head]
            if s.state == .waiting { return }
            outNext = max(outNext, s.from)
            while outNext < s.to {
                out.append((outNext, s.state == .speech))
                outNext += 1
            }
            head += 1
        }
        if head > 32 {
            segments.removeFirst(head)
            head = 0
        }
        // The open run, once voiced, goes out as it comes.
        if let from = runFrom, runIsVoiced, outNext >= from {
            while outNext < next {
                out.append((outNext, true))
                outNext += 1
            }
        }
    }

    mutating func finish(into out: inout [(Int, Bool)]) {
        closeRun(at: next)
        for k in head..<segments.count where segments[k].state == .waiting { segments[k].state = .silence }
        release(into: &out)
    }
}

/// The one-call form over collected features (tests, small signals): the same tracker.
public struct VoiceActivityDetector: Sendable {
    public var config: VoiceActivityConfig
    public init(config: VoiceActivityConfig = VoiceActivityConfig()) { self.config = config }

    /// Per-frame speech decisions for `features`, using `other` (the other party's channel,
    /// if any) to reject echo, against fixed `levels` (the running levels when nil).
    public func detect(
        _ features: FrameFeatures, pitch: PitchTrack, other: FrameFeatures? = nil, levels: ChannelLevels? = nil
    ) -> [Bool] {
        let n = features.frameCount
        guard n > 0 else { return [] }
        var tracker = VoiceActivityTracker(config: config, hopSeconds: features.config.hopSeconds, ringFrames: n + 1)
        var running = ChannelLevelsTracker(hopSeconds: features.config.hopSeconds)
        for i in 0..<n {
            let frame = features.frame(i)
            running.observe(frame)
            tracker.push(
                energyDb: frame.energyDb, voiced: pitch.f0Hz[i] > 0, spectralChangeDb: frame.spectralChangeDb,
                otherEnergyDb: other.flatMap { i < $0.frameCount ? $0.energyDb[i] : nil },
                levels: levels ?? running.levels)
        }
        tracker.finish()
        return (0..<n).map { tracker.speech[$0] }
    }

    /// Runs of `true` as half-open frame ranges.
    public static func runs(_ flags: [Bool]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = 0
        let n = flags.count
        while i < n {
            if flags[i] {
                var j = i
                while j < n && flags[j] { j += 1 }
                result.append(i..<j)
                i = j
            } else {
                i += 1
            }
        }
        return result
    }
}
