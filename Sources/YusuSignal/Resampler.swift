// Band-limited sample-rate conversion to the analysis rate.
//
// Method: windowed-sinc interpolation at arbitrary ratio (Smith, "Digital Audio Resampling",
// https://ccrma.stanford.edu/~jos/resample/), streaming:
//   1. a Kaiser-windowed sinc low-pass, cut off at 92% of the lower Nyquist frequency,
//      tabulated once with 512 points per input sample and read with linear interpolation;
//   2. each output sample n sits at input position n * inputRate / outputRate and is the
//      kernel-weighted sum of the input samples around it;
//   3. input arrives in blocks of any size; only the kernel's span of history is kept.
// Departure from Smith: no separate filter-table phases for up- vs down-sampling; Yusu only
// ever converts down (or passes 8 kHz through untouched). When the ratio is a whole number
// (16, 24, 32, 48 kHz to 8 kHz) every output sample falls on an input sample, so the kernel
// is sampled once into plain taps and each output is one contiguous dot product, sixteen
// outputs computed together, one a lane, each summed in the one-output order (so the same
// bits); at 2:1 from the input split into its even and odd samples, where the sixteen
// outputs' inputs at a tap are consecutive. Otherwise
// the ratio is a fraction p/q in lowest terms (44.1 kHz to 8 kHz: 441/80), so output n sits
// at input position n·p/q, whose fractional part is one of q phases: the kernel is sampled
// once per phase (shared by every resampler of that pair of rates) and each output is again
// one contiguous dot product, its position exact in integers.
import Foundation

/// Streams one channel from `inputRateHz` to `outputRateHz` (input rate >= output rate).
public struct Resampler: Sendable {
    public let inputRateHz: Int
    public let outputRateHz: Int
    /// True when the rates are equal: samples pass through untouched.
    public var isPassthrough: Bool { inputRateHz == outputRateHz }

    private let stepInputSamples: Double
    private let halfWidthInputSamples: Int
    private let table: [Float]
    private let tableStepsPerSample: Double
    /// Whole-number ratio: taps at integer offsets -(count/2 - 1) ... count/2 from the centre.
    private let decimation: Int?
    private let taps: [Float]
    /// Fractional ratio: the kernel sampled at each of its phases (nil when too many), and a
    /// window's copy for the edges.
    private let phases: PhaseTaps?
    private var windowCopy: [Float] = []
    /// Input samples not yet fully used, starting at absolute input index `historyStart`.
    private var history: [Float] = []
    private var historyStart: Int = 0
    /// 2:1 decimation: the held input's even- and odd-indexed samples apart, from absolute
    /// pair `pairStart` (`evens[k]` is input 2(pairStart + k), `odds[k]` the one after), so
    /// that eight outputs' inputs at one tap are eight consecutive values of one of them.
    private var evens: [Float] = [], odds: [Float] = []
    private var pairStart = 0
    private var inputCount: Int = 0
    private var nextOutputIndex: Int = 0

    private static let zeroCrossings = 12.0
    private static let kaiserBeta = 8.0
    private static let stepsPerSample = 512.0

    /// - Parameters:
    ///   - inputRateHz: rate of the samples given to `process`, >= `outputRateHz`.
    ///   - outputRateHz: rate of the samples produced.
    public init(inputRateHz: Int, outputRateHz: Int) {
        self.init(inputRateHz: inputRateHz, outputRateHz: outputRateHz, phaseTables: true)
    }

