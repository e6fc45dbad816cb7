// Learned syllable nuclei: the frames at which a channel's syllables are counted, from the
// shares `SyllableNet` gives each 20 ms step.
//
// Stages, per frame as it comes:
//   1. features (`SyllableFeatureExtractor`), averaged over a pair of frames into a step;
//   2. the step's share of a syllable (`SyllableNetStream`), 0.31 s later;
//   3. the share counts, half on each of the step's two frames, where the frame lies in an
//      utterance: speech, or a pause inside one (shorter than `bridgeFrames`, as
//      `ChannelStream` bridges them), whose shares wait until speech resumes; the count of
//      an utterance is the sum of its frames' shares;
//   4. a nucleus is placed at the frame where the running sum of shares passes the next
//      half-integer (k + 0.5): the number of nuclei up to any frame is the running sum
//      rounded, so utterance counts add up to the channel's rounded total, and a fraction
//      left over at one utterance's end carries into the next (error diffusion).
// Look-ahead: 0.31 s (the network's 15 steps and the pair).
import Foundation

/// Learned nuclei over one channel's frames. Feed it every frame (its F0, speech decision
/// and levels) in order; `take` hands over nuclei (frame indices) as they are decided.
public struct LearnedNucleusTracker: @unchecked Sendable {
    private var extractor = SyllableFeatureExtractor()
    private var stream: SyllableNetStream
    /// The pair's first frame's features, then the pair's mean.
    /// (`FixedBuffer`s: written at every frame without an array's uniqueness check.)
    private let pair: FixedBuffer<Float>
    private let features: FixedBuffer<Float>
    /// Speech of each step not yet given its share: bit 0 its first frame, bit 1 its second.
    private var pendingSpeech: FrameRing<UInt8>
    /// Pauses shorter than this (frames) lie inside an utterance.
    public let bridgeFrames: Int
    private var heardSpeech = false
    /// The pause since the last speech frame: its length, frames, and its shares so far.
    private var pauseFrames = 0
    private var pauseShare: Double = 0
    private var framesIn = 0
    /// Steps (pairs of frames) whose share has come out.
    private var stepsOut = 0
    private var total: Double = 0
    private var placed = 0
    private var finished = false
    private var nuclei: [Int] = []
    /// Optional sink for the features of every frame (training material): frame, features.
    /// (The tracker is Sendable while this is nil; a sink is set by one caller on one thread.)
    public var featureSink: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil

    /// - Parameter bridgeFrames: pauses shorter than this lie inside an utterance (50 = 0.5 s
    ///   at 10 ms, `DeliveryConfig.utterancePauseSeconds`).
    public init(net: SyllableNet = .bundled, bridgeFrames: Int = 50) {
        stream = SyllableNetStream(net: net)
        self.bridgeFrames = bridgeFrames
        pair = FixedBuffer(count: SyllableFeatureExtractor.count, filler: 0)
        features = FixedBuffer(count: SyllableFeatureExtractor.count, filler: 0)
        pendingSpeech = FrameRing(capacity: 64, filler: 0)
        nuclei.reserveCapacity(64)
    }

    /// The running sum of shares over utterances so far (the channel's count before rounding).
    public var shareSum: Double { total }

    /// Every frame before this one is decided.
    public var decidedThrough: Int { finished ? framesIn : 2 * stepsOut }

    /// Whether every nucleus before frame `end` is decided.
    public func decided(before end: Int) -> Bool { finished || 2 * stepsOut >= end }

    /// Adds the next frame.
    public mutating func push(frame: Frame, f0Hz: Float, speech: Bool, levels: ChannelLevels) {
        let count = SyllableFeatureExtractor.count
        let index = framesIn
        framesIn += 1
        if index % 2 == 0 {
            extractor.features(of: frame, f0Hz: f0Hz, speech: speech, levels: levels, into: pair.pointer)
            if let sink = featureSink { sink(index, UnsafeBufferPointer(start: pair.pointer, count: count)) }
            pendingSpeech.append(speech ? 1 : 0)
            return
        }
        extractor.features(of: frame, f0Hz: f0Hz, speech: speech, levels: levels, into: features.pointer)
        if let sink = featureSink { sink(index, UnsafeBufferPointer(start: features.pointer, count: count)) }
        pendingSpeech[index / 2] |= speech ? 2 : 0
        for k in 0..<count { features[k] = 0.5 * (features[k] + pair[k]) }
        let share = stream.push(features.pointer)
        if let share { place(share) }
    }

    /// The channel has ended: a lone last frame makes a step of its own, then every share
    /// still waiting comes out.
    public mutating func finish() {
        guard !finished else { return }
        if framesIn % 2 == 1 {
            let share = stream.push(pair.pointer)
            if let share { place(share) }
        }
        while let share = stream.flush() { place(share) }
        finished = true
    }

    private mutating func place(_ share: Float) {
        let s = stepsOut
        stepsOut += 1
        let bits = pendingSpeech[s]
        let half = Double(share) / 2
        add(half, frame: 2 * s, speech: bits & 1 != 0)
        // A lone last frame makes a step of its own: it holds half the step's share.
        if 2 * s + 1 < framesIn { add(half, frame: 2 * s + 1, speech: bits & 2 != 0) }
    }

    /// One frame's share: counted in speech, held over a pause until speech resumes within
    /// `bridgeFrames`, dropped outside utterances.
    private mutating func add(_ share: Double, frame: Int, speech: Bool) {
        if speech {
            if heardSpeech && pauseFrames < bridgeFrames { total += pauseShare }
            heardSpeech = true
            pauseFrames = 0
            pauseShare = 0
            total += share
            while total >= Double(placed) + 0.5 {
                nuclei.append(frame)
                placed += 1
            }
        } else if heardSpeech && pauseFrames < bridgeFrames {
            pauseFrames += 1
            pauseShare += share
        }
    }

    /// Hands the decided nuclei over.
    public mutating func take(into out: inout [Int]) {
        // Asked every frame, mostly with none: an empty append still retains both arrays.
        guard !nuclei.isEmpty else { return }
        out.append(contentsOf: nuclei)
        nuclei.removeAll(keepingCapacity: true)
    }
}
