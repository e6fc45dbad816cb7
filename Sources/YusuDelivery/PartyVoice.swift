// What a party's decided speech adds up to, frame by frame, beside its utterances: the
// phonation time, the register endings are judged against, and the active speech level.
// Each is a small running measure, fed by `ChannelStream` in frame order, with memory
// bounded by its histogram (none grows with the call).
import Foundation
import YusuSignal

/// Phonation time (CONTRACT: speech minus pauses of 0.25 s or more): speech frames within
/// `phonationBelowPeakDb` of the party's loud level (the 95th percentile of its speech
/// energies so far), bridged over pauses shorter than `phonationPauseSeconds`.
struct PhonationTimer: Sendable {
    private let belowPeakDb: Double
    private let bridgeFrames: Int
    private var loudLevel = CountingPercentile(p: 0.95, lowest: -120, highest: 10, step: 0.1)
    private var end: Int? = nil
    private(set) var frames = 0

    init(config: DeliveryConfig, hopSeconds: Double) {
        belowPeakDb = config.phonationBelowPeakDb
        bridgeFrames = Int((config.phonationPauseSeconds / hopSeconds).rounded())
    }

    /// Speech frame `j`, of `energyDb`.
    mutating func addSpeech(_ j: Int, energyDb: Float) {
        loudLevel.add(energyDb)
        let loud = loudLevel.value ?? energyDb
        guard Double(energyDb) >= Double(loud) - belowPeakDb else { return }
        if let end, j - end < bridgeFrames { frames += j - end }
        frames += 1
        end = j + 1
    }
}

/// A register: the distribution of voiced F0 so far, in semitones re 100 Hz on a
/// 1/20-semitone grid. The party's median is the level endings are judged against (Hz), its
/// 10th to 90th percentile the pitch range; a stretch of voicing's median is what
/// `VoiceStretches` hands the two-voices test.
struct PitchRegister: Sendable {
    private var semitones = RunningHistogram(lowest: -30, highest: 30, step: 0.05)

    mutating func add(f0Hz: Float) { semitones.add(12 * log2(f0Hz / 100)) }

    /// A percentile of the voiced F0 so far, semitones re 100 Hz (nil before any).
    func percentile(_ p: Double) -> Float? { semitones.percentile(p) }

    /// The median voiced F0 so far, Hz.
    var medianHz: Double? { percentile(0.5).map { 100 * pow(2, Double($0) / 12) } }

    /// Semitones between the 10th and 90th percentile; nil with under a second of voicing.
    func rangeSemitones(hopSeconds: Double) -> Double? {
        guard semitones.total >= 1 / hopSeconds, let lo = percentile(0.1), let hi = percentile(0.9) else {
            return nil
        }
        return Double(hi - lo)
    }
}

/// The active speech level (ITU-T P.56 method B, `ActiveLevelMeter`) over the hops of the
/// party's speech and the 0.2 s on either side of it: a hop is gated in when speech lies
/// within `gateFrames` of it, so a hop is metered `gateFrames` after it, once the speech
/// after it is decided.
struct SpeechGatedLevel: Sendable {
    static let gateFrames = 20
    private var meter = ActiveLevelMeter()
    /// Hops metered so far.
    private(set) var metered = 0
    private var lastSpeech = -1_000_000

    /// The level so far (of every hop metered).
    func measurement() -> ActiveSpeechLevel.Measurement? { meter.measurement() }

    /// Frame `j` is decided, speech or not: every hop whose gate it closes is metered.
    mutating func decided(_ j: Int, speech: Bool, frames: FrameRing<Frame>, speechRing: FrameRing<Bool>) {
        if speech { lastSpeech = j }
        while metered + Self.gateFrames <= j {
            meterHop(metered, frames: frames, speechRing: speechRing)
            metered += 1
        }
    }

    /// The channel has ended: the hops up to `end` (exclusive) are metered.
    mutating func finish(through end: Int, frames: FrameRing<Frame>, speechRing: FrameRing<Bool>) {
        while metered < end {
            meterHop(metered, frames: frames, speechRing: speechRing)
            metered += 1
        }
    }

    private mutating func meterHop(_ i: Int, frames: FrameRing<Frame>, speechRing: FrameRing<Bool>) {
        let f = frames[i]
        meter.add(
            meanSquare: f.hopMeanSquare, envelopePeak: f.hopEnvelopePeak,
            gated: lastSpeechAtOrBefore(i + Self.gateFrames, speechRing) >= i - Self.gateFrames + 1)
    }

    /// The last speech frame at or before `limit` (only `limit >= decided - 1` is asked).
    private func lastSpeechAtOrBefore(_ limit: Int, _ speech: FrameRing<Bool>) -> Int {
        if lastSpeech <= limit { return lastSpeech }
        var k = min(limit, speech.count - 1)
        while k >= max(0, speech.oldest) && k > limit - 2 * Self.gateFrames {
            if speech[k] { return k }
            k -= 1
        }
        return -1_000_000
    }
}