    /// - Parameter phaseTables: false keeps a fractional ratio on the per-tap form (tests
    ///   compare the two).
    init(inputRateHz: Int, outputRateHz: Int, phaseTables: Bool) {
        precondition(inputRateHz >= outputRateHz && outputRateHz > 0, "Resampler converts down only")
        self.inputRateHz = inputRateHz
        self.outputRateHz = outputRateHz
        stepInputSamples = Double(inputRateHz) / Double(outputRateHz)
        // Cut-off in cycles per input sample.
        let cutoff = 0.5 * Double(outputRateHz) / Double(inputRateHz) * 0.92
        let halfWidth = Self.zeroCrossings / (2 * cutoff)
        halfWidthInputSamples = Int(halfWidth.rounded(.up))
        tableStepsPerSample = Self.stepsPerSample
        let count = Int(halfWidth * Self.stepsPerSample) + 2
        var table = [Float](repeating: 0, count: count)
        let i0Beta = besselI0(Self.kaiserBeta)
        for i in 0..<count {
            let t = Double(i) / Self.stepsPerSample
            if t >= halfWidth { continue }
            let x = 2 * cutoff * t
            let sinc = x == 0 ? 1.0 : sin(Double.pi * x) / (Double.pi * x)
            let r = t / halfWidth
            let window = besselI0(Self.kaiserBeta * (1 - r * r).squareRoot()) / i0Beta
            table[i] = Float(2 * cutoff * sinc * window)
        }
        self.table = table
        if inputRateHz % outputRateHz == 0 {
            decimation = inputRateHz / outputRateHz
            // Offsets -(H-1)...(H-1) around the centre sample (the kernel is zero at ±H).
            taps = (-(halfWidthInputSamples - 1)...(halfWidthInputSamples - 1)).map { offset in
                let distance = Double(abs(offset)) * Self.stepsPerSample
                let i = Int(distance)
                return i + 1 < table.count ? table[i] : 0
            }
            phases = nil
        } else {
            decimation = nil
            taps = []
            let reach = halfWidthInputSamples
            phases =
                !phaseTables
                ? nil
                : PhaseTaps.shared(inputRateHz: inputRateHz, outputRateHz: outputRateHz) {
                    PhaseTaps(
                        inputRateHz: inputRateHz, outputRateHz: outputRateHz, halfWidth: reach, table: table,
                        stepsPerSample: Self.stepsPerSample)
                }
        }
        windowCopy = [Float](repeating: 0, count: phases?.tapCount ?? 0)
        // Nothing to hold at the analysis rate (a live server keeps one of these per channel
        // of every call).
        if !isPassthrough { history.reserveCapacity(4 * halfWidthInputSamples + 8192) }
    }

    /// Converts `input` and appends the output samples that are complete to `output`.
    public mutating func process(_ input: UnsafeBufferPointer<Float>, into output: inout [Float]) {
        if isPassthrough {
            output.append(contentsOf: input)
            return
        }
        if decimation == 2 { Self.split(input, firstIndex: inputCount, evens: &evens, odds: &odds) }
        history.append(contentsOf: input)
        inputCount += input.count
        emit(into: &output, finalBlock: false)
    }

    /// Emits the remaining output, treating the input as followed by silence.
    public mutating func finish(into output: inout [Float]) {
        if isPassthrough { return }
        emit(into: &output, finalBlock: true)
        history.removeAll(keepingCapacity: true)
        evens.removeAll()
        odds.removeAll()
    }

    /// Output samples that `inputFrames` input samples convert to.
    public static func outputCount(inputFrames: Int64, inputRateHz: Int, outputRateHz: Int) -> Int64 {
        (inputFrames * Int64(outputRateHz) + Int64(inputRateHz) - 1) / Int64(inputRateHz)
    }

