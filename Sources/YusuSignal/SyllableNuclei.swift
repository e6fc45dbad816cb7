// Syllable nuclei: counting syllables (Mandarin: characters, 字) from the audio alone.
//
// Method after de Jong & Wempe 2009 ("Praat script to detect syllable nuclei and measure
// speech rate automatically", Behavior Research Methods 41(2)): a syllable nucleus is a
// peak of loudness that stands out from the dips around it and is voiced.
// Stages:
//   1. envelope: the mean of the log energies of 12 log-spaced bands over 250–3400 Hz
//      (computed per frame by `FrameAnalyzer`), smoothed by a 50 ms moving average. A
//      mean of logs, like the sub-band view of Wang & Narayanan 2007 ("Robust speech rate
//      estimation for spontaneous speech", IEEE TASLP 15(8)), lets a syllable onset in any
//      part of the spectrum show, where broadband intensity is dominated by the loudest
//      vowel formant and misses the shallow dips between Mandarin syllables;
//   2. peaks: local maxima at least `minimumSpacingSeconds` apart (the higher wins);
//   3. prominence: the peak's height above the higher of the lowest points between it and
//      the nearest higher peak on either side (searched within ±1 s), at least
//      `minimumProminenceDb`;
//   4. validation: inside speech, voiced (a tracked pitch, or a periodic frame by its YIN
//      dip) within `voicingSearchSeconds`, at least
//      `minimumSnrDb` above the envelope's floor and within `maximumBelowPeakDb` of the
//      loudest frame within ±1 s.
//   5. tempo: a second detector with spacing and smoothing stretched for slow speech, by
//      the rate the first (unstretched) one has found so far in the channel's speech.
// Departure from de Jong & Wempe: band-log envelope instead of intensity, prominence
// instead of a fixed dip to the previous peak, and all thresholds relative to the channel.
// Streaming: the envelope's floor is a running percentile; a peak is decided once its
// surroundings are known: `lookAheadSeconds` (0.5 s) after it, for the loudest frame and
// the prominence on its right (the left reaches back 1 s); spacing among close peaks is
// decided as soon as no higher neighbour is undecided. The tempo is the rate found before
// the frame, so a slow channel's first `minimumNucleiForTempo` syllables are counted at
// the reference tempo.
import Foundation

/// How syllables are counted.
public enum NucleusMethod: String, Sendable, Equatable, CaseIterable {
    /// The learned stage (`LearnedNucleusTracker`, `SyllableNet`): the default.
    case learned
    /// The hand-set peak picker of this file (de Jong & Wempe 2009 with a tempo stretch).
    case peaks
}

/// Tunable thresholds of the nucleus detector.
public struct SyllableNucleiConfig: Sendable, Equatable {
    /// Which counter runs.
    public var method: NucleusMethod = .learned
    /// The learned stage's network (the bundled one unless a dev build loads another).
    public var net: SyllableNet = .bundled
    /// A nucleus stands at least this far above its surroundings, dB.
    public var minimumProminenceDb: Float = 0.75
    /// ... at least this far above the envelope's floor (5th percentile), dB.
    public var minimumSnrDb: Float = 5
    /// ... and no further than this below the loudest frame within ±1 s, dB.
    public var maximumBelowPeakDb: Float = 25
    /// Nuclei closer than this: only the higher stays, seconds.
    public var minimumSpacingSeconds: Double = 0.08
    /// A pitch within this distance of the peak makes it voiced, seconds.
    public var voicingSearchSeconds: Double = 0.06
    /// ... as does a frame there whose deepest YIN dip is below this (periodic, even where
    /// the pitch tracker's path chose "unvoiced"): keeps the count independent of the
    /// tracker's voicing costs.
    public var periodicDip: Float = 0.3
    /// Width of the envelope's moving average, frames (5 = 50 ms).
    public var smoothingWindowFrames: Double = 5
    /// Tempo adaptation: syllables per second of speech that the spacing and smoothing above
    /// suit. A channel whose first-pass rate is slower is analysed again with both stretched
    /// by reference / rate (at most `maximumStretch`); nil turns adaptation off.
    public var referenceRatePerSecond: Double? = 4.4
    public var maximumStretch: Double = 2.0
    /// Stretch = (reference / rate) ^ exponent.
    public var stretchExponent: Double = 2
    /// Fewest first-pass nuclei that make a tempo estimate worth trusting.
    public var minimumNucleiForTempo: Int = 20
    /// The tempo estimate starts from the reference rate as if this much speech had been
    /// heard at it, seconds: early estimates lean on it, later ones on the channel.
    public var tempoPriorSeconds: Double = 0
    /// How far past a peak its surroundings are looked at (the loudest frame, the
    /// prominence's right side), seconds. Before it, they reach back 1 s.
    public var lookAheadSeconds: Double = 0.5
    public init() {}
}

