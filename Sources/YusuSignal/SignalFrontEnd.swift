// The front of the analysis: interleaved samples in, one stream of `Frame`s per channel out.
//
// Stages, per block of interleaved samples at the recording's own rate:
//   1. what decoded samples mean is decided here, once: a NaN or infinite sample is corrupt
//      data (`SampleError.nonFinite`, naming the first); a finite sample beyond full scale
//      (a float file's overs, or garbage such as 1e20) is clipped to ±1 and counted, so
//      levels stay on the dBov scale;
//   2. the two channels of a stereo recording are compared as they pass (correlation of
//      the raw samples), so that a mono recording saved as two identical channels is
//      recognised;
//   3. per channel: the P.56 envelope and hop sums at the recording's own rate
//      (`LevelAccumulator`), and the analysis-rate signal (`Resampler`) cut into frames
//      (`FrameAnalyzer`);
//   4. frame i is complete when both its analysis and its hop are, and is read with `frame`.
// Look-ahead: the resampler's half-length and the frame windows' (about 20 ms). Memory: a
// block, the resampler's history, each analyser's windows and a ring of recent frames.
import Foundation

/// A sample that is not a number.
public enum SampleError: Error, Equatable, Sendable {
    case nonFinite(frame: Int64, channel: Int, value: Float)
}

public final class SignalFrontEnd {
    public let config: AnalysisConfig
    public let sampleRateHz: Int
    public let channelCount: Int
    private var analyzers: [FrameAnalyzer]
    private var resamplers: [Resampler]
    private var levels: [LevelAccumulator]
    /// True when the recording is at the analysis rate: samples go to the analyzers as they are.
    private let passthrough: Bool
    private var converted: [Float] = []
    /// Sample frames decoded so far.
    public private(set) var samplesIn: Int64 = 0
    /// Samples beyond full scale that were clipped to ±1.
    public private(set) var clippedSamples = 0
    private var crossSum = 0.0, energy0 = 0.0, energy1 = 0.0
    /// Whether `channelCorrelation` is still wanted: the reader turns it off once it has
    /// decided what the channels are, and the sums stop.
    public var measuresCorrelation = true
    private var finished = false

    /// - Parameter ringFrames: frames each channel keeps readable; the reader must keep up.
    public init(sampleRateHz: Int, channelCount: Int, config: AnalysisConfig = AnalysisConfig(), ringFrames: Int = 4096)
    {
        self.config = config
        self.sampleRateHz = sampleRateHz
        self.channelCount = channelCount
        analyzers = (0..<channelCount).map { _ in FrameAnalyzer(config: config, ringFrames: ringFrames) }
        resamplers = (0..<channelCount).map { _ in
            Resampler(inputRateHz: sampleRateHz, outputRateHz: config.analysisRateHz)
        }
        levels = (0..<channelCount).map { _ in LevelAccumulator(sampleRateHz: sampleRateHz, ringHops: ringFrames) }
        // Read once from the resamplers (all at one rate), not through their array at every push.
        passthrough = resamplers.allSatisfy(\.isPassthrough)
        if !passthrough { converted.reserveCapacity(8192 + 64) }
    }

    /// Frames whose pitch search ran, all channels.
    public var pitchSearchCount: Int { analyzers.reduce(0) { $0 + $1.pitchSearchCount } }

    /// Length so far, seconds.
    public var durationSeconds: Double { Double(samplesIn) / Double(sampleRateHz) }

    /// Correlation of the two channels so far (nil for mono or while either is silent).
    public var channelCorrelation: Double? {
        guard channelCount == 2, energy0 > 0, energy1 > 0 else { return nil }
        return crossSum / (energy0 * energy1).squareRoot()
    }

    /// Frames complete on every channel.
    public var frameCount: Int {
        var n = Int.max
        for c in 0..<channelCount {
            let hops = finished ? max(levels[c].hops.count, analyzers[c].frameCount) : levels[c].hops.count
            n = min(n, analyzers[c].frameCount, hops)
        }
        return n == .max ? 0 : n
    }

    /// Frame `i` of channel `c`, with its P.56 hop (silence past the recording's end).
    @inline(__always) public func frame(channel c: Int, index i: Int) -> Frame {
        var f = analyzers[c].frames[i]
        if i < levels[c].hops.count {
            let hop = levels[c].hops[i]
            f.hopMeanSquare = hop.meanSquare
            f.hopEnvelopePeak = hop.envelopePeak
        }
        return f
    }