    private mutating func emit(into output: inout [Float], finalBlock: Bool) {
        let totalOutput = Self.outputCount(
            inputFrames: Int64(inputCount), inputRateHz: inputRateHz, outputRateHz: outputRateHz)
        if let decimation {
            emitDecimated(into: &output, finalBlock: finalBlock, factor: decimation, totalOutput: Int(totalOutput))
            return
        }
        if let phases {
            emitPhased(into: &output, finalBlock: finalBlock, phases: phases, totalOutput: Int(totalOutput))
            return
        }
        while Int64(nextOutputIndex) < totalOutput {
            let position = Double(nextOutputIndex) * stepInputSamples
            let centre = Int(position.rounded(.down))
            let last = centre + halfWidthInputSamples
            if !finalBlock && last >= inputCount { break }
            let first = max(0, centre - halfWidthInputSamples + 1)
            var sum: Float = 0
            history.withUnsafeBufferPointer { h in
                table.withUnsafeBufferPointer { tab in
                    var k = first
                    let end = min(last, inputCount - 1)
                    while k <= end {
                        let distance = abs(Double(k) - position) * tableStepsPerSample
                        let i = Int(distance)
                        if i + 1 < tab.count {
                            let frac = Float(distance - Double(i))
                            let weight = tab[i] + (tab[i + 1] - tab[i]) * frac
                            sum += h[k - historyStart] * weight
                        }
                        k += 1
                    }
                }
            }
            output.append(sum)
            nextOutputIndex += 1
        }
        let nextCentre = Int((Double(nextOutputIndex) * stepInputSamples).rounded(.down))
        dropHistory(before: nextCentre - halfWidthInputSamples)
    }

    /// Forgets the held input before absolute index `earliest`, which no output still to come
    /// reaches, once more than 4096 samples can go (the even/odd split of 2:1 with it).
    private mutating func dropHistory(before earliest: Int) {
        let keepFrom = max(historyStart, earliest)
        let drop = keepFrom - historyStart
        guard drop > 4096 else { return }
        history.removeFirst(drop)
        historyStart = keepFrom
        if decimation == 2 {
            let pairs = keepFrom / 2 - pairStart
            evens.removeFirst(pairs)
            odds.removeFirst(pairs)
            pairStart += pairs
        }
    }
}

extension Resampler {
    /// Whole-number ratio: output n is the dot product of the taps with the input around
    /// sample n * factor (zeros outside the signal).
    fileprivate mutating func emitDecimated(into output: inout [Float], finalBlock: Bool, factor: Int, totalOutput: Int)
    {
        let reach = taps.count / 2
        while nextOutputIndex < totalOutput {
            // Sixteen outputs at once where all their windows are held: each lane is one
            // output's dot product, its additions in the scalar order below (so the same
            // sums, bit for bit), the sixteen chains overlapping where one waits on each add.
            if nextOutputIndex + 16 <= totalOutput {
                let first = nextOutputIndex * factor - reach
                let last = (nextOutputIndex + 15) * factor + reach
                if first >= historyStart && last < inputCount {
                    let (low, high) =
                        factor == 2
                        ? taps.withUnsafeBufferPointer { t in
                            evens.withUnsafeBufferPointer { e in
                                odds.withUnsafeBufferPointer { o in
                                    Self.dotProducts16(
                                        t, evens: e.baseAddress!, odds: o.baseAddress!, first - 2 * pairStart)
                                }
                            }
                        }
                        : history.withUnsafeBufferPointer { h in
                            taps.withUnsafeBufferPointer { t in
                                Self.dotProducts16(t, h.baseAddress! + (first - historyStart), stride: factor)
                            }
                        }
                    for lane in 0..<8 { output.append(low[lane]) }
                    for lane in 0..<8 { output.append(high[lane]) }
                    nextOutputIndex += 16
                    continue
                }
            }
            let centre = nextOutputIndex * factor
            if !finalBlock && centre + reach >= inputCount { break }
            var sum: Float = 0
            let first = centre - reach
            let last = centre + reach
            let start = historyStart
            let count = inputCount
            history.withUnsafeBufferPointer { h in
                taps.withUnsafeBufferPointer { t in
                    if first >= start && last < count {
                        let base = h.baseAddress! + (first - start)
                        for j in 0..<t.count { sum += t[j] * base[j] }
                    } else {
                        for j in 0..<t.count {
                            let k = first + j
                            if k >= max(0, start) && k < count { sum += t[j] * h[k - start] }
                        }
                    }
                }
            }
            output.append(sum)
            nextOutputIndex += 1
        }
        dropHistory(before: nextOutputIndex * factor - reach)
    }
}