/// Two detectors over one channel's frames: the first at the reference tempo finds the
/// channel's rate; the second, stretched by that rate, gives the nuclei. Feed it every frame
/// (with its final F0, speech decision and levels) in order; `nuclei` are final in frame
/// order up to `decidedThrough`.
public struct SyllableNucleusTracker: Sendable {
    public let config: SyllableNucleiConfig
    private var reference: NucleusDetector
    private var stretched: NucleusDetector
    private var speechFrames = 0
    private var firstPassNuclei = 0
    private var pushed = 0
    private let hopSeconds: Double
    /// Decided nuclei (frame indices), in order, not yet taken by the caller.
    public private(set) var nuclei: [Int] = []
    /// Every frame before this one is decided.
    public var decidedThrough: Int { stretched.decidedThrough }

    /// Whether every nucleus before frame `end` is decided (an utterance ending there can
    /// be counted): sooner than `decidedThrough` passing `end` when the last peak before
    /// `end` lies well before it.
    public func decided(before end: Int) -> Bool { stretched.decided(before: end) }

    public init(config: SyllableNucleiConfig = SyllableNucleiConfig(), hopSeconds: Double = 0.01) {
        self.config = config
        self.hopSeconds = hopSeconds
        reference = NucleusDetector(config: config, hopSeconds: hopSeconds)
        stretched = NucleusDetector(config: config, hopSeconds: hopSeconds)
        nuclei.reserveCapacity(64)
    }

    /// The stretch of the tempo found so far.
    public var stretch: Double {
        guard let reference = config.referenceRatePerSecond, firstPassNuclei >= config.minimumNucleiForTempo,
            speechFrames > 0
        else { return 1 }
        let prior = config.tempoPriorSeconds
        let rate = (Double(firstPassNuclei) + prior * reference) / (Double(speechFrames) * hopSeconds + prior)
        return rate < reference ? min(config.maximumStretch, pow(reference / rate, config.stretchExponent)) : 1
    }

    /// Adds the next frame: its envelope, whether it is periodic (a tracked pitch, or a deep
    /// YIN dip), whether it is speech, and the channel's levels.
    public mutating func push(envelopeDb: Float, periodic: Bool, speech: Bool, levels: ChannelLevels) {
        if speech { speechFrames += 1 }
        reference.push(envelopeDb: envelopeDb, periodic: periodic, speech: speech, levels: levels, stretch: 1)
        firstPassNuclei += reference.takeNuclei()
        stretched.push(
            envelopeDb: envelopeDb, periodic: periodic, speech: speech, levels: levels,
            stretch: config.referenceRatePerSecond == nil ? 1 : stretch)
        #if YUSU_DEV_TUNING
            pushed += 1
            if ProcessInfo.processInfo.environment["YUSU_DEBUG_STRETCH"] != nil && pushed % 1000 == 0 {
                FileHandle.standardError.write(
                    Data("stretch \(pushed) \(stretch) nuclei \(firstPassNuclei) speech \(speechFrames)\n".utf8))
            }
        #endif
        stretched.takeNuclei(into: &nuclei)
    }

    public mutating func finish() {
        reference.finish()
        stretched.finish()
        stretched.takeNuclei(into: &nuclei)
    }

    /// Starts the envelope floor from `envelopeDb`, the frames of the warm-up, judged
    /// together (as the channel's levels are); those frames do not count again as they pass.
    public mutating func prime(envelopeDb: [Float]) {
        reference.prime(envelopeDb)
        stretched.prime(envelopeDb)
    }

    /// Hands the decided nuclei over.
    public mutating func take(into out: inout [Int]) {
        // Asked every frame, mostly with none: an empty append still retains both arrays.
        guard !nuclei.isEmpty else { return }
        out.append(contentsOf: nuclei)
        nuclei.removeAll(keepingCapacity: true)
    }
}

