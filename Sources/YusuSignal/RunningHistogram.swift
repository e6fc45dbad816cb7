import Foundation

/// Percentiles of a stream of values in fixed memory: a histogram on a fixed grid. Each value
/// comes with a weight; a caller that wants older values forgotten gives new ones ever
/// larger weights (`ForgettingClock`), which is exponential forgetting without touching
/// every bin at every step.
///
/// - Complexity: O(1) to add; a percentile reads the bins between the lowest and highest
///   used, from the nearer end (a high percentile of speech levels: a few dozen bins).
public struct RunningHistogram: Sendable {
    public let lowest: Float
    public let step: Float
    fileprivate var bins: [Double]
    public private(set) var total: Double = 0
    /// The lowest and highest bins that ever held weight.
    private var lowestUsed = Int.max, highestUsed = -1

    /// - Parameters:
    ///   - lowest: the lowest value kept apart; lower values count in the first bin.
    ///   - highest: values above count in the last bin.
    ///   - step: the grid, in the values' unit (its precision).
    public init(lowest: Float, highest: Float, step: Float) {
        self.lowest = lowest
        self.step = step
        bins = [Double](repeating: 0, count: Int(((highest - lowest) / step).rounded(.up)) + 1)
    }

    public var isEmpty: Bool { total == 0 }

    @inline(__always) func bin(_ x: Float) -> Int {
        let b = Int(((x - lowest) / step).rounded(.down))
        return b < 0 ? 0 : (b >= bins.count ? bins.count - 1 : b)
    }

    @inline(__always) public mutating func add(_ x: Float, weight: Double = 1) {
        add(bin: bin(x), weight: weight)
    }

    /// Adds `weight` to bin `b` (`bin(_:)` of a value).
    @inline(__always) mutating func add(bin b: Int, weight: Double = 1) {
        bins[b] += weight
        total += weight
        if b < lowestUsed { lowestUsed = b }
        if b > highestUsed { highestUsed = b }
    }

    /// Multiplies every weight (keeps them in range when a clock's weights grow large).
    public mutating func scale(by factor: Double) {
        guard highestUsed >= 0 else { return }
        for i in lowestUsed...highestUsed { bins[i] *= factor }
        total *= factor
    }

    /// The middle of bin `b`: the value a percentile in that bin reads as.
    @inline(__always) func centre(ofBin b: Int) -> Float { lowest + (Float(b) + 0.5) * step }

    /// The value below which a share `p` (0...1) of the weight lies: the middle of its bin.
    public func percentile(_ p: Double) -> Float? {
        guard total > 0 else { return nil }
        let target = total * p
        if p > 0.5 {
            // From the top: the highest bin whose lower neighbours hold at most `target`
            // is the lowest whose cumulative weight exceeds it.
            var above = 0.0
            var i = highestUsed
            while i > lowestUsed {
                above += bins[i]
                if total - above <= target { return centre(ofBin: i) }
                i -= 1
            }
            return centre(ofBin: lowestUsed)
        }
        var sum = 0.0
        var i = lowestUsed
        while i <= highestUsed {
            sum += bins[i]
            if sum > target { return centre(ofBin: i) }
            i += 1
        }
        return centre(ofBin: highestUsed)
    }

    /// Weight at or below `x` (the bin holding `x` included).
    public func weight(atOrBelow x: Float) -> Double {
        var sum = 0.0
        let top = min(bin(x), highestUsed)
        guard top >= lowestUsed else { return 0 }
        for i in lowestUsed...top { sum += bins[i] }
        return sum
    }
}

/// The weights that make histograms forget: each step's weight is `e^(1/τ)` times the
/// last, τ in steps, so an entry τ steps old weighs 1/e of a new one. Histograms sharing a
/// clock share its scale, so their weights compare.
public struct ForgettingClock: Sendable {
    public private(set) var weight: Double = 1
    private let growth: Double

    /// - Parameter forgetAfterSteps: τ; nil: never forget (every weight 1).
    public init(forgetAfterSteps: Double?) {
        growth = forgetAfterSteps.map { exp(1 / $0) } ?? 1
    }

    /// Moves to the next step. - Returns: a factor to scale the histograms by, when the
    /// weights had to be brought back into range (nil otherwise).
    @inline(__always) public mutating func tick() -> Double? {
        guard growth != 1 else { return nil }
        weight *= growth
        guard weight > 1e200 else { return nil }
        let factor = 1 / weight
        weight = 1
        return factor
    }
}

/// One percentile of a stream of unit-weight values, kept current as each value comes: the
/// bin `RunningHistogram.percentile` would find, without its scan over the bins at every
/// read (the phonation timer reads its 95th percentile at every speech frame, a scan over
/// some fifty bins each time).
///
/// The percentile's bin is the highest bin `q` with at most `total * p` of the weight below
/// it. Adding a value moves that weight and the target by at most one unit, so `q` moves a
/// few bins at most, amortised O(1). With unit weights every sum is an exact whole number,
/// so the bin is the scan's to the last bit (`DSPTests` holds the two together).
public struct CountingPercentile: Sendable {
    public let p: Double
    public private(set) var histogram: RunningHistogram
    /// The percentile's bin and the weight in the bins below it.
    private var q = 0
    private var belowQ = 0.0

    /// - Parameter p: the share (0...1) of the values below the percentile.
    public init(p: Double, lowest: Float, highest: Float, step: Float) {
        precondition(p >= 0 && p < 1, "a percentile's share is in 0..<1")
        self.p = p
        histogram = RunningHistogram(lowest: lowest, highest: highest, step: step)
    }

    @inline(__always) public mutating func add(_ x: Float) {
        let b = histogram.bin(x)
        histogram.add(bin: b)
        if b < q { belowQ += 1 }
        let target = histogram.total * p
        while belowQ + histogram.bins[q] <= target {
            belowQ += histogram.bins[q]
            q += 1
        }
        while belowQ > target {
            q -= 1
            belowQ -= histogram.bins[q]
        }
    }

    /// The percentile so far, the middle of its bin (nil before any value).
    public var value: Float? {
        histogram.isEmpty ? nil : histogram.centre(ofBin: q)
    }
}