extension Resampler {
    /// Appends `input`'s samples to `evens` and `odds` by the parity of their absolute index
    /// (the first is `firstIndex`): both grown once, then filled in one pass.
    static func split(_ input: UnsafeBufferPointer<Float>, firstIndex: Int, evens: inout [Float], odds: inout [Float]) {
        let skip = firstIndex & 1  // 1: input[0] is odd-indexed
        let evenCount = (input.count + 1 - skip) / 2
        let oddCount = input.count - evenCount
        let (e0, o0) = (evens.count, odds.count)
        evens.append(contentsOf: repeatElement(0, count: evenCount))
        odds.append(contentsOf: repeatElement(0, count: oddCount))
        evens.withUnsafeMutableBufferPointer { e in
            for k in 0..<evenCount { e[e0 + k] = input[skip + 2 * k] }
        }
        odds.withUnsafeMutableBufferPointer { o in
            for k in 0..<oddCount { o[o0 + k] = input[1 - skip + 2 * k] }
        }
    }

    /// As `dotProducts16` at stride 2, from the input split into its even and odd samples:
    /// at tap j, the sixteen outputs' inputs 2o + `first` + j are sixteen consecutive values of
    /// one of the two (plain loads, where the interleaved input needed a shuffle a tap).
    /// `first`: the first output's first input, counted from pair `pairStart`'s even sample.
    @inline(__always) static func dotProducts16(
        _ t: UnsafeBufferPointer<Float>, evens: UnsafePointer<Float>, odds: UnsafePointer<Float>, _ first: Int
    ) -> (SIMD8<Float>, SIMD8<Float>) {
        var low = SIMD8<Float>(), high = SIMD8<Float>()
        for j in 0..<t.count {
            let index = first + j
            let source = (index & 1 == 0 ? evens : odds) + (index >> 1)
            let tap = SIMD8(repeating: t[j])
            low += tap * UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self)
            high += tap * UnsafeRawPointer(source + 8).loadUnaligned(as: SIMD8<Float>.self)
        }
        return (low, high)
    }

    /// `Σ_j t[j] · x[o · stride + j]` for the sixteen outputs o = 0 ..< 16 (eight a vector),
    /// each summed in j's order from 0, as the one-output loop sums it.
    @inline(__always) static func dotProducts16(
        _ t: UnsafeBufferPointer<Float>, _ x: UnsafePointer<Float>, stride: Int
    ) -> (SIMD8<Float>, SIMD8<Float>) {
        var low = SIMD8<Float>(), high = SIMD8<Float>()
        let s = stride
        for j in 0..<t.count {
            let tap = SIMD8(repeating: t[j])
            let p = x + j, q = x + j + 8 * s
            low += tap * SIMD8(p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s], p[6 * s], p[7 * s])
            high += tap * SIMD8(q[0], q[s], q[2 * s], q[3 * s], q[4 * s], q[5 * s], q[6 * s], q[7 * s])
        }
        return (low, high)
    }
}

/// The resampling kernel at each phase of a fractional ratio p/q (lowest terms): for phase r
/// (an output at input position c + r/q), the weights of input samples c - (H-1) ... c + H,
/// each read from the kernel's table with linear interpolation as the per-tap form reads it.
final class PhaseTaps: Sendable {
    /// p and q of the ratio inputRate/outputRate in lowest terms.
    let step: Int, phaseCount: Int
    /// Taps a phase: 2H, padded with zero weights to a multiple of eight (`dot`'s lanes).
    let tapCount: Int
    let halfWidth: Int
    /// phaseCount × tapCount weights, phase after phase.
    let weights: [Float]

    /// Tables larger than this (a ratio of odd rates such as 8001 Hz) are not made; the
    /// per-tap form serves them.
    static let maximumWeights = 262_144

