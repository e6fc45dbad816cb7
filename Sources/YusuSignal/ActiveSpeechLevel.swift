// Active speech level after ITU-T Recommendation P.56 (12/2011), method B.
//
// Stages:
//   1. `LevelAccumulator`, streaming at the file's own rate: the envelope of P.56 §B.3,
//      two first-order smoothers of |x| with time constant 0.03 s, and per 10 ms hop the
//      mean square of the samples and the envelope's peak;
//   2. `ActiveLevelMeter`, streaming over the hops a gate admits: a hop is active for
//      threshold c when the envelope reached c within the hangover (0.2 s) before it, so
//      each gated hop adds its energy and one count to the histogram bin of its held
//      envelope; at the end the activity A(c) = 10 log10(energy / active time), active
//      time read from the histogram's upper tail, is compared with the threshold level
//      C = 20 log10(c), and the active level is A where A − C equals the margin M = 15.9 dB
//      (on a 0.1 dB grid of thresholds, interpolated linearly, as §B.4 does between its
//      2^j thresholds). Look-ahead: none; memory: the histogram, whatever the length.
// Departures from P.56: activity is decided per 10 ms hop rather than per sample (the
// envelope and hangover are far slower than a hop, so the count differs by well under
// 0.1 dB), and the gate lets the caller leave out stretches that are not this party's
// speech (hold music on the line, the other party's echo): P.56 itself would count them.
// 0 dBov is the level of a full-scale square wave (mean square 1.0 in float samples).
import Foundation

/// Streams one channel at its own sample rate and closes a hop every 10 ms: its mean
/// square and the P.56 envelope's peak, written into `hops` (a ring of the latest).
public struct LevelAccumulator: Sendable {
    public let sampleRateHz: Int
    private let smoothing: Float
    private var envelope = Envelope()
    private var hopIndex = 0
    private var sampleIndex: Int64 = 0
    private var nextBoundary: Int64
    private var hopCount = 0
    /// Closed hops: (mean square, envelope peak), the latest `hops.capacity` of them.
    public private(set) var hops: FrameRing<Hop>

    public struct Hop: Sendable, Equatable {
        public var meanSquare: Float
        public var envelopePeak: Float
    }

    /// The envelope's two smoothers, and the open hop's sum of squares and envelope peak.
    private struct Envelope {
        var p: Float = 0, q: Float = 0, sum: Double = 0, peak: Float = 0

        /// Each smoother is one fused multiply-add on its own chain (g * p + c, rounded once),
        /// the input's share computed beside it: a multiply then an add were two latencies a
        /// sample on the chain, the frame loop's P.56 share about half of it (frames 86.9 -> 85.1
        /// ms on call_05, medians of eight interleaved pairs; every output byte-identical). The
        /// same bits in a build for any x86-64 (`YUSU_TARGET_CPU=x86-64`), where each is a call
        /// to `fmaf`, which rounds once too: that build's frames 94 -> 106 ms, the price of one
        /// answer whatever the build.
        @inline(__always) mutating func add(_ x: Float, smoothing g: Float) {
            p = ((1 - g) * abs(x)).addingProduct(g, p)
            q = ((1 - g) * p).addingProduct(g, q)
            sum += Double(x) * Double(x)
            if q > peak { peak = q }
        }
    }

    /// Envelope time constant, seconds (P.56 §B.3).
    public static let envelopeTimeConstantSeconds = 0.03
    /// Hop, seconds: the same 10 ms grid as the frame analysis.
    public static let hopSeconds = 0.01

    public init(sampleRateHz: Int, ringHops: Int = 4096) {
        self.sampleRateHz = sampleRateHz
        smoothing = Float(exp(-1 / (Double(sampleRateHz) * Self.envelopeTimeConstantSeconds)))
        nextBoundary = Self.boundary(hop: 1, rate: sampleRateHz)
        hops = FrameRing(capacity: ringHops, filler: Hop(meanSquare: 0, envelopePeak: 0))
    }

