import Foundation
import Testing
import YusuTestSupport

@testable import YusuSignal

/// The learned syllable stage: the network against a plain whole-sequence convolution, the
/// committed weights against the outputs PyTorch gave at export, the count's bookkeeping.
struct SyllableNetTests {
    /// The network as written in scripts/train/train.py: valid dilated convolutions over a
    /// sequence padded with `delaySteps` zero steps on either side, centred residuals.
    static func reference(_ net: SyllableNet, _ steps: [[Float]]) -> [Float] {
        let f = net.featureCount
        let c = net.channels
        let pad = net.delaySteps
        var h: [[Float]] =
            Array(repeating: [Float](repeating: 0, count: f), count: pad) + steps
            + Array(repeating: [Float](repeating: 0, count: f), count: pad)
        var offset = 0
        for (l, d) in net.dilations.enumerated() {
            let width = l == 0 ? f : c
            var next: [[Float]] = []
            for t in 0..<(h.count - 2 * d) {
                var row = [Float](repeating: 0, count: c)
                for o in 0..<c {
                    var sum = net.weights[offset + c * width * 3 + o]
                    for i in 0..<width {
                        for k in 0..<3 { sum += net.weights[offset + o * width * 3 + i * 3 + k] * h[t + k * d][i] }
                    }
                    row[o] = max(0, sum) + (l == 0 ? 0 : h[t + d][o])
                }
                next.append(row)
            }
            offset += c * width * 3 + c
            h = next
        }
        return h.map { row in
            var z = net.weights[offset + c]
            for o in 0..<c { z += net.weights[offset + o] * row[o] }
            return 1 / (1 + exp(-z))
        }
    }

    static func randomNet(seed: UInt64, featureCount: Int = 5, channels: Int = 4, dilations: [Int] = [1, 2, 4])
        -> SyllableNet
    {
        var rng = Synth.Random(seed: seed)
        let n = SyllableNet.weightCount(featureCount: featureCount, channels: channels, layers: dilations.count)
        return try! SyllableNet(
            featureCount: featureCount, channels: channels, dilations: dilations,
            weights: (0..<n).map { _ in rng.uniform() * 0.8 })
    }