/// One detector at a tempo that may change from frame to frame (`stretch`).
struct NucleusDetector: Sendable {
    let config: SyllableNucleiConfig
    let hopSeconds: Double
    let reach: Int
    let ahead: Int
    let voicingReach: Int
    /// The widest spacing (at the largest stretch), frames.
    let widestSpacing: Int
    /// Raw envelope, smoothed envelope, periodicity, speech, SNR threshold of each frame.
    private var raw: FrameRing<Float>
    private var smooth: FrameRing<Float>
    private var periodic: FrameRing<Bool>
    private var speech: FrameRing<Bool>
    private var stretchOf: FrameRing<Float>
    private var floorOf: FrameRing<Float>
    private var scaleOf: FrameRing<Float>
    private var floorHistogram = RunningHistogram(lowest: -120, highest: 10, step: 0.1)
    private var clock: ForgettingClock
    private var framesIn = 0
    /// Frames whose smoothed envelope is known.
    private var smoothed = 0
    /// Peak search: the start of a rise's plateau.
    private var plateauStart: Int? = nil
    /// Local maxima and their spacing.
    private var spacer: PeakSpacer
    /// Kept peaks not yet validated, and validated nuclei not yet handed over.
    private var candidates: [Int] = []
    private var found: [Int] = []
    private var finished = false
    private var periodicCount = 0

    init(config: SyllableNucleiConfig, hopSeconds: Double) {
        self.config = config
        self.hopSeconds = hopSeconds
        widestSpacing = Int((config.minimumSpacingSeconds * config.maximumStretch / hopSeconds).rounded()) + 1
        reach = Int((1.0 / hopSeconds).rounded())
        ahead = Int((config.lookAheadSeconds / hopSeconds).rounded())
        voicingReach = Int((config.voicingSearchSeconds / hopSeconds).rounded())
        let ring = 1024
        raw = FrameRing(capacity: ring, filler: -120)
        smooth = FrameRing(capacity: ring, filler: -120)
        periodic = FrameRing(capacity: ring, filler: false)
        speech = FrameRing(capacity: ring, filler: false)
        stretchOf = FrameRing(capacity: ring, filler: 1)
        floorOf = FrameRing(capacity: ring, filler: -120)
        scaleOf = FrameRing(capacity: ring, filler: 1)
        clock = ForgettingClock(forgetAfterSteps: ChannelLevelsConfig().forgetSeconds / hopSeconds)
        spacer = PeakSpacer(
            widestSpacing: Int((config.minimumSpacingSeconds * config.maximumStretch / hopSeconds).rounded()) + 1)
        candidates.reserveCapacity(16)
        found.reserveCapacity(16)
    }

    /// Every frame before this one is decided.
    var decidedThrough: Int {
        var through = finished ? framesIn : max(0, smoothed - ahead - 1)
        if let p = spacer.firstUndecided { through = min(through, p) }
        if let c = candidates.first { through = min(through, c) }
        return through
    }

    /// Every peak before `end` has been found (a peak at i is found once i + 1 is smoothed),
    /// spaced and validated.
    func decided(before end: Int) -> Bool {
        if finished { return true }
        guard smoothed >= end + 1 else { return false }
        if let s = plateauStart, s < end { return false }
        if let p = spacer.firstUndecided, p < end { return false }
        if let c = candidates.first, c < end { return false }
        return true
    }

    mutating func push(
        envelopeDb: Float, periodic isPeriodic: Bool, speech isSpeech: Bool, levels: ChannelLevels, stretch: Double
    ) {
        raw.append(envelopeDb)
        periodic.append(isPeriodic)
        speech.append(isSpeech)
        stretchOf.append(Float(stretch))
        floorOf.append(levels.floorCorrectionDb)
        scaleOf.append(levels.snrScale)
        framesIn += 1
        // Smooth every frame whose window is complete.
        while smoothed < framesIn && smoothed + halfWidth(smoothed) < framesIn { smoothOne() }
        advance()
    }

    /// Frames the floor already holds (the warm-up's).
    private var primed = 0

    mutating func prime(_ envelope: [Float]) {
        let n = envelope.count
        guard n > 0 else { return }
        let width = config.smoothingWindowFrames
        let full = Int(((width - 1) / 2).rounded(.down))
        for i in 0..<n {
            var sum: Float = 0
            for j in (i - full)...(i + full) { sum += envelope[min(n - 1, max(0, j))] }
            let value = sum / Float(2 * full + 1)
            if value > -115 { floorHistogram.add(value, weight: clock.weight) }
        }
        primed = n
    }

