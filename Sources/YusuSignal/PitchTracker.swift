// F0 tracking as the frames come: dynamic programming over per-frame YIN candidates.
//
// Method: the candidate lattice of RAPT (Talkin 1995, "A robust algorithm for pitch
// tracking", in Speech Coding and Synthesis, §14.4: per-frame candidates plus an unvoiced
// hypothesis, local costs, transition costs on log-F0 jumps and voicing changes, Viterbi
// search), with YIN's cumulative-mean-normalised difference (de Cheveigné & Kawahara 2002)
// as the local dissimilarity of a voiced candidate.
// Stages:
//   1. noise floor of the channel (`ChannelLevels`: a running low percentile of frame
//      energies, corrected for recordings without a pause, with thresholds scaled for noisy
//      ones), as known when the frame arrives;
//   2. local cost: a voiced candidate costs its YIN dip plus a small preference for shorter
//      lags, and a penalty when a candidate at half or a third of its lag dips nearly as
//      deep (the sub-harmonic dips at 2T, 3T are almost as deep as T's: YIN step 4 picks the
//      first deep dip for this reason); frames near the noise floor make every voiced
//      candidate expensive; the unvoiced state costs a voicing threshold raised for
//      vowel-like spectral tilt and lowered for fricative-like tilt;
//   3. transitions: |log2 F0 jump| in octaves times a weight (octave errors cost more than
//      any plausible glide), a fixed cost for voiced/unvoiced changes;
//   4. fixed-lag Viterbi decoding (Forney 1973, "The Viterbi algorithm", Proc. IEEE 61(3),
//      §IV.B: decisions forced `lagSeconds` after the frame, by tracing back from the best
//      state then): F0 = rate / lag on voiced frames, 0 elsewhere. Look-ahead: `lagSeconds`
//      (0.25 s); at the end of the channel the last frames are traced back from the best
//      final state, as a whole-file search would. Memory: the last `lagSeconds` of
//      back-pointers, whatever the length.
// Departure from RAPT: candidates come from YIN (FFT-based) rather than normalised
// cross-correlation on a decimated signal, and decisions are final after a fixed lag, not
// at the end of the file (RAPT's whole-utterance backtrace).
import Foundation

/// Tunable costs of the tracker. Units: YIN dip (0...1) per frame.
public struct PitchTrackerConfig: Sendable, Equatable {
    /// Cost of calling a frame unvoiced; a voiced candidate must dip below about this.
    public var unvoicedCost: Float = 0.42
    /// Cost per octave of F0 change between consecutive voiced frames.
    public var octaveJumpCost: Float = 2.0
    /// Cost of switching between voiced and unvoiced.
    public var voicingSwitchCost: Float = 0.5
    /// Extra cost per unit of lag / max lag (prefers the fundamental period over multiples).
    public var longLagCost: Float = 0.05
    /// Extra cost of a candidate whose lag is a multiple (2×, 3×) of another candidate's
    /// that dips nearly as deep (within `subharmonicMarginDip`): YIN's preference for the
    /// first deep dip, which keeps perfectly periodic tones off their sub-harmonics.
    public var subharmonicPenalty: Float = 0.1
    public var subharmonicMarginDip: Float = 0.1
    /// Frames closer than this to the noise floor, dB, are pushed towards unvoiced.
    public var minimumVoicedSnrDb: Float = 9
    /// How long after a frame its F0 is decided (the fixed lag of the search), seconds. 0.25 s
    /// decides the dev corpus's pitch as 0.3 s did (every pitch metric the same; one call's
    /// customer count moves by one syllable), and every live line comes 0.05 s sooner; at
    /// 0.2 s the noisy sentences' counts worsen.
    public var lagSeconds: Double = 0.25
    /// Weight of the spectral tilt cue: the unvoiced cost rises by up to this much when the
    /// 300–1000 Hz band is far louder than 2000–3800 Hz (vowels), and falls by as much when
    /// the high band dominates (fricatives, hiss).
    public var tiltWeight: Float = 0.25
    /// Tilt (low minus high band, dB) that counts as fully vowel-like.
    public var tiltScaleDb: Float = 20
    public init() {}
}

/// A channel's pitch track, collected (tests, small signals).
public struct PitchTrack: Sendable {
    /// F0 per frame, Hz; 0 where unvoiced.
    public var f0Hz: [Float]
    /// YIN dip of the chosen candidate (lower = more periodic); 1 where unvoiced.
    public var dip: [Float]
    public var voicedFrameCount: Int { f0Hz.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } }
}

