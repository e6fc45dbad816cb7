/// Decodes a recording block by block and runs the per-frame analysis on each channel.
///
/// Memory stays bounded by the compact per-frame features: samples pass through one
/// block buffer, a resampler's short history and each analyzer's window history.
///
/// What decoded samples mean is decided here, once:
/// - a NaN or infinite sample is corrupt data: the file is refused, naming the first one;
/// - a finite sample beyond full scale (a float file's overs, or garbage such as 1e20) is
///   clipped to ±1 and counted, so levels stay on the dBov scale and the report says so;
/// - the two channels of a stereo file are compared as they pass (correlation of the raw
///   samples), so a mono recording saved as two identical channels is recognised.
public struct RecordingAnalyzer: Sendable {
    public var config: AnalysisConfig
    /// Shortest recording analysed, seconds.
    public var minimumDurationSeconds: Double = 0.5
    /// Sample frames decoded per block.
    public var blockFrames = 8_192
    /// Two channels correlated at least this much are one signal saved twice. Two parties
    /// on separate channels, even with echo leaking across at -20 dB, correlate far less.
    public var identicalChannelCorrelation = 0.99
    /// How large and how long a file may be.
    public var limits = InputLimits()

    public init(config: AnalysisConfig = AnalysisConfig()) { self.config = config }

    /// A recording's header and per-channel frame features.
    public struct Result: Sendable {
        public var info: AudioFileInfo
        public var channels: [FrameFeatures]
        /// Length of the recording, seconds (from the samples decoded).
        public var durationSeconds: Double
        /// Samples beyond full scale that were clipped to ±1.
        public var clippedSamples: Int = 0
        /// Stereo whose channels carry the same signal (correlation of at least
        /// `RecordingAnalyzer.identicalChannelCorrelation`): really a mono recording.
        public var channelsIdentical = false

        public init(info: AudioFileInfo, channels: [FrameFeatures], durationSeconds: Double,
                    clippedSamples: Int = 0, channelsIdentical: Bool = false) {
            self.info = info
            self.channels = channels
            self.durationSeconds = durationSeconds
            self.clippedSamples = clippedSamples
            self.channelsIdentical = channelsIdentical
        }
    }

    /// - Parameter stop: checked between blocks; when set, decoding ends with `StopRequested`.
    /// - Throws: `AudioError` for files that cannot be analysed, `StopRequested` when stopped.
    public func analyze(path: String, stop: StopFlag? = nil) throws -> Result {
        let reader = try AudioFileReader(path: path, limits: limits)
        let info = reader.info
        guard info.durationSeconds >= minimumDurationSeconds else {
            throw AudioError.tooShort(path: path, durationSeconds: info.durationSeconds, minimumSeconds: minimumDurationSeconds)
        }
        let channelCount = info.channelCount
        let expectedSamples = Int(Resampler.outputCount(inputFrames: info.frameCount, inputRateHz: info.sampleRateHz, outputRateHz: config.analysisRateHz))
        let analyzers = (0..<channelCount).map { _ in FrameAnalyzer(config: config, expectedSamples: expectedSamples) }
        var resamplers = (0..<channelCount).map { _ in Resampler(inputRateHz: info.sampleRateHz, outputRateHz: config.analysisRateHz) }
        var levels = (0..<channelCount).map { _ in LevelAccumulator(sampleRateHz: info.sampleRateHz, expectedHops: Int(info.durationSeconds * 100) + 2) }

        var interleaved = [Float](repeating: 0, count: blockFrames * channelCount)
        var channelBlock = [Float](repeating: 0, count: blockFrames)
        var converted: [Float] = []
        converted.reserveCapacity(blockFrames + 64)
        var framesDecoded: Int64 = 0
        var clipped = 0
        var crossSum = 0.0, energy0 = 0.0, energy1 = 0.0
        while true {
            if stop?.isStopped == true { throw StopRequested() }
            let got = try reader.read(into: &interleaved)
            if got == 0 { break }
            for k in 0..<(got * channelCount) {
                let x = interleaved[k]
                if !x.isFinite {
                    throw AudioError.invalidSample(path: path, frame: framesDecoded + Int64(k / channelCount), channel: k % channelCount,
                                                   sampleRateHz: info.sampleRateHz, value: x)
                }
                if x > 1 || x < -1 {
                    interleaved[k] = x > 1 ? 1 : -1
                    clipped += 1
                }
            }
            if channelCount == 2 {
                for j in 0..<got {
                    let a = Double(interleaved[2 * j]), b = Double(interleaved[2 * j + 1])
                    crossSum += a * b
                    energy0 += a * a
                    energy1 += b * b
                }
            }
            framesDecoded += Int64(got)
            for c in 0..<channelCount {
                for j in 0..<got {
                    let x = interleaved[j * channelCount + c]
                    channelBlock[j] = x
                    levels[c].add(x)
                }
                converted.removeAll(keepingCapacity: true)
                channelBlock.withUnsafeBufferPointer { block in
                    resamplers[c].process(UnsafeBufferPointer(rebasing: block[0..<got]), into: &converted)
                }
                converted.withUnsafeBufferPointer { analyzers[c].process($0) }
            }
        }
        guard framesDecoded > 0 else { throw AudioError.empty(path: path) }
        var channels: [FrameFeatures] = []
        for c in 0..<channelCount {
            converted.removeAll(keepingCapacity: true)
            resamplers[c].finish(into: &converted)
            converted.withUnsafeBufferPointer { analyzers[c].process($0) }
            analyzers[c].finish()
            levels[c].finish()
            analyzers[c].attachLevel(levels[c])
            channels.append(analyzers[c].features)
        }
        let identical = channelCount == 2 && energy0 > 0 && energy1 > 0
            && crossSum / (energy0 * energy1).squareRoot() >= identicalChannelCorrelation
        return Result(info: info, channels: channels, durationSeconds: Double(framesDecoded) / Double(info.sampleRateHz),
                      clippedSamples: clipped, channelsIdentical: identical)
    }
}