    private static func boundary(hop: Int, rate: Int) -> Int64 {
        (Int64(hop) * Int64(rate) + 99) / 100
    }

    /// Adds a block of one channel's samples, with the envelope in a local between hop
    /// boundaries (through a stored property each sample's two smoothers would wait on a store
    /// and a load besides their own arithmetic). Blocks of any size give the same hops.
    public mutating func add(contentsOf samples: UnsafeBufferPointer<Float>) {
        let g = smoothing
        var k = 0
        while k < samples.count {
            // Samples up to the next hop boundary (or the block's end) run on locals.
            let run = Int(min(Int64(samples.count - k), nextBoundary - sampleIndex))
            var e = envelope
            for x in samples[k..<(k + run)] { e.add(x, smoothing: g) }
            envelope = e
            advance(by: run)
            k += run
        }
    }

    /// Adds a block to each of two channels' accumulators at once (a stereo call's two
    /// parties, at the same position): as `add(contentsOf:)`, with the two channels'
    /// recurrences in one loop, so that the processor overlaps their latencies.
    public static func add(
        _ a: inout LevelAccumulator, _ b: inout LevelAccumulator, _ xa: UnsafeBufferPointer<Float>,
        _ xb: UnsafeBufferPointer<Float>
    ) {
        precondition(xa.count == xb.count && a.sampleIndex == b.sampleIndex && a.smoothing == b.smoothing)
        let g = a.smoothing
        var k = 0
        while k < xa.count {
            let run = Int(min(Int64(xa.count - k), a.nextBoundary - a.sampleIndex))
            var (ea, eb) = (a.envelope, b.envelope)
            for j in k..<(k + run) {
                ea.add(xa[j], smoothing: g)
                eb.add(xb[j], smoothing: g)
            }
            (a.envelope, b.envelope) = (ea, eb)
            a.advance(by: run)
            b.advance(by: run)
            k += run
        }
    }

    /// `run` samples were added to the hop: count them, and close the hop at its boundary.
    private mutating func advance(by run: Int) {
        hopCount += run
        sampleIndex += Int64(run)
        if sampleIndex == nextBoundary { closeHop() }
    }

    private mutating func closeHop() {
        let e = envelope
        hops.append(Hop(meanSquare: hopCount > 0 ? Float(e.sum / Double(hopCount)) : 0, envelopePeak: e.peak))
        (envelope.sum, envelope.peak) = (0, 0)
        hopCount = 0
        hopIndex += 1
        nextBoundary = Self.boundary(hop: hopIndex + 1, rate: sampleRateHz)
    }

    /// Closes a partial last hop.
    public mutating func finish() {
        if hopCount > 0 { closeHop() }
    }

    /// Every hop of `samples` (tests, small signals).
    public static func hops(of samples: [Float], sampleRateHz: Int) -> [Hop] {
        var a = LevelAccumulator(sampleRateHz: sampleRateHz, ringHops: samples.count / max(1, sampleRateHz / 100) + 4)
        samples.withUnsafeBufferPointer { a.add(contentsOf: $0) }
        a.finish()
        return (0..<a.hops.count).map { a.hops[$0] }
    }
}

/// P.56 method B, streaming: hops come in order, each with whether it is this party's speech
/// (the gate); the meter keeps the envelope held over the hangover and, for gated hops, the
/// energy and a histogram of held levels on the 0.1 dB grid of thresholds that the
/// threshold search walks. The level is read at the end. Memory: 1,101 counters.
public struct ActiveLevelMeter: Sendable {
    /// Lowest threshold searched, dB; thresholds are `lowestThresholdDb + 0.1 k`.
    public static let lowestThresholdDb = -110.0
    public static let thresholdSteps = 1101
    private var counts = [Int32](repeating: 0, count: ActiveLevelMeter.thresholdSteps)
    private var energy: Double = 0
    private var gatedHops = 0
    /// The last peaks, for the held envelope (a running maximum over the hangover).
    private var recent: [Float]
    private var recentIndex = 0
    private var seen = 0

