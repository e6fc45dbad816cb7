import Foundation
import Testing
import YusuSignal
import YusuTestSupport

@testable import YusuDelivery

@Suite("Live packets analysed a step at a time")
struct AnalysisStepTests {
    /// Stereo sample frames numbered 0, 1, 2, ... (each frame's channels n and -n).
    static func numbered(_ first: Int, _ frames: Int) -> [Float] {
        (first..<(first + frames)).flatMap { [Float($0), -Float($0)] }
    }

    /// A step fed numbered stereo packets as CallStream feeds it: a block passes through
    /// whole, or is gathered and each complete step handed on.
    struct Feed {
        var step: AnalysisStep
        var heard = 0
        /// What was handed on, and where it lay (a block passed through is handed on in place).
        var handed: [(samples: [Float], address: UnsafeMutablePointer<Float>)] = []

        init(stepFrames: Int) { step = AnalysisStep(stepFrames: stepFrames, channelCount: 2) }

        /// Pushes the next `frames` numbered sample frames. - Returns: the block's address.
        mutating func push(_ frames: Int) throws -> UnsafeMutablePointer<Float> {
            var block = AnalysisStepTests.numbered(heard, frames)
            defer { heard += frames }
            return try block.withUnsafeMutableBufferPointer { b in
                if step.passes(frames: frames) {
                    handed.append((Array(b), b.baseAddress!))
                    return b.baseAddress!
                }
                try step.check(b, frames: frames, firstFrame: Int64(heard))
                var taken = 0
                while taken < frames {
                    taken += step.gather(b, from: taken, frames: frames)
                    if step.isComplete, let (samples, count) = step.take() {
                        #expect(samples.count == count * 2)
                        handed.append((Array(samples), samples.baseAddress!))
                    }
                }
                return b.baseAddress!
            }
        }
    }

    @Test("packets are gathered into whole steps, in order; a long block passes as it is; the rest waits for take")
    func gathering() throws {
        var feed = Feed(stepFrames: 320)
        _ = try feed.push(160)
        #expect(feed.handed.isEmpty && feed.step.gatheredFrames == 160)
        _ = try feed.push(160)
        #expect(feed.handed.map(\.samples) == [Self.numbered(0, 320)] && feed.step.gatheredFrames == 0)
        // Nothing gathered: a block of a step or more goes through untouched, in place.
        let address = try feed.push(1000)
        #expect(
            feed.handed.count == 2 && feed.handed[1].samples == Self.numbered(320, 1000)
                && feed.handed[1].address == address)
        // Something gathered: a long block completes the step, and is gathered step by step.
        _ = try feed.push(100)
        _ = try feed.push(700)
        #expect(feed.handed.count == 4 && feed.step.gatheredFrames == 800 - 640)
        #expect(
            feed.handed[2].samples == Self.numbered(1320, 320) && feed.handed[3].samples == Self.numbered(1640, 320))
        let rest = feed.step.take()
        let last = try #require(rest)
        #expect(
            Array(last.samples) == Self.numbered(1960, 160) && last.frames == 160 && feed.step.gatheredFrames == 0)
        let none = feed.step.take()
        #expect(none == nil, "an empty step is not handed on")
        // No step: every block goes through, however small.
        let noStep = AnalysisStep(stepFrames: 0, channelCount: 2)
        #expect(noStep.passes(frames: 1) && noStep.passes(frames: 0))
    }

    @Test("a sample that is not a number is refused with the packet that brings it, named by its frame in the call")
    func notANumber() throws {
        var feed = Feed(stepFrames: 320)
        _ = try feed.push(160)
        var block = Self.numbered(160, 160)
        block[2 * 37 + 1] = .nan
        do {
            try block.withUnsafeMutableBufferPointer { try feed.step.check($0, frames: 160, firstFrame: 160) }
            Issue.record("a NaN was taken")
        } catch SampleError.nonFinite(let frame, let channel, let value) {
            #expect(frame == 160 + 37 && channel == 1 && value.isNaN)
        }
        // The first packet is still there, and only it.
        #expect(feed.handed.isEmpty && feed.step.gatheredFrames == 160)
    }

    /// The synthetic interrupted call, pushed in 20 ms pieces with analysis steps of
    /// `stepSeconds`: each line as written, and the audio heard and analysed when it came.
    static func live(_ samples: [Float], stepSeconds: Double) throws -> (
        lines: [String], delays: [Double], analysed: [Double], measures: CallMeasures
    ) {
        let stream = CallStream(
            sampleRateHz: 8000, channelCount: 2, options: CallOptions(analysisStepSeconds: stepSeconds))
        var lines: [String] = []
        var delays: [Double] = []
        var analysed: [Double] = []
        let coach = LiveCoach(standard: Standard()) { line in
            lines.append(line.writtenFields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
            delays.append(stream.durationSeconds - line.emittedAtSeconds)
            analysed.append(stream.analysedSeconds)
        }
        stream.listener = coach
        var piece = [Float](repeating: 0, count: 320)
        var i = 0
        while i < samples.count {
            let n = min(320, samples.count - i)
            for k in 0..<n { piece[k] = samples[i + k] }
            try stream.push(&piece, frames: n / 2)
            // Heard and analysed differ by what is gathered: less than a step.
            #expect(stream.durationSeconds - stream.analysedSeconds < max(stepSeconds, 0.001))
            i += n
        }
        let measures = stream.finish(file: "call", formatName: "test").measures
        #expect(stream.analysedSeconds == stream.durationSeconds, "finish analyses the last, partial step")
        return (lines, delays, analysed, measures)
    }

    @Test("steps change when lines are written, not what they say: the same lines and measures, at most a step later")
    func sameLines() throws {
        let dir = TemporaryDirectory()
        let (path, _) = try writeInterruptedCall(in: dir, echoDb: -28)
        let reader = try AudioFileReader(path: path)
        var samples: [Float] = []
        var block = [Float](repeating: 0, count: 8192 * 2)
        while case let n = try reader.read(into: &block), n > 0 { samples += block[0..<(2 * n)] }
        let each = try Self.live(samples, stepSeconds: 0)
        let stepped = try Self.live(samples, stepSeconds: 0.06)
        #expect(each.lines.count >= 5, "the call's utterances, interruption and hold: \(each.lines)")
        #expect(stepped.lines == each.lines)
        #expect(stepped.measures == each.measures)
        // Every stepped line was written when a step had just been analysed: at a multiple of
        // 60 ms, and no later than a step (less a piece) after it was written without steps.
        for (k, t) in stepped.analysed.enumerated() {
            #expect(abs((t / 0.06).rounded() * 0.06 - t) < 1e-9, "line \(k) written at \(t) s")
            #expect(stepped.delays[k] - each.delays[k] <= 0.04 + 1e-9 && stepped.delays[k] >= each.delays[k] - 1e-9)
        }
        #expect(zip(stepped.delays, each.delays).contains { $0 > $1 + 0.01 }, "some lines wait for their step")
    }
}
