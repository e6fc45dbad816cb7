// Final intonation of an utterance: does the voice sink at the end (句尾下沉)?
//
// Method: speaker-normalised pitch (semitones relative to the speaker's own median F0, as
// in Ladd's register-relative description of final lowering and in 't Hart, Collier &
// Cohen 1990 on declination), measured on the utterance's last voiced stretch:
//   1. collect the last `endingWindowSeconds` of voiced frames before the utterance end,
//      stopping at a voicing gap longer than `endingMaximumGapSeconds`; a stretch with
//      less than `endingMinimumVoicedSeconds` of voicing is not judged (a sinking ending
//      often keeps only a few voiced frames before it turns creaky);
//   2. end pitch: the median of the stretch's last quarter; its high point: the 90th
//      percentile of the stretch (both robust to a stray octave error in a frame or two);
//   3. the level the ending falls from: the higher of that high point and the median of
//      the voiced speech in the `endingPrecedingWordSeconds` before the stretch (the last
//      prosodic word: a final syllable said low after a higher word falls as much as one
//      that glides down; Lai, Sui & Yuan 2014 on Mandarin final lowering, Lin Maocan 2004 on
//      the boundary tone carried by the end point's register);
//   4. final drop = that level − end, semitones, and where the end lies against the
//      speaker's register. Whether that sinks is the standard's to say
//      (`FallingEndingsRule.isSinking`: a real fall *and* a low end); the measure knows
//      nothing of a limit.
import Foundation
import YusuSignal

public struct FinalIntonation: Sendable {
    public var config: DeliveryConfig
    public init(config: DeliveryConfig) { self.config = config }

    public struct Ending: Sendable, Equatable {
        public var dropSemitones: Double
        public var endRelativeToMedianSemitones: Double
        public var span: TimeSpan
    }

    /// Measures the ending of the utterance spanning frames `frames` of `f0Hz`.
    public func measure(f0Hz: [Float], frames: Range<Int>, medianF0Hz: Double, hopSeconds: Double) -> Ending? {
        measure(f0Hz: { f0Hz[$0] }, frames: frames, medianF0Hz: medianF0Hz, hopSeconds: hopSeconds)
    }

    /// The same over F0 read by frame number (a ring of the latest frames).
    public func measure(f0Hz: (Int) -> Float, frames: Range<Int>, medianF0Hz: Double, hopSeconds: Double) -> Ending? {
        guard medianF0Hz > 0, !frames.isEmpty else { return nil }
        let windowFrames = Int((config.endingWindowSeconds / hopSeconds).rounded())
        let maxGapFrames = Int((config.endingMaximumGapSeconds / hopSeconds).rounded())
        var picked: [Int] = []
        var gap = 0
        var i = frames.upperBound - 1
        while i >= frames.lowerBound && picked.count < windowFrames {
            if f0Hz(i) > 0 {
                picked.append(i)
                gap = 0
            } else if !picked.isEmpty {
                gap += 1
                if gap > maxGapFrames { break }
            }
            i -= 1
        }
        guard picked.count >= max(2, Int((config.endingMinimumVoicedSeconds / hopSeconds).rounded())) else {
            return nil
        }
        picked.reverse()
        let semitones = picked.map { 12 * log2(Double(f0Hz($0)) / medianF0Hz) }
        let quarter = max(2, semitones.count / 4)
        let end = median(Array(semitones.suffix(quarter)))
        let sorted = semitones.sorted()
        var high = sorted[min(sorted.count - 1, sorted.count * 9 / 10)]
        // The voiced speech before the stretch (the last word's other syllables): up to
        // `endingPrecedingWordSeconds` of voicing, looked for at most 1 s back.
        let wordFrames = Int((config.endingPrecedingWordSeconds / hopSeconds).rounded())
        var word: [Double] = []
        var j = picked.first! - 1
        let earliest = max(frames.lowerBound, picked.first! - Int((1.0 / hopSeconds).rounded()))
        while j >= earliest && word.count < wordFrames {
            let f = f0Hz(j)
            if f > 0 { word.append(12 * log2(Double(f) / medianF0Hz)) }
            j -= 1
        }
        if word.count >= quarter { high = max(high, median(word)) }
        let drop = high - end
        let span = TimeSpan(
            startSeconds: Double(picked.first!) * hopSeconds, endSeconds: Double(picked.last! + 1) * hopSeconds)
        return Ending(dropSemitones: drop, endRelativeToMedianSemitones: end, span: span)
    }
}

