// Gathers a live call's small blocks of samples (a phone line's 20 ms packets) into steps,
// so that the analysis behind it runs once a step instead of once a packet.
//
// Why: each run of the analysis reads and writes some hundreds of cache lines of the call's
// own state (the frame analyser's window, every stage's ring, the timeline). With a thousand
// live calls on a core, a call's lines have left the cache by its next packet, so each run
// pays those misses whatever the audio it brings: 1,000 calls on one core, a 60 s excerpt of
// call_05, ran at 861× real time analysed every 20 ms packet, 1088× every 40 ms and 1195×
// every 60 ms (stop 51, `yusu bench --live 1000`). What is decided, and the analysis time
// each line carries (`emitted_at_s`), do not depend on the steps: the analysis streams
// frame by frame whatever the blocks. A line is written when the step that completes it
// has been heard: at most a step less a packet later than without steps.
//
// Memory: one step of interleaved samples, allocated at `init` (none without a step); nothing
// after.
import YusuSignal

/// Interleaved samples in blocks of any size, out in steps of at least `stepFrames` sample
/// frames. A block at least that long, arriving while nothing is gathered, goes through as it
/// is (a file's decoded blocks pass untouched).
struct AnalysisStep {
    /// Sample frames a step holds (0: no gathering, every block goes through).
    let stepFrames: Int
    let channelCount: Int
    /// Sample frames gathered and not yet handed on.
    private(set) var gatheredFrames = 0
    /// nil without a step: no block is ever gathered.
    private let samples: FixedBuffer<Float>?

    /// - Parameters:
    ///   - stepFrames: sample frames per step, at the recording's rate (0 or more).
    ///   - channelCount: samples per sample frame.
    init(stepFrames: Int, channelCount: Int) {
        precondition(stepFrames >= 0 && channelCount > 0, "a step of \(stepFrames) frames of \(channelCount) channels")
        self.stepFrames = stepFrames
        self.channelCount = channelCount
        samples = stepFrames > 0 ? FixedBuffer(count: stepFrames * channelCount, filler: 0) : nil
    }

    /// Whether a block of `frames` goes to the analysis as it is: nothing is gathered, and it
    /// is a step or more.
    func passes(frames: Int) -> Bool { gatheredFrames == 0 && frames >= stepFrames }

    /// Refuses a block holding a sample that is not a number, before any of it is gathered,
    /// so the error names the block that brought it, as the analysis would have.
    /// - Parameter firstFrame: the block's first sample frame in the call.
    /// - Throws: `SampleError.nonFinite` at the first such sample.
    func check(_ block: UnsafeMutableBufferPointer<Float>, frames: Int, firstFrame: Int64) throws {
        for k in 0..<(frames * channelCount) where !block[k].isFinite {
            throw SampleError.nonFinite(
                frame: firstFrame + Int64(k / channelCount), channel: k % channelCount, value: block[k])
        }
    }

    /// Gathers the block's sample frames from `offset` on, up to what completes the step.
    /// - Returns: the sample frames taken.
    mutating func gather(_ block: UnsafeMutableBufferPointer<Float>, from offset: Int, frames: Int) -> Int {
        let n = min(frames - offset, stepFrames - gatheredFrames)
        (samples!.pointer + gatheredFrames * channelCount).update(
            from: block.baseAddress! + offset * channelCount, count: n * channelCount)
        gatheredFrames += n
        return n
    }

    var isComplete: Bool { gatheredFrames == stepFrames }

    /// What is gathered, handed on and emptied (nil when nothing is): a complete step, or at
    /// the call's end what there is. The samples stay valid until the next `gather`.
    mutating func take() -> (samples: UnsafeMutableBufferPointer<Float>, frames: Int)? {
        guard gatheredFrames > 0 else { return nil }
        let count = gatheredFrames
        gatheredFrames = 0
        return (UnsafeMutableBufferPointer(start: samples!.pointer, count: count * channelCount), count)
    }
}
