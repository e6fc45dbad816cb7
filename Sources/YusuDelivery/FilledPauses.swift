// Filled pauses (语气词 used to hesitate: 嗯, a hummed nasal; 呃/啊, a held neutral vowel).
//
// Method: a filled pause is a stretch of voicing that stays put, acoustically, for longer
// than a syllable does. Audhkhasi, Kandhway, Deshmukh & Verma 2009 ("Formant-based technique
// for automatic filled-pause detection in spontaneous spoken English", ICASSP) found the
// stability of the spectral envelope (formants) the strongest cue on call-centre agents'
// speech. Shriberg 1999 and Goto, Itou & Hayamizu 1999 (a real-time filled-pause detector from
// "small F0 movement and small spectral envelope deformation") add pitch that is level or
// slowly falling and a duration of a few hundred milliseconds. The stages:
//   1. voiced runs of the party's speech, bounded by unvoiced or silent frames;
//   2. within a run, steady frames: the spectral shape (band levels relative to the frame's
//      energy, over 300–3800 Hz) and the level change little over `spanFrames`, and the
//      pitch moves less than `maximumPitchStepSemitones` there;
//   3. a candidate: a run 0.25–1 s long whose frames are nearly all steady, with level or
//      slowly falling pitch over the whole run;
//   4. context: a filled pause stands apart. Silence or an unvoiced gap of at least
//      `minimumGapBeforeSeconds` comes before it, unless it opens the utterance. A drawn-out
//      last syllable (好的～) is attached to the speech before it, so it has no such gap.
//      A short sound while the other party talks is a backchannel (listening), not a filled
//      pause.
import Foundation
import YusuSignal

public struct FilledPauseConfig: Sendable, Equatable {
    public var minimumSeconds = 0.25
    public var maximumSeconds = 1.0
    /// Frames apart over which stability is judged (4 = 40 ms).
    public var spanFrames = 4
    /// Mean change of the spectral shape (3 bands, dB) and of the level over the span.
    public var maximumShapeChangeDb: Float = 2.0
    public var maximumLevelChangeDb: Float = 4.0
    /// Pitch movement over the span, semitones.
    public var maximumPitchStepSemitones = 1.0
    /// Share of a run's frames that must be steady.
    public var minimumSteadyShare = 0.8
    /// Over the whole run: it may fall this far, and rise at most this far, semitones.
    public var maximumFallSemitones = 5.0
    public var maximumRiseSemitones = 1.0
    /// Gap of silence or unvoiced frames before it, unless it opens the utterance, s.
    public var minimumGapBeforeSeconds = 0.12
    public init() {}
}

/// The detector of one channel, fed each frame once its F0 and speech decision are final.
/// It finds candidates from this channel alone (stages 1–3, and the gap before); the caller
/// adds the context it knows (the utterance the candidate opens or not, the other party).
/// Look-ahead: the run's end; memory: the last `spanFrames` frames and the open run.
public struct FilledPauseTracker: Sendable {
    public let config: FilledPauseConfig
    let hopSeconds: Double
    let minimumFrames: Int, maximumFrames: Int, gapFrames: Int
    /// The last frames' features, for the steadiness test.
    private var recent: FrameRing<(f0: Float, energy: Float, b1: Float, b2: Float, b3: Float)>
    private var runStart: Int? = nil
    private var runSteady = 0
    private var runF0: [Float] = []
    /// Frames since the last voiced speech frame (capped), and that count when the run began.
    private var sinceVoiced = 0
    private var gapBeforeRun = 0
    private var framesIn = 0

    /// A run that passed this channel's tests: [start, end) frames, and the gap before it.
    public struct Candidate: Sendable, Equatable {
        public var startFrame: Int
        public var endFrame: Int
        /// Unvoiced or silent frames right before it, up to the gap needed.
        public var gapBeforeFrames: Int
    }

