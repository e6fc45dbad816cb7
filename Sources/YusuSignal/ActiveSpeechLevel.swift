// Active speech level after ITU-T Recommendation P.56 (12/2011), method B.
//
// Stages:
//   1. `LevelAccumulator`, streaming at the file's own rate: the envelope of P.56 §B.3,
//      two first-order smoothers of |x| with time constant 0.03 s, and per 10 ms hop the
//      mean square of the samples and the envelope's peak;
//   2. `ActiveSpeechLevel.measure`: over the hops a gate admits, a hop is active for
//      threshold c when the envelope reached c within the hangover (0.2 s) before it; the
//      activity A(c) = 10 log10(energy / active time) is compared with the threshold level
//      C = 20 log10(c), and the active level is A where A − C equals the margin M = 15.9 dB
//      (found on a 0.1 dB grid of thresholds and interpolated linearly, as §B.4 does
//      between its 2^j thresholds).
// Departures from P.56: activity is decided per 10 ms hop rather than per sample (the
// envelope and hangover are far slower than a hop, so the count differs by well under
// 0.1 dB), and the gate lets the caller leave out stretches that are not this party's
// speech (hold music on the line, the other party's echo): P.56 itself would count them.
// 0 dBov is the level of a full-scale square wave (mean square 1.0 in float samples).
import Foundation

/// Streams one channel at its own sample rate and keeps per-hop sums for P.56.
public struct LevelAccumulator: Sendable {
    public let sampleRateHz: Int
    private let smoothing: Float
    private var p: Float = 0
    private var q: Float = 0
    private var hopIndex = 0
    private var sampleIndex: Int64 = 0
    private var nextBoundary: Int64
    private var hopSum: Double = 0
    private var hopCount = 0
    private var hopPeak: Float = 0
    private var meanSquares: [Float] = []
    private var peaks: [Float] = []

    /// Envelope time constant, seconds (P.56 §B.3).
    public static let envelopeTimeConstantSeconds = 0.03
    /// Hop, seconds: the same 10 ms grid as the frame analysis.
    public static let hopSeconds = 0.01

    public init(sampleRateHz: Int, expectedHops: Int = 0) {
        self.sampleRateHz = sampleRateHz
        smoothing = Float(exp(-1 / (Double(sampleRateHz) * Self.envelopeTimeConstantSeconds)))
        nextBoundary = Self.boundary(hop: 1, rate: sampleRateHz)
        meanSquares.reserveCapacity(expectedHops + 1)
        peaks.reserveCapacity(expectedHops + 1)
    }

    private static func boundary(hop: Int, rate: Int) -> Int64 {
        (Int64(hop) * Int64(rate) + 99) / 100
    }

    /// Adds one sample.
    @inline(__always) public mutating func add(_ x: Float) {
        let g = smoothing
        p = g * p + (1 - g) * abs(x)
        q = g * q + (1 - g) * p
        hopSum += Double(x) * Double(x)
        hopCount += 1
        if q > hopPeak { hopPeak = q }
        sampleIndex += 1
        if sampleIndex == nextBoundary { closeHop() }
    }

    private mutating func closeHop() {
        meanSquares.append(hopCount > 0 ? Float(hopSum / Double(hopCount)) : 0)
        peaks.append(hopPeak)
        hopSum = 0
        hopCount = 0
        hopPeak = 0
        hopIndex += 1
        nextBoundary = Self.boundary(hop: hopIndex + 1, rate: sampleRateHz)
    }

    /// Closes a partial last hop.
    public mutating func finish() {
        if hopCount > 0 { closeHop() }
    }

    /// Per-hop mean squares, padded with silence or cut to `frameCount`.
    public func hopMeanSquare(frameCount: Int) -> [Float] { Self.fit(meanSquares, frameCount) }
    /// Per-hop envelope peaks, padded with silence or cut to `frameCount`.
    public func hopEnvelopePeak(frameCount: Int) -> [Float] { Self.fit(peaks, frameCount) }

    private static func fit(_ values: [Float], _ count: Int) -> [Float] {
        if values.count == count { return values }
        if values.count > count { return Array(values.prefix(count)) }
        return values + [Float](repeating: 0, count: count - values.count)
    }
}

/// P.56 method B over per-hop sums.
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

    /// Measures the active level of the hops where `gate[i]` is true (all hops when nil).
    /// - Returns: nil when the gated signal has no energy.
    public static func measure(hopMeanSquare: [Float], hopEnvelopePeak: [Float], gate: [Bool]? = nil,
                               hopSeconds: Double = LevelAccumulator.hopSeconds) -> Measurement? {
        let n = min(hopMeanSquare.count, hopEnvelopePeak.count)
        guard n > 0 else { return nil }
        let hangoverHops = Int((hangoverSeconds / hopSeconds).rounded())
        // Envelope held over the hangover: running maximum over the last `hangoverHops` hops.
        var held = [Float](repeating: 0, count: n)
        var deque: [Int] = []
        deque.reserveCapacity(hangoverHops + 2)
        var head = 0
        for i in 0..<n {
            while deque.count > head && hopEnvelopePeak[deque[deque.count - 1]] <= hopEnvelopePeak[i] { deque.removeLast() }
            deque.append(i)
            while deque[head] < i - hangoverHops { head += 1 }
            held[i] = hopEnvelopePeak[deque[head]]
            if head > 64 { deque.removeFirst(head); head = 0 }
        }
        var energy: Double = 0
        var gatedHops = 0
        var levels: [Float] = []
        levels.reserveCapacity(n)
        for i in 0..<n where gate?[i] ?? true {
            energy += Double(hopMeanSquare[i])
            gatedHops += 1
            levels.append(held[i])
        }
        guard gatedHops > 0, energy > 0 else { return nil }
        levels.sort(by: >)
        let longTerm = 10 * log10(energy / Double(gatedHops))
        // Walk thresholds from soft to loud: A − C starts far above the margin (everything
        // active, C tiny) and falls as c rises; the level is A where it crosses M.
        var previous: (diff: Double, a: Double)? = nil
        var thresholdDb = -110.0
        while thresholdDb <= 0 {
            let c = Float(pow(10, thresholdDb / 20))
            // Active hops: held envelope >= c (levels sorted descending).
            var lo = 0, hi = levels.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if levels[mid] >= c { lo = mid + 1 } else { hi = mid }
            }
            let active = lo
            if active == 0 { break }
            let a = 10 * log10(energy / Double(active))
            let diff = a - thresholdDb
            if diff <= marginDb {
                var level = a
                if let prev = previous, prev.diff > marginDb {
                    let t = (prev.diff - marginDb) / (prev.diff - diff)
                    level = prev.a + t * (a - prev.a)
                }
                return Measurement(activeLevelDbov: level, activityFactor: Double(active) / Double(gatedHops), longTermLevelDbov: longTerm)
            }
            previous = (diff, a)
            thresholdDb += 0.1
        }
        return Measurement(activeLevelDbov: longTerm, activityFactor: 1, longTermLevelDbov: longTerm)
    }
}
