// SyllableNet: a small temporal convolution network that gives each 20 ms step the share of
// a syllable nucleus it holds; summed over an utterance's speech, the shares are its
// syllable count (Mandarin: its characters, 字).
//
// Method after SylNet (Seshadri & Räsänen 2019, "SylNet: An adaptable end-to-end syllable
// count estimator for speech", IEEE Signal Processing Letters 26(9)): a network trained on
// utterance counts alone, its frame outputs summed into the count. Departures: the input is
// Yusu's own 15 frame features (`SyllableFeatureExtractor`) averaged over pairs of frames,
// not a spectrogram; the network is a stack of dilated convolutions (Bai, Kolter & Koltun
// 2018, "An empirical evaluation of generic convolutional and recurrent networks") with
// centred residuals, not a CNN + GRU, so that it streams with a fixed look-ahead:
//   1. layer 0: kernel 3, dilation 1, features -> C channels, ReLU;
//   2. layers 1...: kernel 3, dilations 2, 4, 8, C -> C, ReLU, plus the layer's input at
//      the kernel's centre;
//   3. out: a weighted sum of the C channels, logistic: a share in 0...1.
// Receptive field 31 steps (0.62 s); the share of step s is known once step s + 15 is in
// (0.30 s later). Weights come from `scripts/train/` (model card: `SyllableNet.md`).
// Streaming: `SyllableNetStream` keeps each layer's last 32 outputs in one buffer made at
// creation; a step costs about 3,000 multiply-adds and allocates nothing.
import Foundation

/// The network's shape and weights.
public struct SyllableNet: Sendable, Equatable {
    public let featureCount: Int
    public let channels: Int
    /// Dilation of each layer, steps; the first is 1.
    public let dilations: [Int]
    /// Flat weights in PyTorch's order: per layer its kernel [out][in][3] then bias [out];
    /// then the output's weights [C] and bias.
    public let weights: [Float]
    /// The same, each layer's kernel laid out [tap][in][out] so that a step's inner loop runs
    /// over contiguous outputs (vectorised), its bias after it; then the output's.
    let packed: [Float]

    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case shape(String)
        case size(expected: Int, found: Int)
        public var description: String {
            switch self {
            case .shape(let why): return "syllable model: \(why)"
            case .size(let expected, let found):
                return "syllable model: \(found) weights where its shape needs \(expected)"
            }
        }
    }

    public init(featureCount: Int, channels: Int, dilations: [Int], weights: [Float]) throws(LoadError) {
        guard featureCount > 0, channels > 0, channels <= 256 else {
            throw .shape("features \(featureCount) and channels \(channels) must be 1...256")
        }
        guard let first = dilations.first, first == 1, dilations.allSatisfy({ $0 >= 1 && $0 <= 64 }) else {
            throw .shape("dilations \(dilations) must start at 1 and stay within 1...64")
        }
        let expected = Self.weightCount(featureCount: featureCount, channels: channels, layers: dilations.count)
        guard weights.count == expected else { throw .size(expected: expected, found: weights.count) }
        guard weights.allSatisfy({ $0.isFinite }) else { throw .shape("a weight is not finite") }
        self.featureCount = featureCount
        self.channels = channels
        self.dilations = dilations
        self.weights = weights
        var packed = [Float](repeating: 0, count: weights.count)
        var offset = 0
        for l in dilations.indices {
            let width = l == 0 ? featureCount : channels
            for o in 0..<channels {
                for i in 0..<width {
                    for k in 0..<3 {
                        packed[offset + (k * width + i) * channels + o] = weights[offset + (o * width + i) * 3 + k]
                    }
                }
            }
            offset += channels * width * 3
            for o in 0..<channels { packed[offset + o] = weights[offset + o] }
            offset += channels
        }
        for j in offset..<weights.count { packed[j] = weights[j] }
        self.packed = packed
    }

    public static func == (a: SyllableNet, b: SyllableNet) -> Bool {
        a.featureCount == b.featureCount && a.channels == b.channels && a.dilations == b.dilations
            && a.weights == b.weights
    }

    /// Decodes little-endian Float32 weights (the form `scripts/train/` writes).
    public init(featureCount: Int, channels: Int, dilations: [Int], littleEndianFloat32 data: Data) throws(LoadError) {
        guard data.count % 4 == 0 else { throw .shape("\(data.count) bytes is not a whole number of Float32") }
        var values = [Float](repeating: 0, count: data.count / 4)
        for i in values.indices {
            let bits =
                UInt32(data[data.startIndex + 4 * i]) | UInt32(data[data.startIndex + 4 * i + 1]) << 8
                | UInt32(data[data.startIndex + 4 * i + 2]) << 16 | UInt32(data[data.startIndex + 4 * i + 3]) << 24
            values[i] = Float(bitPattern: bits)
        }
        try self.init(featureCount: featureCount, channels: channels, dilations: dilations, weights: values)
    }

    static func weightCount(featureCount: Int, channels: Int, layers: Int) -> Int {
        (channels * featureCount * 3 + channels) + (layers - 1) * (channels * channels * 3 + channels) + channels + 1
    }

    /// Steps between a step going in and its share coming out: the sum of the dilations.
    public var delaySteps: Int { dilations.reduce(0, +) }

    /// The model that ships with Yusu (`SyllableNetWeights`).
    public static let bundled: SyllableNet = {
        guard let data = Data(base64Encoded: SyllableNetWeights.base64, options: .ignoreUnknownCharacters),
            let net = try? SyllableNet(
                featureCount: SyllableNetWeights.featureCount, channels: SyllableNetWeights.channels,
                dilations: SyllableNetWeights.dilations, littleEndianFloat32: data)
        else { preconditionFailure("the bundled syllable model does not decode: SyllableNetWeights.swift is damaged") }
        return net
    }()

    /// Shares of a whole sequence of steps (`featureCount` features each, row after row),
    /// as the stream gives them with zero steps before and after: for tests and training
    /// checks.
    public func shares(of steps: [Float]) -> [Float] {
        precondition(steps.count % featureCount == 0)
        var stream = SyllableNetStream(net: self)
        var out: [Float] = []
        out.reserveCapacity(steps.count / featureCount)
        steps.withUnsafeBufferPointer { buffer in
            for s in 0..<(steps.count / featureCount) {
                if let p = stream.push(buffer.baseAddress! + s * featureCount) { out.append(p) }
            }
        }
        while let p = stream.flush() { out.append(p) }
        return out
    }
}