/// The tracker of one channel: `push` each frame with the levels known when it arrives;
/// the F0 of frame `n - lag` is then final and in `f0Hz` (a ring of the latest).
public struct PitchTracker: Sendable {
    public let config: PitchTrackerConfig
    public let analysis: AnalysisConfig
    /// Frames between a frame's arrival and its final F0.
    public let lagFrames: Int
    private let states = Frame.candidateCount + 1
    /// The DP's costs by state (`FixedBuffer`s: written at every frame without an array's
    /// uniqueness check).
    private let previous: FixedBuffer<Float>
    private let current: FixedBuffer<Float>
    private let local: FixedBuffer<Float>
    /// Back-pointers of the last `lagFrames + 1` frames, `states` per frame.
    private let back: FixedBuffer<UInt8>
    /// The last `lagFrames + 1` frames' candidates.
    private var recent: FrameRing<Frame>
    /// The state of each of the last `lagFrames + 2` frames on the path last traced back
    /// (by frame, as `back`), valid for the frames before `tracedTo`.
    private let onPath: FixedBuffer<UInt8>
    private var tracedTo = 0
    /// Tests: walk every traceback over the whole lag (the early stop's reference).
    var tracesWholeLag = false
    /// log2 of the last frame's candidate lags (the octave-jump cost is their difference).
    private var previousLogLags = SIMD4<Float>()
    /// Frames pushed.
    public private(set) var framesIn = 0
    /// Final F0 (Hz, 0 unvoiced) and chosen dip of the frames decided so far.
    public private(set) var f0Hz: FrameRing<Float>
    public private(set) var chosenDip: FrameRing<Float>
    /// Frames decided so far (`f0Hz.count`).
    public var framesOut: Int { f0Hz.count }

    public init(
        config: PitchTrackerConfig = PitchTrackerConfig(), analysis: AnalysisConfig = AnalysisConfig(),
        ringFrames: Int = 4096
    ) {
        self.config = config
        self.analysis = analysis
        lagFrames = max(1, Int((config.lagSeconds / analysis.hopSeconds).rounded()))
        previous = FixedBuffer(count: states, filler: 0)
        current = FixedBuffer(count: states, filler: 0)
        local = FixedBuffer(count: states, filler: 0)
        back = FixedBuffer(count: (lagFrames + 2) * states, filler: 0)
        recent = FrameRing(capacity: lagFrames + 2, filler: Frame())
        onPath = FixedBuffer(count: lagFrames + 2, filler: 0)
        f0Hz = FrameRing(capacity: ringFrames, filler: 0)
        chosenDip = FrameRing(capacity: ringFrames, filler: 1)
    }

    /// Frame `frame`'s row in the rings of the last `lagFrames + 2` frames (`back`, `onPath`).
    @inline(__always) private func ringRow(_ frame: Int) -> Int { frame % (lagFrames + 2) }
    /// Where frame `frame`'s back-pointers start in `back`.
    @inline(__always) private func slot(_ frame: Int) -> Int { ringRow(frame) * states }

    /// Adds the next frame, judged against `levels`.
    public mutating func push(_ frame: Frame, levels: ChannelLevels) {
        let n = framesIn
        recent.append(frame)
        fillLocal(frame, levels: levels)
        let row = slot(n)
        // Each candidate's log2 once a frame (a jump's size is the difference of two), where
        // log2 of every pair's ratio cost sixteen calls a frame.
        let logLags = SIMD4<Float>(log2(frame.lag(0)), log2(frame.lag(1)), log2(frame.lag(2)), log2(frame.lag(3)))
        defer { previousLogLags = logLags }
        if n == 0 {
            for s in 0..<states {
                previous[s] = local[s]
                back[row + s] = 0
            }
        } else {
            var lowest = Float.infinity
            for s in 0..<states {
                var best = Float.infinity
                var bestFrom = 0
                let logLagHere: Float = s == 0 ? 0 : logLags[s - 1]
                for r in 0..<states {
                    let cost = previous[r]
                    if !cost.isFinite { continue }
                    let logLagBefore: Float = r == 0 ? 0 : previousLogLags[r - 1]
                    let transition: Float
                    if s == 0 && r == 0 {
                        transition = 0
                    } else if s == 0 || r == 0 {
                        transition = config.voicingSwitchCost
                    } else {
                        transition = config.octaveJumpCost * abs(logLagHere - logLagBefore)
                    }
                    let total = cost + transition
                    if total < best {
                        best = total
                        bestFrom = r
                    }
                }
                current[s] = best + local[s]
                back[row + s] = UInt8(bestFrom)
                if current[s] < lowest { lowest = current[s] }
            }
            // Costs only compare: keep them near zero over hours of frames.
            for s in 0..<states { previous[s] = current[s].isFinite ? current[s] - lowest : current[s] }
        }
        framesIn += 1
        if framesIn > lagFrames { decide(through: framesIn - 1 - lagFrames, from: framesIn - 1) }
    }