    mutating func finish() {
        finished = true
        while smoothed < framesIn { smoothOne() }
        advance()
        // The last frame cannot be a peak (no fall after it); undecided peaks decide now.
        decideSpacing(force: true)
        validate(force: true)
    }

    @inline(__always) private func halfWidth(_ i: Int) -> Int {
        let width = config.smoothingWindowFrames * Double(stretchOf[i])
        return Int(((width - 1) / 2).rounded(.down)) + 1
    }

    /// The moving average of the raw envelope over a centred window of 5 × stretch frames
    /// (fractional: the two outermost frames weigh what is left over), the channel's ends
    /// repeating its end values.
    private mutating func smoothOne() {
        let i = smoothed
        let width = config.smoothingWindowFrames * Double(stretchOf[i])
        let lowest = max(0, raw.oldest)
        let last = framesIn - 1
        let value = Self.average({ raw[min(last, max(lowest, $0))] }, at: i, width: width)
        smooth.append(value)
        if value > -115 && i >= primed { floorHistogram.add(value, weight: clock.weight) }
        if let factor = clock.tick() { floorHistogram.scale(by: factor) }
        smoothed += 1
        findPeak(at: i - 1)
    }

    /// Local maxima of the smoothed envelope (a plateau counts once, at its middle), found
    /// once the frame after them is smoothed.
    private mutating func findPeak(at i: Int) {
        guard i >= 1, i + 1 < smoothed else { return }
        let before = smooth[i - 1]
        let here = smooth[i]
        let after = smooth[i + 1]
        if before < here { plateauStart = i }
        guard let start = plateauStart else { return }
        if after == here { return }
        if after < here {
            let peak = (start + i) / 2
            spacer.add(
                frame: peak, height: smooth[peak],
                spacing: Int((config.minimumSpacingSeconds * Double(stretchOf[peak]) / hopSeconds).rounded()))
        }
        plateauStart = nil
    }

    private mutating func advance() {
        decideSpacing(force: false)
        validate(force: false)
    }

    private mutating func decideSpacing(force: Bool) {
        spacer.decide(knownThrough: smoothed, force: force, into: &candidates)
    }

    /// Validation of kept peaks: in speech, over the floor, near the loudest frame around,
    /// voiced near by, prominent.
    private mutating func validate(force: Bool) {
        while let p = candidates.first {
            if !force && smoothed <= p + ahead { return }
            candidates.removeFirst()
            if isNucleus(p) { found.append(p) }
            #if YUSU_DEV_TUNING
                if let range = ProcessInfo.processInfo.environment["YUSU_DEBUG_PEAKS"] {
                    let parts = range.split(separator: "-").compactMap { Int($0) }
                    if parts.count == 2 && p >= parts[0] && p <= parts[1] {
                        let floorDb = (floorHistogram.percentile(0.05) ?? -120) - floorOf[p]
                        FileHandle.standardError.write(
                            Data(
                                """
                                peak \(p) value \(smooth[p]) floor \(floorDb) speech \(speech[p]) nucleus \
                                \(found.last == p)\n
                                """
                                .utf8))
                    }
                }
            #endif
        }
    }

    private func isNucleus(_ p: Int) -> Bool {
        let value = smooth[p]
        guard speech[p] else { return false }
        let floorDb = (floorHistogram.percentile(0.05) ?? -120) - floorOf[p]
        guard value - floorDb >= config.minimumSnrDb * scaleOf[p] else { return false }
        let lo = max(smooth.oldest, p - reach)
        let hi = min(smoothed - 1, p + ahead)
        var loudest = -Float.infinity
        for j in lo...hi where smooth[j] > loudest { loudest = smooth[j] }
        guard loudest - value <= config.maximumBelowPeakDb else { return false }
        var voiced = false
        for j in max(periodic.oldest, p - voicingReach)...min(framesIn - 1, p + voicingReach) where periodic[j] {
            voiced = true
            break
        }
        guard voiced else { return false }
        // Prominence: above the higher of the lowest points between it and a higher frame
        // on either side.
        var leftMin = value
        var i = p - 1
        while i >= lo && smooth[i] <= value {
            leftMin = min(leftMin, smooth[i])
            i -= 1
        }
        var rightMin = value
        i = p + 1
        while i <= hi && smooth[i] <= value {
            rightMin = min(rightMin, smooth[i])
            i += 1
        }
        return value - max(leftMin, rightMin) >= config.minimumProminenceDb
    }