    /// Adds `frames` sample frames of interleaved samples (`frames × channelCount` values).
    /// - Throws: `SampleError.nonFinite` at the first sample that is not a number.
    public func push(_ interleaved: UnsafeMutableBufferPointer<Float>, frames: Int) throws {
        // Per-sample loops work on locals and buffer pointers: a class's stored properties
        // cost a runtime exclusivity check at every access.
        let n = frames * channelCount
        var clipped = 0
        // The channels' halves go to this thread's block, shared by every front end on the
        // thread: it holds nothing between pushes (one per call was a cache line missed per
        // 16 samples with hundreds of live calls on a core).
        let left = FrameScratch.sampleBlock(count: n)
        let block = UnsafeMutableBufferPointer(start: left, count: n)
        // Eight samples at a time while all are within full scale (a NaN is not): only a
        // block holding something else takes the sample-by-sample check below. A stereo
        // block's checked samples are split into the two channels' halves in the same pass.
        var k0 = 0
        let right = left + frames
        while k0 + 8 <= n {
            let x = UnsafeRawPointer(interleaved.baseAddress! + k0).loadUnaligned(as: SIMD8<Float>.self)
            guard all((x .<= 1) .& (x .>= -1)) else { break }
            if channelCount == 2 {
                UnsafeMutableRawPointer(left + k0 / 2).storeBytes(of: x.evenHalf, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(right + k0 / 2).storeBytes(of: x.oddHalf, as: SIMD4<Float>.self)
            }
            k0 += 8
        }
        for k in k0..<n {
            let x = interleaved[k]
            if !x.isFinite {
                throw SampleError.nonFinite(
                    frame: samplesIn + Int64(k / channelCount), channel: k % channelCount, value: x)
            }
            if x > 1 || x < -1 {
                interleaved[k] = x > 1 ? 1 : -1
                clipped += 1
            }
        }
        clippedSamples += clipped
        samplesIn += Int64(frames)
        if channelCount == 2 {
            // The rest of the block, past what the checking pass split.
            for j in (k0 / 2)..<frames {
                block[j] = interleaved[2 * j]
                block[frames + j] = interleaved[2 * j + 1]
            }
        } else {
            for j in 0..<frames { block[j] = interleaved[j] }
        }
        if channelCount == 2 && measuresCorrelation {
            // The correlation's sums, over the block's two halves (the warm-up's only).
            var cross = 0.0
            var e0 = 0.0
            var e1 = 0.0
            for j in 0..<frames {
                let a = Double(block[j])
                let b = Double(block[frames + j])
                cross += a * b
                e0 += a * a
                e1 += b * b
            }
            crossSum += cross
            energy0 += e0
            energy1 += e1
        }
        // Each channel's P.56 envelope, over its half of the block (a stereo call's two in one loop).
        let half = { (c: Int) in UnsafeBufferPointer(rebasing: block[(c * frames)..<((c + 1) * frames)]) }
        levels.withUnsafeMutableBufferPointer { level in
            if channelCount == 2 {
                LevelAccumulator.add(&level[0], &level[1], half(0), half(1))
            } else {
                for c in 0..<channelCount { level[c].add(contentsOf: half(c)) }
            }
        }
        for c in 0..<channelCount {
            // At the analysis rate already (8 kHz), the channel's half of the block is the
            // analysis signal: handed over as it is, not copied through the resampler first.
            if passthrough {
                analyzers[c].process(half(c))
                continue
            }
            converted.removeAll(keepingCapacity: true)
            resamplers[c].process(half(c), into: &converted)
            converted.withUnsafeBufferPointer { analyzers[c].process($0) }
        }
    }

    /// The recording has ended: the last frames and hops are completed.
    public func finish() {
        guard !finished else { return }
        for c in 0..<channelCount {
            converted.removeAll(keepingCapacity: true)
            resamplers[c].finish(into: &converted)
            converted.withUnsafeBufferPointer { analyzers[c].process($0) }
            analyzers[c].finish()
            levels[c].finish()
        }
        finished = true
    }
}