    /// Decides the frames still open, tracing back from the best final state.
    public mutating func finish() {
        guard framesIn > framesOut else { return }
        decide(through: framesIn - 1, from: framesIn - 1)
    }

    /// Traces back from the best state at frame `from` and decides frames
    /// `framesOut...through` on that path.
    private mutating func decide(through last: Int, from: Int) {
        var state = 0
        var bestCost = Float.infinity
        for s in 0..<states where previous[s] < bestCost {
            bestCost = previous[s]
            state = s
        }
        var t = from
        // Walk back to the first undecided frame, noting the path's states, until the path
        // meets the one traced last time: from there back it is that one (the back-pointers
        // of those frames are final), so the walk stops. The paths meet within a few frames
        // of `from` almost always, so a frame no longer costs a walk over the whole lag.
        let first = framesOut
        while t >= first {
            let row = ringRow(t)
            if t < tracedTo && onPath[row] == UInt8(state) && !tracesWholeLag { break }
            onPath[row] = UInt8(state)
            if t == first { break }
            state = Int(back[slot(t) + state])
            t -= 1
        }
        tracedTo = from + 1
        let rate = Float(analysis.analysisRateHz)
        for i in first...last {
            let s = Int(onPath[ringRow(i)])
            if s > 0 {
                let f = recent[i]
                f0Hz.append(rate / f.lag(s - 1))
                chosenDip.append(f.dip(s - 1))
            } else {
                f0Hz.append(0)
                chosenDip.append(1)
            }
        }
    }

    private mutating func fillLocal(_ frame: Frame, levels: ChannelLevels) {
        let k = Frame.candidateCount
        let maxLag = Float(analysis.maxLagSamples)
        let minimumVoicedSnrDb = config.minimumVoicedSnrDb * levels.snrScale
        let tilt = frame.band1Db - frame.band3Db
        local[0] = config.unvoicedCost + config.tiltWeight * max(-1, min(1, tilt / config.tiltScaleDb))
        let snr = frame.energyDb - levels.floorDb
        let quietPenalty: Float = snr < minimumVoicedSnrDb ? (minimumVoicedSnrDb - snr) * 0.1 : 0
        for c in 0..<k {
            let lag = frame.lag(c)
            guard lag > 0 else {
                local[c + 1] = .infinity
                continue
            }
            let dip = frame.dip(c)
            var cost = dip + config.longLagCost * lag / maxLag + quietPenalty
            for d in 0..<k where d != c {
                let shorter = frame.lag(d)
                guard shorter > 0, shorter < lag, frame.dip(d) < dip + config.subharmonicMarginDip else { continue }
                let ratio = lag / shorter
                if abs(ratio - 2) < 0.06 || abs(ratio - 3) < 0.09 {
                    cost += config.subharmonicPenalty
                    break
                }
            }
            local[c + 1] = cost
        }
    }

    /// Tracks every frame of `features` against fixed `levels` (the running levels when
    /// nil): the same decoder, collected (tests, small signals).
    public static func track(
        _ features: FrameFeatures, levels: ChannelLevels? = nil, config: PitchTrackerConfig = PitchTrackerConfig()
    ) -> PitchTrack {
        let n = features.frameCount
        var tracker = PitchTracker(config: config, analysis: features.config, ringFrames: max(16, n + 1))
        var running = ChannelLevelsTracker(hopSeconds: features.config.hopSeconds)
        for i in 0..<n {
            let frame = features.frame(i)
            running.observe(frame)
            tracker.push(frame, levels: levels ?? running.levels)
        }
        tracker.finish()
        return PitchTrack(f0Hz: (0..<n).map { tracker.f0Hz[$0] }, dip: (0..<n).map { tracker.chosenDip[$0] })
    }
}

/// The level of a channel's background: line noise, or digital silence.
public enum NoiseFloor {
    /// A low percentile (10th) of the frame energies above digital silence, dBov.
    public static func estimate(_ energyDb: [Float], percentile: Double = 0.10) -> Float {
        var audible = energyDb.filter { $0 > -115 }
        guard !audible.isEmpty else { return -120 }
        audible.sort()
        let index = min(audible.count - 1, Int(Double(audible.count) * percentile))
        return audible[index]
    }
}