    /// One frame's moving average of `x` over a centred window of `width` frames
    /// (fractional: the two outermost frames weigh what is left over).
    @inline(__always) static func average(_ x: (Int) -> Float, at i: Int, width: Double) -> Float {
        guard width > 1 else { return x(i) }
        let full = Int(((width - 1) / 2).rounded(.down))
        let edgeWeight = Float((width - Double(2 * full + 1)) / 2)
        let outer = edgeWeight > 0 ? full + 1 : full
        var sum: Float = 0
        for j in (i - full)...(i + full) { sum += x(j) }
        if outer > full { sum += edgeWeight * (x(i - outer) + x(i + outer)) }
        return sum / Float(width)
    }

    /// How many nuclei were found since the last call.
    mutating func takeNuclei() -> Int {
        let n = found.count
        found.removeAll(keepingCapacity: true)
        return n
    }

    mutating func takeNuclei(into out: inout [Int]) {
        out.append(contentsOf: found)
        found.removeAll(keepingCapacity: true)
    }
}

/// The one-call form over collected features (tests, small signals): the same tracker.
public struct SyllableNucleusDetector: Sendable {
    public var config: SyllableNucleiConfig
    public init(config: SyllableNucleiConfig = SyllableNucleiConfig()) { self.config = config }

    /// Frame indices of syllable nuclei within speech frames, ascending, against fixed
    /// `levels` (the running levels when nil).
    public func detect(_ features: FrameFeatures, pitch: PitchTrack, speech: [Bool], levels: ChannelLevels? = nil)
        -> [Int]
    {
        var tracker = SyllableNucleusTracker(config: config, hopSeconds: features.config.hopSeconds)
        var running = ChannelLevelsTracker(hopSeconds: features.config.hopSeconds)
        var out: [Int] = []
        for i in 0..<features.frameCount {
            running.observe(features.frame(i))
            let periodic = pitch.f0Hz[i] > 0 || features.candidateDip(i, 0) < config.periodicDip
            tracker.push(
                envelopeDb: features.syllableEnvelopeDb[i], periodic: periodic, speech: speech[i],
                levels: levels ?? running.levels)
            tracker.take(into: &out)
        }
        tracker.finish()
        tracker.take(into: &out)
        return out
    }
}

/// Spacing among close peaks: a peak is kept when no kept higher peak lies within its
/// spacing. A peak is decided once every peak within its spacing is known and those higher
/// than it are decided; the greedy highest-first choice over a whole channel, made as the
/// peaks come (ties to the earlier peak).
struct PeakSpacer: Sendable {
    /// Peaks not yet handed on: frame, height, spacing, and the decision once made.
    private var pending: [(frame: Int, height: Float, spacing: Int, kept: Bool?)] = []
    /// No peak is closer than this to another that can still change it, frames.
    let widestSpacing: Int

    init(widestSpacing: Int) {
        self.widestSpacing = widestSpacing
        pending.reserveCapacity(16)
    }

    var firstUndecided: Int? { pending.first?.frame }

    mutating func add(frame: Int, height: Float, spacing: Int) {
        pending.append((frame, height, spacing, nil))
    }

    /// Decides what can be decided when every frame before `knownThrough` is known (peaks
    /// are found one frame after them); kept peaks go to `kept`, in order.
    mutating func decide(knownThrough: Int, force: Bool, into kept: inout [Int]) {
        var changed = true
        while changed {
            changed = false
            for k in pending.indices where pending[k].kept == nil {
                let p = pending[k]
                if !force && knownThrough <= p.frame + p.spacing + 1 { continue }
                var blocked = false
                var suppressed = false
                for q in pending where q.frame != p.frame && abs(q.frame - p.frame) < p.spacing {
                    guard q.height > p.height || (q.height == p.height && q.frame < p.frame) else { continue }
                    if q.kept == nil {
                        blocked = true
                        break
                    }
                    if q.kept == true { suppressed = true }
                }
                if blocked { continue }
                pending[k].kept = !suppressed
                changed = true
            }
        }
        // Decided peaks leave, in order, once no undecided or future peak can need them.
        while let first = pending.first, let isKept = first.kept {
            if !force
                && (knownThrough <= first.frame + widestSpacing + 1
                    || pending.contains(where: { $0.kept == nil && $0.frame - first.frame < widestSpacing }))
            {
                break
            }
            if isKept { kept.append(first.frame) }
            pending.removeFirst()
        }
    }
}