    public init(config: FilledPauseConfig = FilledPauseConfig(), hopSeconds: Double = 0.01) {
        self.config = config
        self.hopSeconds = hopSeconds
        minimumFrames = Int((config.minimumSeconds / hopSeconds).rounded())
        maximumFrames = Int((config.maximumSeconds / hopSeconds).rounded())
        gapFrames = Int((config.minimumGapBeforeSeconds / hopSeconds).rounded())
        recent = FrameRing(capacity: config.spanFrames + 2, filler: (0, 0, 0, 0, 0))
        runF0.reserveCapacity(maximumFrames + 1)
    }

    /// Adds the next frame. - Returns: a candidate when a run ends here and passes.
    public mutating func push(_ frame: Frame, f0Hz: Float, speech: Bool) -> Candidate? {
        let i = framesIn
        framesIn += 1
        recent.append((f0Hz, frame.energyDb, frame.band1Db, frame.band2Db, frame.band3Db))
        let voicedSpeech = f0Hz > 0 && speech
        guard voicedSpeech else {
            let found = closeRun(at: i)
            sinceVoiced = min(sinceVoiced + 1, gapFrames)
            return found
        }
        if runStart == nil {
            runStart = i
            runSteady = 0
            runF0.removeAll(keepingCapacity: true)
            gapBeforeRun = sinceVoiced
        }
        if runF0.count <= maximumFrames { runF0.append(f0Hz) }
        if i - runStart! >= config.spanFrames && isSteady(i) { runSteady += 1 }
        sinceVoiced = 0
        return nil
    }

    /// The channel has ended: a run open at its end is judged.
    public mutating func finish() -> Candidate? { closeRun(at: framesIn) }

    /// Stage 2: the spectral shape, the level and the pitch hold over `spanFrames`.
    private func isSteady(_ i: Int) -> Bool {
        let k = config.spanFrames
        guard i >= k else { return false }
        let a = recent[i]
        let b = recent[i - k]
        guard a.f0 > 0, b.f0 > 0 else { return false }
        let shape =
            (abs((a.b1 - a.energy) - (b.b1 - b.energy)) + abs((a.b2 - a.energy) - (b.b2 - b.energy))
                + abs((a.b3 - a.energy) - (b.b3 - b.energy))) / 3
        let level = abs(a.energy - b.energy)
        let step = abs(12 * log2(Double(a.f0) / Double(b.f0)))
        return shape <= config.maximumShapeChangeDb && level <= config.maximumLevelChangeDb
            && step <= config.maximumPitchStepSemitones
    }

    /// Stage 3 on a run ending at `end` (exclusive).
    private mutating func closeRun(at end: Int) -> Candidate? {
        guard let start = runStart else { return nil }
        runStart = nil
        let length = end - start
        guard length >= minimumFrames && length <= maximumFrames else { return nil }
        let judged = length - config.spanFrames
        guard judged > 0, Double(runSteady) >= config.minimumSteadyShare * Double(judged) else { return nil }
        // Level or slowly falling pitch: its first and last fifths.
        let fifth = max(1, length / 5)
        let first = median(runF0[0..<fifth].map(Double.init))
        let last = median(runF0[(length - fifth)..<length].map(Double.init))
        let movement = 12 * log2(last / first)
        guard movement >= -config.maximumFallSemitones && movement <= config.maximumRiseSemitones else { return nil }
        return Candidate(startFrame: start, endFrame: end, gapBeforeFrames: gapBeforeRun)
    }

    /// Whether a candidate stands apart from the speech before it: a gap of at least
    /// `minimumGapBeforeSeconds`, unless it opens its utterance (which began at `utteranceStartFrame`).
    public func standsApart(_ c: Candidate, utteranceStartFrame: Int) -> Bool {
        Double(c.startFrame - utteranceStartFrame) * hopSeconds < config.minimumGapBeforeSeconds
            || c.gapBeforeFrames >= gapFrames
    }
}
