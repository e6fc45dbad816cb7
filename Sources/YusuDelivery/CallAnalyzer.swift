import Foundation
import YusuSignal

/// A recording file through the one analysis: open, stream every block into a
/// `CallStream`, finish. (`yusu live` streams a call that is still being recorded the same way.)
public struct CallAnalyzer: Sendable {
    /// Changes whenever a change to the analysis changes results (a stage, a default
    /// threshold). Stored with every batch result, so a re-run scores such files again.
    public static let analysisRevision = "2026-11-29-spectral-change"

    public var settings = AnalysisSettings()
    /// How large and how long a recording may be.
    public var limits: InputLimits {
        get { settings.limits }
        set { settings.limits = newValue }
    }
    /// Sample frames decoded per block.
    public var blockFrames = 8_192

    public init(settings: AnalysisSettings = AnalysisSettings()) { self.settings = settings }

    /// - Parameters:
    ///   - requireSpeech: throw `AudioError.noSpeech` when no channel holds speech (scoring
    ///     needs some); `false` returns the analysis anyway (frame dumps).
    ///   - stop: a stop request ends decoding between blocks with `StopRequested`.
    ///   - prepare: a last look at the stream before the first block (a listener, a frame sink).
    public func analyze(path: String, options: CallOptions = CallOptions(), requireSpeech: Bool = true, stop: StopFlag? = nil,
                        prepare: ((CallStream) -> Void)? = nil) throws -> CallAnalysis {
        let reader = try AudioFileReader(path: path, limits: settings.limits)
        let info = reader.info
        guard info.durationSeconds >= settings.minimumDurationSeconds else {
            throw AudioError.tooShort(path: path, durationSeconds: info.durationSeconds, minimumSeconds: settings.minimumDurationSeconds)
        }
        guard options.agentChannel >= 0 && options.agentChannel < info.channelCount else {
            throw AudioError.noSuchChannel(path: path, channel: options.agentChannel, channels: info.channelCount)
        }
        let stream = CallStream(sampleRateHz: info.sampleRateHz, channelCount: info.channelCount, options: options, settings: settings,
                                expectedDurationSeconds: info.durationSeconds)
        prepare?(stream)
        var block = [Float](repeating: 0, count: blockFrames * info.channelCount)
        var decoded = 0
        while true {
            if stop?.isStopped == true { throw StopRequested() }
            let t = stream.clock.start()
            let got = try reader.read(into: &block)
            stream.clock.stop(.decode, t)
            if got == 0 { break }
            decoded += got
            do { try stream.push(&block, frames: got) } catch SampleError.nonFinite(let frame, let channel, let value) {
                throw AudioError.invalidSample(path: path, frame: frame, channel: channel, sampleRateHz: info.sampleRateHz, value: value)
            }
        }
        guard decoded > 0 else { throw AudioError.empty(path: path) }
        let result = stream.finish(file: path, formatName: info.formatName)
        guard !requireSpeech || result.hasSpeech else { throw AudioError.noSpeech(path: path) }
        return result
    }
}
