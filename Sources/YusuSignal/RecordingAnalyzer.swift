/// Decodes a recording block by block and runs the per-frame analysis on each channel.
///
/// Memory stays bounded by the compact per-frame features: samples pass through one
/// block buffer, a resampler's short history and each analyzer's window history.
public struct RecordingAnalyzer: Sendable {
    public var config: AnalysisConfig
    /// Shortest recording analysed, seconds.
    public var minimumDurationSeconds: Double = 0.5
    /// Sample frames decoded per block.
    public var blockFrames = 8_192

    public init(config: AnalysisConfig = AnalysisConfig()) { self.config = config }

    /// A recording's header and per-channel frame features.
    public struct Result: Sendable {
        public var info: AudioFileInfo
        public var channels: [FrameFeatures]
        /// Length of the recording, seconds (from the samples decoded).
        public var durationSeconds: Double

        public init(info: AudioFileInfo, channels: [FrameFeatures], durationSeconds: Double) {
            self.info = info
            self.channels = channels
            self.durationSeconds = durationSeconds
        }
    }

    /// - Throws: `AudioError` for files that cannot be analysed.
    public func analyze(path: String) throws -> Result {
        let reader = try AudioFileReader(path: path)
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
        while true {
            let got = try reader.read(into: &interleaved)
            if got == 0 { break }
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
        return Result(info: info, channels: channels, durationSeconds: Double(framesDecoded) / Double(info.sampleRateHz))
    }
}