/// One stream through a `SyllableNet`: push a step's features, get the share of the step
/// `delaySteps` before it. The stream starts as if `delaySteps` steps of zeros had come
/// before the first (the training pads the same way), and `flush` feeds zeros after the last.
///
/// - Complexity: O(C · (F + C · layers)) per step; no allocation after `init`.
public struct SyllableNetStream: Sendable {
    public let net: SyllableNet
    /// Ring of the last 32 steps of the input (F wide) and of every layer's output (C wide).
    /// (A `FixedBuffer`: written at every step without an array's uniqueness check.)
    private let state: FixedBuffer<Float>
    private static let ringSteps = 32
    private var pushed = 0
    /// Real (not padding) steps pushed, and shares handed out.
    private var stepsIn = 0
    private var sharesOut = 0

    public init(net: SyllableNet) {
        self.net = net
        precondition(2 * (net.dilations.max() ?? 1) + 1 <= Self.ringSteps, "dilations over 15 need a longer ring")
        state = FixedBuffer(
            count: Self.ringSteps * (net.featureCount + net.channels * net.dilations.count) + net.channels, filler: 0)
        for _ in 0..<net.delaySteps { _ = step(nil) }
    }

    /// Adds a step's features (`featureCount` values); returns the share of the step
    /// `delaySteps` before it once there is one.
    public mutating func push(_ features: UnsafePointer<Float>) -> Float? {
        stepsIn += 1
        guard let p = step(features) else { return nil }
        sharesOut += 1
        return p
    }