    init?(inputRateHz: Int, outputRateHz: Int, halfWidth: Int, table: [Float], stepsPerSample: Double) {
        var (a, b) = (inputRateHz, outputRateHz)
        while b != 0 { (a, b) = (b, a % b) }
        step = inputRateHz / a
        phaseCount = outputRateHz / a
        self.halfWidth = halfWidth
        tapCount = (2 * halfWidth + 7) / 8 * 8
        guard phaseCount * tapCount <= Self.maximumWeights else { return nil }
        var weights = [Float](repeating: 0, count: phaseCount * tapCount)
        for r in 0..<phaseCount {
            let offset = Double(r) / Double(phaseCount)
            for j in 0..<(2 * halfWidth) {
                let distance = abs(Double(j - (halfWidth - 1)) - offset) * stepsPerSample
                let i = Int(distance)
                guard i + 1 < table.count else { continue }
                let frac = Float(distance - Double(i))
                weights[r * tapCount + j] = table[i] + (table[i + 1] - table[i]) * frac
            }
        }
        self.weights = weights
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [Int: PhaseTaps?] = [:]

    /// One table per pair of rates for the process (every channel and call at that rate
    /// shares it): made by `make` the first time.
    static func shared(inputRateHz: Int, outputRateHz: Int, _ make: () -> PhaseTaps?) -> PhaseTaps? {
        let key = inputRateHz << 32 | outputRateHz
        lock.lock()
        defer { lock.unlock() }
        if let known = made[key] { return known }
        let taps = make()
        made[key] = taps
        return taps
    }
}

extension Resampler {
    /// Fractional ratio: output n is the dot product of its phase's weights with the input
    /// around sample floor(n·p/q) (zeros outside the signal), in `dot`'s eight lanes.
    fileprivate mutating func emitPhased(
        into output: inout [Float], finalBlock: Bool, phases: PhaseTaps, totalOutput: Int
    ) {
        let reach = phases.halfWidth
        let count = phases.tapCount
        let step = Int64(phases.step), phaseCount = Int64(phases.phaseCount)
        @inline(__always) func place(_ n: Int) -> (centre: Int, phase: Int) {
            let position = Int64(n) * step
            return (Int(position / phaseCount), Int(position % phaseCount))
        }
        let (start, heard) = (historyStart, inputCount)
        phases.weights.withUnsafeBufferPointer { w in
            history.withUnsafeBufferPointer { h in
                windowCopy.withUnsafeMutableBufferPointer { copy in
                    while nextOutputIndex < totalOutput {
                        let (centre, phase) = place(nextOutputIndex)
                        if !finalBlock && centre + reach >= heard { break }
                        let first = centre - reach + 1
                        let weights = w.baseAddress! + phase * count
                        let x: UnsafePointer<Float>
                        if first >= start && first + count <= heard {
                            x = h.baseAddress! + (first - start)
                        } else {
                            // At the signal's edges (and a block's last few outputs): the
                            // window with zeros outside what is held.
                            for j in 0..<count {
                                let k = first + j
                                copy[j] = k >= start && k < heard ? h[k - start] : 0
                            }
                            x = UnsafePointer(copy.baseAddress!)
                        }
                        output.append(Self.dot(weights, x, count))
                        nextOutputIndex += 1
                    }
                }
            }
        }
        dropHistory(before: place(nextOutputIndex).centre - reach)
    }

    /// Σ w[j]·x[j] over `count` (a multiple of eight) in eight running sums, joined at the end.
    @inline(__always) static func dot(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        while j < count {
            lanes +=
                UnsafeRawPointer(w + j).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        return lanes.sum()
    }
}

/// Modified Bessel function of the first kind, order 0 (power series), for the Kaiser window.
func besselI0(_ x: Double) -> Double {
    var sum = 1.0
    var term = 1.0
    let half = x / 2
    for k in 1..<50 {
        term *= (half / Double(k)) * (half / Double(k))
        sum += term
        if term < sum * 1e-12 { break }
    }
    return sum
}