    public init(hopSeconds: Double = LevelAccumulator.hopSeconds) {
        recent = [Float](repeating: 0, count: Int((ActiveSpeechLevel.hangoverSeconds / hopSeconds).rounded()) + 1)
    }

    /// Adds the next hop.
    @inline(__always) public mutating func add(meanSquare: Float, envelopePeak: Float, gated: Bool) {
        recent[recentIndex] = envelopePeak
        recentIndex = recentIndex + 1 == recent.count ? 0 : recentIndex + 1
        seen += 1
        guard gated else { return }
        var held: Float = 0
        for v in recent where v > held { held = v }
        energy += Double(meanSquare)
        gatedHops += 1
        guard held > 0 else { return }
        let step = (20 * log10(Double(held)) - Self.lowestThresholdDb) / 0.1
        guard step >= 0 else { return }
        counts[min(Self.thresholdSteps - 1, Int(step.rounded(.down)))] += 1
    }

    /// The active level of the gated hops; nil when they hold no energy.
    public func measurement() -> ActiveSpeechLevel.Measurement? {
        guard gatedHops > 0, energy > 0 else { return nil }
        let longTerm = 10 * log10(energy / Double(gatedHops))
        // Walk thresholds from soft to loud: A − C starts far above the margin (everything
        // active, C tiny) and falls as c rises; the level is A where it crosses M.
        var suffix = [Int](repeating: 0, count: Self.thresholdSteps + 1)
        for k in stride(from: Self.thresholdSteps - 1, through: 0, by: -1) {
            suffix[k] = suffix[k + 1] + Int(counts[k])
        }
        var previous: (diff: Double, a: Double)? = nil
        for k in 0..<Self.thresholdSteps {
            let thresholdDb = Self.lowestThresholdDb + 0.1 * Double(k)
            let active = suffix[k]
            if active == 0 { break }
            let a = 10 * log10(energy / Double(active))
            let diff = a - thresholdDb
            if diff <= ActiveSpeechLevel.marginDb {
                var level = a
                if let prev = previous, prev.diff > ActiveSpeechLevel.marginDb {
                    let t = (prev.diff - ActiveSpeechLevel.marginDb) / (prev.diff - diff)
                    level = prev.a + t * (a - prev.a)
                }
                return .init(
                    activeLevelDbov: level, activityFactor: Double(active) / Double(gatedHops),
                    longTermLevelDbov: longTerm)
            }
            previous = (diff, a)
        }
        return .init(activeLevelDbov: longTerm, activityFactor: 1, longTermLevelDbov: longTerm)
    }
}

/// P.56 method B's constants and its one-call form.
public enum ActiveSpeechLevel {
    /// Margin between active level and threshold, dB (P.56 §B.1).
    public static let marginDb = 15.9
    /// Hangover, seconds (P.56 §B.1).
    public static let hangoverSeconds = 0.2

    /// Result of a measurement.
    public struct Measurement: Sendable, Equatable {
        /// Active speech level, dBov.
        public var activeLevelDbov: Double
        /// Share of the gated time that was active, 0...1.
        public var activityFactor: Double
        /// Long-term level over the gated time, dBov.
        public var longTermLevelDbov: Double
    }

    /// Measures the active level of the hops where `gate[i]` is true (all hops when nil),
    /// through the streaming meter.
    /// - Returns: nil when the gated signal has no energy.
    public static func measure(
        hopMeanSquare: [Float], hopEnvelopePeak: [Float], gate: [Bool]? = nil,
        hopSeconds: Double = LevelAccumulator.hopSeconds
    ) -> Measurement? {
        var meter = ActiveLevelMeter(hopSeconds: hopSeconds)
        for i in 0..<min(hopMeanSquare.count, hopEnvelopePeak.count) {
            meter.add(meanSquare: hopMeanSquare[i], envelopePeak: hopEnvelopePeak[i], gated: gate?[i] ?? true)
        }
        return meter.measurement()
    }
}