    /// After the last step: the share of the next step still waiting, nil when none is.
    public mutating func flush() -> Float? {
        while sharesOut < stepsIn {
            // A stream shorter than the network's delay first fills its remaining context.
            if let p = step(nil) {
                sharesOut += 1
                return p
            }
        }
        return nil
    }

    /// One dilated layer at 16 channels: `here = relu(bias + Σ taps) (+ the centre tap)`.
    @inline(__always) private static func layer16(
        kernel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        previous: UnsafeMutablePointer<Float>, width: Int, n: Int, d: Int,
        mask: Int, residual: Bool, into here: UnsafeMutablePointer<Float>
    ) {
        var acc = UnsafeRawPointer(bias).loadUnaligned(as: SIMD16<Float>.self)
        // Every input is taken, zeros too: a branch on the ReLU's zeros was mispredicted
        // about half the time and cost more than the multiplies it skipped. A zero adds ±0,
        // which leaves every non-zero sum as it was (only a zero's sign may differ, and the
        // ReLU and the next layer treat both zeros alike).
        var row = UnsafeRawPointer(kernel)
        for k in 0..<3 {
            let tap = previous + ((n &- (2 &- k) &* d) & mask) &* width
            for i in 0..<width {
                acc += row.loadUnaligned(as: SIMD16<Float>.self) * tap[i]
                row += 16 &* MemoryLayout<Float>.stride
            }
        }
        var y = acc.replacing(with: 0, where: acc .< 0)
        if residual { y += UnsafeRawPointer(previous + ((n - d) & mask) * width).loadUnaligned(as: SIMD16<Float>.self) }
        UnsafeMutableRawPointer(here).storeBytes(of: y, as: SIMD16<Float>.self)
    }

    /// One step through every layer; `x` nil is a step of zeros (the padding).
    @inline(__always) private mutating func step(_ x: UnsafePointer<Float>?) -> Float? {
        let f = net.featureCount
        let c = net.channels
        let ringSteps = Self.ringSteps
        let mask = ringSteps - 1
        let n = pushed
        pushed += 1
        return net.packed.withUnsafeBufferPointer { wb -> Float? in
            do {
                let w = wb.baseAddress!
                let s = state.pointer
                // The input ring, then one C-wide ring per layer, then C floats of scratch.
                let input = s
                if let x {
                    (input + (n & mask) * f).update(from: x, count: f)
                } else {
                    (input + (n & mask) * f).update(repeating: 0, count: f)
                }
                let acc = s + ringSteps * (f + c * net.dilations.count)
                var previous = input
                var width = f
                var start = 0
                var offset = 0
                var out = s + ringSteps * f
                for (l, d) in net.dilations.enumerated() {
                    start += 2 * d
                    let kernel = w + offset
                    let bias = kernel + c * width * 3
                    offset += c * width * 3 + c
                    if n < start { return nil }
                    let here = out + (n & mask) * c
                    if c == 16 {
                        // The shipped width: one SIMD register of sums, each lane the same
                        // sequence of multiplies and adds as the general loop (equal results).
                        Self.layer16(
                            kernel: kernel, bias: bias, previous: previous, width: width, n: n, d: d, mask: mask,
                            residual: l > 0, into: here)
                        previous = out
                        width = c
                        out += ringSteps * c
                        continue
                    }
                    acc.update(from: bias, count: c)
                    for k in 0..<3 {
                        let tap = previous + ((n - (2 - k) * d) & mask) * width
                        for i in 0..<width {
                            let v = tap[i]
                            if v == 0 { continue }
                            let row = kernel + (k * width + i) * c
                            for o in 0..<c { acc[o] += row[o] * v }
                        }
                    }
                    if l == 0 {
                        for o in 0..<c { here[o] = max(0, acc[o]) }
                    } else {
                        let centre = previous + ((n - d) & mask) * width
                        for o in 0..<c { here[o] = max(0, acc[o]) + centre[o] }
                    }
                    previous = out
                    width = c
                    out += ringSteps * c
                }
                let last = previous + (n & mask) * c
                let wo = w + offset
                var z = wo[c]
                for o in 0..<c { z += wo[o] * last[o] }
                return 1 / (1 + exp(-z))
            }
        }
    }
}