    @Test("streaming equals the whole-sequence network, step for step", arguments: [1, 7, 40, 91])
    func streamingEqualsReference(length: Int) {
        let net = Self.randomNet(seed: UInt64(length))
        var rng = Synth.Random(seed: 99)
        let steps = (0..<length).map { _ in (0..<net.featureCount).map { _ in rng.uniform() * 2 } }
        let streamed = net.shares(of: steps.flatMap { $0 })
        let whole = Self.reference(net, steps)
        #expect(streamed.count == length && whole.count == length)
        for (a, b) in zip(streamed, whole) { #expect(abs(a - b) < 1e-5, "\(a) vs \(b)") }
    }

    @Test("the shipped weights give the shares PyTorch gave them at export")
    func bundledWeightsArePinned() throws {
        let url = URL(fileURLWithPath: fixturesDirectory() + "/syllable-net/pinned.json")
        let pinned = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        #expect(pinned["sha256"] as? String == SyllableNetWeights.sha256, "pinned.json is not of the shipped weights")
        let steps = (pinned["steps"] as! [[Double]]).map { $0.map(Float.init) }
        let expected = (pinned["shares"] as! [Double]).map(Float.init)
        let net = SyllableNet.bundled
        #expect(net.featureCount == SyllableFeatureExtractor.count)
        #expect(net.delaySteps * 2 * 10 <= 500, "look-ahead over 0.5 s")
        let shares = net.shares(of: steps.flatMap { $0 })
        #expect(shares.count == expected.count)
        for (k, (a, b)) in zip(shares, expected).enumerated() { #expect(abs(a - b) < 1e-4, "step \(k): \(a) vs \(b)") }
        // The synthetic input holds speech with a 4 Hz syllable rhythm: it must count something.
        #expect(shares.reduce(0, +) > 1)
    }

    @Test("weights of the wrong size, shape or value are refused with the reason")
    func loadErrors() {
        #expect(throws: SyllableNet.LoadError.size(expected: 49, found: 3)) {
            try SyllableNet(featureCount: 5, channels: 2, dilations: [1, 2], weights: [0, 0, 0])
        }
        #expect(throws: SyllableNet.LoadError.self) {
            try SyllableNet(featureCount: 5, channels: 2, dilations: [2, 4], weights: [Float](repeating: 0, count: 49))
        }
        var bad = [Float](repeating: 0, count: 49)
        bad[9] = .nan
        #expect(throws: SyllableNet.LoadError.self) {
            try SyllableNet(featureCount: 5, channels: 2, dilations: [1, 2], weights: bad)
        }
        #expect(throws: SyllableNet.LoadError.self) {
            try SyllableNet(featureCount: 5, channels: 2, dilations: [1, 2], littleEndianFloat32: Data([1, 2, 3]))
        }
    }

    /// A net whose every share is `share` (all weights 0, the output's bias its logit).
    static func constantNet(share: Float) -> SyllableNet {
        let f = SyllableFeatureExtractor.count
        let c = 2
        var w = [Float](repeating: 0, count: SyllableNet.weightCount(featureCount: f, channels: c, layers: 2))
        w[w.count - 1] = log(share / (1 - share))
        return try! SyllableNet(featureCount: f, channels: c, dilations: [1, 2], weights: w)
    }

    @Test("nuclei fall where the running sum of utterance shares passes each half, and only in utterances")
    func nucleusPlacement() {
        var tracker = LearnedNucleusTracker(net: Self.constantNet(share: 0.1), bridgeFrames: 50)
        let levels = ChannelLevels.clean(floorDb: -70)
        var out: [Int] = []
        // 100 silent frames, 200 speech frames (0.05 a frame: 10 syllables), 101 silent.
        for i in 0..<401 {
            tracker.push(frame: Frame(), f0Hz: 0, speech: i >= 100 && i < 300, levels: levels)
            tracker.take(into: &out)
            #expect(tracker.decidedThrough <= i + 1)
        }
        #expect(!tracker.decided(before: 401))
        tracker.finish()
        tracker.take(into: &out)
        #expect(tracker.decided(before: 401))
        #expect(out.count == 10, "\(out)")
        #expect(abs(tracker.shareSum - 10) < 1e-3)
        #expect(out.allSatisfy { $0 >= 100 && $0 < 300 })
        // The first passes 0.5 at about the 10th speech frame, then one every 20 frames.
        #expect((108...110).contains(out.first ?? 0) && out == out.sorted())
        #expect(zip(out.dropFirst(), out).allSatisfy { abs($0 - $1 - 20) <= 1 })
    }

    @Test("a pause shorter than the bridge counts with its utterance; a longer one, and the silence around, does not")
    func pausesInsideUtterances() {
        func shareSum(pauseFrames: Int) -> Double {
            var tracker = LearnedNucleusTracker(net: Self.constantNet(share: 0.1), bridgeFrames: 50)
            let levels = ChannelLevels.clean(floorDb: -70)
            // 40 silent, 100 speech, the pause, 100 speech, 60 silent frames.
            let speech =
                [Bool](repeating: false, count: 40) + [Bool](repeating: true, count: 100)
                + [Bool](repeating: false, count: pauseFrames) + [Bool](repeating: true, count: 100)
                + [Bool](repeating: false, count: 60)
            for s in speech { tracker.push(frame: Frame(), f0Hz: 0, speech: s, levels: levels) }
            tracker.finish()
            return tracker.shareSum
        }
        #expect(abs(shareSum(pauseFrames: 30) - 0.05 * 230) < 1e-3)
        #expect(abs(shareSum(pauseFrames: 49) - 0.05 * 249) < 1e-3)
        #expect(abs(shareSum(pauseFrames: 50) - 0.05 * 200) < 1e-3)
        #expect(abs(shareSum(pauseFrames: 80) - 0.05 * 200) < 1e-3)
    }

    @Test("features are the same at any gain: levels enter only as differences")
    func featuresIgnoreGain() {
        var a = SyllableFeatureExtractor()
        var b = SyllableFeatureExtractor()
        var fa = [Float](repeating: 0, count: SyllableFeatureExtractor.count)
        var fb = fa
        for k in 0..<6 {
            var frame = Frame()
            frame.energyDb = -30 + Float(k)
            frame.envelopeDb = -40 + 3 * Float(k % 3)
            frame.band0Db = -35
            frame.band1Db = -33
            frame.band2Db = -45
            frame.band3Db = -50
            frame.spectralChangeDb = 4
            frame.flatness = 0.2
            var louder = frame
            louder.energyDb += 20
            louder.envelopeDb += 20
            louder.band0Db += 20
            louder.band1Db += 20
            louder.band2Db += 20
            louder.band3Db += 20
            let levels = ChannelLevels(
                floorDb: -70, measuredFloorDb: -70, speechLevelDb: -28, floorIsVoice: false, snrScale: 1)
            var up = levels
            up.floorDb += 20
            up.measuredFloorDb += 20
            up.speechLevelDb += 20
            fa.withUnsafeMutableBufferPointer {
                a.features(of: frame, f0Hz: 150 + Float(k), speech: true, levels: levels, into: $0.baseAddress!)
            }
            fb.withUnsafeMutableBufferPointer {
                b.features(of: louder, f0Hz: 150 + Float(k), speech: true, levels: up, into: $0.baseAddress!)
            }
            for (x, y) in zip(fa, fb) { #expect(abs(x - y) < 1e-5) }
        }
        // The last frame: the envelope rose 3 dB over 10 ms (1 unit), the pitch moved up.
        #expect(abs(fa[2] - 1) < 1e-5 && fa[8] > 0 && fa[13] == 1)
    }
}
