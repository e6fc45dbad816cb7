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

public struct FilledPauseDetector: Sendable {
    public var config: FilledPauseConfig
    public init(config: FilledPauseConfig = FilledPauseConfig()) { self.config = config }

    /// Filled pauses of one party.
    /// - Parameters:
    ///   - utterances: this party's utterance spans (pauses shorter than an utterance pause bridged);
    ///   - other: the other party's utterance spans (a sound inside them is a backchannel).
    public func detect(features: FrameFeatures, pitch: PitchTrack, speech: [Bool], utterances: [TimeSpan], other: [TimeSpan]) -> [TimeSpan] {
        let n = features.frameCount
        let hop = features.config.hopSeconds
        guard n > config.spanFrames + 2 else { return [] }
        let k = config.spanFrames
        // Steady frames.
        var steady = [Bool](repeating: false, count: n)
        for i in k..<n {
            let a = pitch.f0Hz[i], b = pitch.f0Hz[i - k]
            guard a > 0, b > 0 else { continue }
            var shape: Float = 0
            for band in 1..<FrameFeatures.bandCount {
                shape += abs((features.bandDb[band][i] - features.energyDb[i]) - (features.bandDb[band][i - k] - features.energyDb[i - k]))
            }
            shape /= Float(FrameFeatures.bandCount - 1)
            let level = abs(features.energyDb[i] - features.energyDb[i - k])
            let step = abs(12 * log2(Double(a) / Double(b)))
            steady[i] = shape <= config.maximumShapeChangeDb && level <= config.maximumLevelChangeDb && step <= config.maximumPitchStepSemitones
        }
        var found: [TimeSpan] = []
        let minimumFrames = Int((config.minimumSeconds / hop).rounded())
        let maximumFrames = Int((config.maximumSeconds / hop).rounded())
        let gapFrames = Int((config.minimumGapBeforeSeconds / hop).rounded())
        var i = 0
        while i < n {
            guard pitch.f0Hz[i] > 0 && speech[i] else { i += 1; continue }
            var j = i
            while j < n && pitch.f0Hz[j] > 0 && speech[j] { j += 1 }
            defer { i = j }
            let length = j - i
            guard length >= minimumFrames && length <= maximumFrames else { continue }
            // Steadiness over the run (its first `k` frames have no look-back inside the run).
            let judged = (i + k)..<j
            guard !judged.isEmpty else { continue }
            var steadyCount = 0
            for f in judged where steady[f] { steadyCount += 1 }
            guard Double(steadyCount) >= config.minimumSteadyShare * Double(judged.count) else { continue }
            // Level or slowly falling pitch over the run: compare its first and last fifths.
            let fifth = max(1, length / 5)
            let start = median((i..<(i + fifth)).map { Double(pitch.f0Hz[$0]) })
            let end = median(((j - fifth)..<j).map { Double(pitch.f0Hz[$0]) })
            let movement = 12 * log2(end / start)
            guard movement >= -config.maximumFallSemitones && movement <= config.maximumRiseSemitones else { continue }
            let span = TimeSpan(startSeconds: Double(i) * hop, endSeconds: Double(j) * hop)
            // Context: apart from the speech before it, unless it opens the utterance.
            guard let utterance = utterances.first(where: { $0.startSeconds <= span.startSeconds + hop && span.startSeconds < $0.endSeconds }) else { continue }
            let opens = span.startSeconds - utterance.startSeconds < config.minimumGapBeforeSeconds
            var gap = 0
            var g = i - 1
            while g >= 0 && gap < gapFrames && !(pitch.f0Hz[g] > 0 && speech[g]) { gap += 1; g -= 1 }
            guard opens || gap >= gapFrames else { continue }
            // Not a backchannel: the other party is not talking around it.
            let mid = (span.startSeconds + span.endSeconds) / 2
            guard !other.contains(where: { $0.contains(mid) }) else { continue }
            found.append(span)
        }
        return found
    }
}
