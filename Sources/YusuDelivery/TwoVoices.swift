// Two voices on one channel: does a mono recording hold both parties?
//
// Method: each speaker talks in a register of their own (the median F0 of their utterances
// spreads by a semitone or two around it), and two speakers' registers differ by a few
// semitones or more (Traunmüller & Eriksson 1995, "The frequency range of the voice
// fundamental in the speech of male and female adults": about an octave between the sexes,
// and several semitones between speakers of one sex). Stages:
//   1. per stretch of voicing (voiced frames joined across unvoiced gaps up to 0.2 s: a
//      phrase, said by one party, where an utterance of a mixed channel often holds both)
//      with at least `minimumVoicedSeconds` of pitch, its median F0 in semitones, weighted
//      by its voiced time; stretches an octave-error away (over 8 st) from the median of
//      all are left out;
//   2. the best split of those medians into a low and a high group (Otsu 1979, "A threshold
//      selection method from gray-level histograms", in one dimension: the split that
//      maximises the between-group variance);
//   3. two voices when the groups lie at least `minimumSeparationSemitones` apart, the
//      split explains at least `minimumExplainedShare` of the variance (one Gaussian-spread
//      voice gives 2/π ≈ 0.64, two separate voices far more), and each group holds at
//      least `minimumShare` of the voiced time in at least two utterances.
// It cannot tell who is who, so the measures stay those of the one channel; the finding is
// a warning that the agent's numbers include the customer's speech.
import Foundation
import YusuSignal

public struct TwoVoicesConfig: Sendable, Equatable {
    public var minimumVoicedSeconds = 0.3
    /// Unvoiced gaps up to this long join voicing into one stretch, seconds.
    public var joinGapSeconds = 0.2
    public var minimumStretches = 6
    public var minimumSeparationSemitones = 3.5
    public var minimumExplainedShare = 0.65
    public var minimumShare = 0.1
    /// Stretches further than this from the median of all are octave errors, semitones.
    public var outlierSemitones = 8.0
    public init() {}
}

public enum TwoVoices {
    /// One stretch of voicing: its median F0 and how long it is voiced.
    public struct Sample: Sendable, Equatable {
        public var medianF0Hz: Double
        public var voicedSeconds: Double
    }

    /// The two registers (low, high), Hz, when the utterances fall into two voices; nil otherwise.
    public static func detect(_ samples: [Sample], config: TwoVoicesConfig = TwoVoicesConfig()) -> (
        lowHz: Double, highHz: Double
    )? {
        let all = samples.filter { $0.voicedSeconds >= config.minimumVoicedSeconds && $0.medianF0Hz > 0 }
            .map { (st: 12 * log2($0.medianF0Hz / 100), w: $0.voicedSeconds) }
            .sorted { $0.st < $1.st }
        guard all.count >= config.minimumStretches else { return nil }
        let middle = all[all.count / 2].st
        let used = all.filter { abs($0.st - middle) <= config.outlierSemitones }
        guard used.count >= config.minimumStretches else { return nil }
        let total = used.reduce(0) { $0 + $1.w }
        let mean = used.reduce(0) { $0 + $1.st * $1.w } / total
        let variance = used.reduce(0) { $0 + $1.w * ($1.st - mean) * ($1.st - mean) } / total
        guard variance > 0 else { return nil }
        var best: (between: Double, split: Int, low: Double, high: Double)? = nil
        var lowWeight = 0.0
        var lowSum = 0.0
        for k in 1..<used.count {
            lowWeight += used[k - 1].w
            lowSum += used[k - 1].st * used[k - 1].w
            let highWeight = total - lowWeight
            let lowMean = lowSum / lowWeight
            let highMean = (mean * total - lowSum) / highWeight
            let between = lowWeight * highWeight / (total * total) * (highMean - lowMean) * (highMean - lowMean)
            if best == nil || between > best!.between { best = (between, k, lowMean, highMean) }
        }
        guard let best else { return nil }
        let lowWeightShare = used[..<best.split].reduce(0) { $0 + $1.w } / total
        guard best.high - best.low >= config.minimumSeparationSemitones,
            best.between / variance >= config.minimumExplainedShare,
            min(lowWeightShare, 1 - lowWeightShare) >= config.minimumShare,
            best.split >= 2, used.count - best.split >= 2
        else { return nil }
        return (100 * pow(2, best.low / 12), 100 * pow(2, best.high / 12))
    }

    /// The warning every report carries when a mono recording holds two voices.
    public static func warning(lowHz: Double, highHz: Double) -> String {
        String(
            format:
                """
                two voices seem to share this mono recording (pitch registers near %.0f Hz and %.0f Hz, each in a \
                good share of the speech): 
                """,
            lowHz, highHz)
                + """
                the agent's measures include the other party's speech, and interruptions cannot be told apart; record \
                agent and customer on separate channels
                """
    }
}

extension TwoVoices {
    /// The stretches of voicing of one channel's speech: voiced frames joined across
    /// unvoiced gaps up to `joinGapSeconds`.
    public static func stretches(
        f0Hz: [Float], speech: [Bool], hopSeconds: Double, config: TwoVoicesConfig = TwoVoicesConfig()
    ) -> [Sample] {
        let gap = Int((config.joinGapSeconds / hopSeconds).rounded())
        var out: [Sample] = []
        var voiced: [Double] = []
        var lastVoiced = -1
        func close() {
            if !voiced.isEmpty {
                out.append(Sample(medianF0Hz: median(voiced), voicedSeconds: Double(voiced.count) * hopSeconds))
            }
            voiced.removeAll(keepingCapacity: true)
        }
        for i in 0..<min(f0Hz.count, speech.count) where f0Hz[i] > 0 && speech[i] {
            if lastVoiced >= 0 && i - lastVoiced - 1 > gap { close() }
            voiced.append(Double(f0Hz[i]))
            lastVoiced = i
        }
        close()
        return out
    }
}

/// Stage 1 of the method above, streaming: frames in (F0 of the party's speech frames, 0
/// elsewhere), one `TwoVoices.Sample` out per stretch of voicing.
struct VoiceStretches {
    private let joinGapFrames: Int
    private let hopSeconds: Double
    private(set) var samples: [TwoVoices.Sample] = []
    private var register = PitchRegister()
    private var voiced = 0
    private var last = -1_000_000

    init(joinGapSeconds: Double, hopSeconds: Double) {
        joinGapFrames = Int((joinGapSeconds / hopSeconds).rounded())
        self.hopSeconds = hopSeconds
    }

    mutating func push(_ j: Int, f0Hz f0: Float) {
        guard f0 > 0 else { return }
        if j - last - 1 > joinGapFrames { flush() }
        register.add(f0Hz: f0)
        voiced += 1
        last = j
    }

    /// The open stretch is over.
    mutating func flush() {
        guard voiced > 0, let medianHz = register.medianHz else { return }
        samples.append(TwoVoices.Sample(medianF0Hz: medianHz, voicedSeconds: Double(voiced) * hopSeconds))
        register = PitchRegister()
        voiced = 0
    }
}