/// What a person is shown of an ending: its fall and its end against the register, and
/// neither where the pitch tracker's octave jump makes it a false number. A halved period in
/// a creaky ending (or a doubled one before it) adds about 12 st the voice did not make:
/// measured falls of 13–29 st where the ear hears 5, or a level ending. The judgement keeps
/// the measured values, on which the rule was set (folding them before judging lost true
/// sinking endings: F1 0.897 → 0.844 on the dev calls, creak is heard as low); only what is
/// printed changes. Taking whole octaves out of the printed numbers, as Yusu did until now, was
/// tried on the dev calls' three such endings, each truly falling 5.4–6.0 st: it printed falls of 4.8, 4.8
/// and 1.8 st and ends 3.8 below, 2.9 above and 1.7 below the register, two of them numbers
/// that contradict the verdict. A jump's size is not the voice's, so no number is printed
/// where it lies.
public struct ShownEnding: Sendable, Equatable {
    /// A fall of more than an octave into an utterance's end is the tracker's octave error.
    public static let plausibleFallSemitones = 12.0
    /// An end this far under the register took part in such an error (a halved period).
    public static let plausibleEndSemitones = 9.0
    /// The fall into the end, st; nil where an octave jump lies in it.
    public var dropSemitones: Double?
    /// The end against the register, st; nil where the jump is at the end itself (halved).
    public var endRelativeToMedianSemitones: Double?
    /// Whether the tracker jumped an octave in the ending (then the fall is not shown).
    public var octaveJump: Bool { dropSemitones == nil }

    public init(dropSemitones drop: Double, endRelativeToMedianSemitones end: Double) {
        guard drop > Self.plausibleFallSemitones else {
            (dropSemitones, endRelativeToMedianSemitones) = (drop, end)
            return
        }
        dropSemitones = nil
        // Halved at the end: the end is the jump's too. Doubled before it: the end is the voice's.
        endRelativeToMedianSemitones = end < -Self.plausibleEndSemitones ? nil : end
    }

    /// "pitch falls 4.8 st into the end and ends 2.1 st below the agent's register"; where
    /// the tracker jumped an octave, what could not be measured, said.
    public var note: String {
        guard endRelativeToMedianSemitones != nil else {
            return "句尾降入嘎裂声 (音高跟踪在此跳了八度, 降幅未测) · pitch falls into creak at the end (the pitch tracker "
                + "jumped an octave there, so the size of the fall is not measured)"
        }
        let end = endPhrase("the agent's register")
        guard let drop = dropSemitones else {
            return endPhraseZh + " (降幅未测: 音高跟踪在句尾前跳了八度) · " + end
                + " (the fall is not measured: the pitch tracker jumped an octave before the end)"
        }
        let fallZh = drop < 0.5 ? "句尾音高平" : String(format: "句尾音高下降 %.1f 半音", drop)
        let fall = drop < 0.5 ? "pitch level into the end" : String(format: "pitch falls %.1f st into the end", drop)
        return fallZh + ", " + endPhraseZh + " · " + fall + " and " + end
    }

    /// "收尾低于音域中线 2.1 半音" (or above, or in the middle); "降入嘎裂声" where the end itself
    /// is the tracker's octave jump.
    public var endPhraseZh: String {
        guard let e = endRelativeToMedianSemitones else { return "降入嘎裂声" }
        if abs(e) < 0.05 { return "收在音域中间" }
        return String(format: "收尾%@音域中线 %.1f 半音", e < 0 ? "低于" : "高于", abs(e))
    }

    /// "ends 2.1 st below `register`" (or above, or at it); "ends in creak" where the end
    /// itself is the tracker's octave jump.
    public func endPhrase(_ register: String) -> String {
        guard let e = endRelativeToMedianSemitones else { return "ends in creak" }
        if abs(e) < 0.05 { return "ends at \(register)" }
        return String(format: "ends %.1f st %@ %@", abs(e), e < 0 ? "below" : "above", register)
    }

    /// Where the ending ended, Chinese first: "收尾低于音域中线 2.1 半音 · ends 2.1 st below the
    /// register", with the tracker's octave jump said where there was one.
    public var endLabel: String {
        octaveJump
            ? endPhraseZh + " (音高跟踪跳了八度, 降幅未测) · " + endPhrase("the register")
                + " (the pitch tracker jumped an octave; the fall is not measured)"
            : endPhraseZh + " · " + endPhrase("the register")
    }
}

/// Median of `values` (mean of the middle two for an even count); 0 when empty.
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// The call page's pitch contour, streaming: the median F0 of each 50 ms (5 frames) of
/// voicing inside utterances, blocks with fewer than two voiced frames left out.
struct ContourSampler {
    private let hopSeconds: Double
    private(set) var points: [(timeSeconds: Float, f0Hz: Float)] = []
    private var block: [Float] = []

    init(hopSeconds: Double) {
        self.hopSeconds = hopSeconds
        block.reserveCapacity(8)
    }

    mutating func push(_ j: Int, f0Hz f0: Float, inUtterance: Bool) {
        if f0 > 0 && inUtterance { block.append(f0) }
        if (j + 1) % 5 == 0 {
            if block.count >= 2 {
                let sorted = block.sorted()
                let mid = sorted.count / 2
                let m = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
                points.append((Float(Double(j - 2) * hopSeconds), m))
            }
            block.removeAll(keepingCapacity: true)
        }
    }

    mutating func flush() { block.removeAll() }
}
