// F0 tracking over a whole channel: dynamic programming over per-frame YIN candidates.
//
// Method: the candidate lattice of RAPT (Talkin 1995, "A robust algorithm for pitch
// tracking", in Speech Coding and Synthesis, §14.4: per-frame candidates plus an unvoiced
// hypothesis, local costs, transition costs on log-F0 jumps and voicing changes, Viterbi
// search), with YIN's cumulative-mean-normalised difference (de Cheveigné & Kawahara 2002)
// as the local dissimilarity of a voiced candidate.
// Stages:
//   1. noise floor of the channel (`ChannelLevels`: a low percentile of frame energies,
//      corrected for recordings without a pause, with thresholds scaled for noisy ones);
//   2. local cost: a voiced candidate costs its YIN dip plus a small preference for shorter
//      lags, and a penalty when a candidate at half or a third of its lag dips nearly as
//      deep (the sub-harmonic dips at 2T, 3T are almost as deep as T's: YIN step 4 picks the
//      first deep dip for this reason); frames near the noise floor make every voiced
//      candidate expensive; the unvoiced state costs a voicing threshold raised for
//      vowel-like spectral tilt and lowered for fricative-like tilt;
//   3. transitions: |log2 F0 jump| in octaves times a weight (octave errors cost more than
//      any plausible glide), a fixed cost for voiced/unvoiced changes;
//   4. Viterbi backtrace; F0 = rate / lag on voiced frames, 0 elsewhere.
// Departure from RAPT: candidates come from YIN (FFT-based) rather than normalised
// cross-correlation on a decimated signal, and the lattice is solved once per channel.
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
    /// Weight of the spectral tilt cue: the unvoiced cost rises by up to this much when the
    /// 300–1000 Hz band is far louder than 2000–3800 Hz (vowels), and falls by as much when
    /// the high band dominates (fricatives, hiss).
    public var tiltWeight: Float = 0.25
    /// Tilt (low minus high band, dB) that counts as fully vowel-like.
    public var tiltScaleDb: Float = 20
    public init() {}
}

/// A channel's pitch track.
public struct PitchTrack: Sendable {
    /// F0 per frame, Hz; 0 where unvoiced.
    public var f0Hz: [Float]
    /// YIN dip of the chosen candidate (lower = more periodic); 1 where unvoiced.
    public var dip: [Float]
    public var voicedFrameCount: Int { f0Hz.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } }
}

public struct PitchTracker: Sendable {
    public var config: PitchTrackerConfig
    public init(config: PitchTrackerConfig = PitchTrackerConfig()) { self.config = config }

    /// Tracks F0 over every frame of `features`.
    /// - Complexity: O(frames × K²) time, O(frames × K) memory for backpointers.
    /// `levels` are the channel's floor and threshold scale (`ChannelLevels.measure` when nil).
    public func track(_ features: FrameFeatures, levels: ChannelLevels? = nil) -> PitchTrack {
        let n = features.frameCount
        let k = features.candidatesPerFrame
        let states = k + 1
        let rate = Float(features.config.analysisRateHz)
        let maxLag = Float(features.config.maxLagSamples)
        let levels = levels ?? ChannelLevels.measure(features)
        let floorDb = levels.floorDb
        let minimumVoicedSnrDb = config.minimumVoicedSnrDb * levels.snrScale
        guard n > 0 else { return PitchTrack(f0Hz: [], dip: []) }

        var back = [UInt8](repeating: 0, count: n * states)
        var previous = [Float](repeating: 0, count: states)
        var current = [Float](repeating: 0, count: states)
        var localCost = [Float](repeating: 0, count: states)
        // Decoded once into small per-frame scratch rows as the lattice advances.
        let lagsQ = features.candidateLagQ8
        let dipsQ = features.candidateDipQ
        @inline(__always) func lagAt(_ index: Int) -> Float { Float(lagsQ[index]) / 256 }
        @inline(__always) func dipAt(_ index: Int) -> Float { Float(dipsQ[index]) / FrameFeatures.dipScale }
        let energy = features.energyDb

        func fillLocal(_ i: Int) {
            let tilt = features.bandDb[1][i] - features.bandDb[3][i]
            localCost[0] = config.unvoicedCost + config.tiltWeight * max(-1, min(1, tilt / config.tiltScaleDb))
            let snr = energy[i] - floorDb
            let quietPenalty: Float = snr < minimumVoicedSnrDb ? (minimumVoicedSnrDb - snr) * 0.1 : 0
            for c in 0..<k {
                let lag = lagAt(i * k + c)
                guard lag > 0 else { localCost[c + 1] = .infinity; continue }
                let dip = dipAt(i * k + c)
                var cost = dip + config.longLagCost * lag / maxLag + quietPenalty
                for d in 0..<k where d != c {
                    let shorter = lagAt(i * k + d)
                    guard shorter > 0, shorter < lag, dipAt(i * k + d) < dip + config.subharmonicMarginDip else { continue }
                    let ratio = lag / shorter
                    if abs(ratio - 2) < 0.06 || abs(ratio - 3) < 0.09 { cost += config.subharmonicPenalty; break }
                }
                localCost[c + 1] = cost
            }
        }

        fillLocal(0)
        for s in 0..<states { previous[s] = localCost[s] }
        for i in 1..<max(n, 1) {
            fillLocal(i)
            for s in 0..<states {
                var best = Float.infinity
                var bestFrom = 0
                let lagHere: Float = s == 0 ? 0 : lagAt(i * k + s - 1)
                for r in 0..<states {
                    let before = previous[r]
                    if !before.isFinite { continue }
                    let lagBefore: Float = r == 0 ? 0 : lagAt((i - 1) * k + r - 1)
                    var transition: Float = 0
                    if s == 0 && r == 0 {
                        transition = 0
                    } else if s == 0 || r == 0 {
                        transition = config.voicingSwitchCost
                    } else {
                        transition = config.octaveJumpCost * abs(log2(lagHere / lagBefore))
                    }
                    let total = before + transition
                    if total < best { best = total; bestFrom = r }
                }
                current[s] = best + localCost[s]
                back[i * states + s] = UInt8(bestFrom)
            }
            swap(&previous, &current)
        }
        var state = 0
        var bestFinal = Float.infinity
        for s in 0..<states where previous[s] < bestFinal { bestFinal = previous[s]; state = s }
        var f0 = [Float](repeating: 0, count: n)
        var chosenDip = [Float](repeating: 1, count: n)
        var i = n - 1
        while i >= 0 {
            if state > 0 {
                let lag = lagAt(i * k + state - 1)
                f0[i] = rate / lag
                chosenDip[i] = dipAt(i * k + state - 1)
            }
            if i > 0 { state = Int(back[i * states + state]) }
            i -= 1
        }
        return PitchTrack(f0Hz: f0, dip: chosenDip)
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
