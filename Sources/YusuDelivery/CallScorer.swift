import Foundation
import YusuSignal

/// The one job behind every front end: a recording in, its measures and verdicts out, or
/// the reason it cannot be scored. Decode a file block by block into a `CallStream` (or take
/// a stream that was fed elsewhere: `yusu live`, the service's socket), finish it, check that
/// it can be scored, and judge it by the standard. `score`, both batch engines, live, the
/// service's uploads and pages, `bench` and the Benchmarks package are adapters over it.
public struct CallScorer: Sendable {
    /// Changes whenever a change to the analysis changes results (a stage, a default
    /// threshold, the words of stored evidence). Stored with every batch result, so a re-run
    /// scores such files again. Stop 46: a machine-steady tone is music 0.3 s in (hold music
    /// that starts as a word ends no longer lends the word its first 0.1 s).
    public static let analysisRevision = "stop46-steady-tones"

    /// A scored call: the analysis (measures, and the contour when kept) and its verdicts.
    public struct Scored: Sendable {
        public var analysis: CallAnalysis
        public var card: Scorecard
        public var measures: CallMeasures { analysis.measures }
    }

    public var standard: Standard
    public var settings: AnalysisSettings
    /// How large and how long a recording may be.
    public var limits: InputLimits {
        get { settings.limits }
        set { settings.limits = newValue }
    }
    /// Sample frames decoded per block.
    public var blockFrames = 8_192

    public init(standard: Standard = Standard(), settings: AnalysisSettings = AnalysisSettings()) {
        self.standard = standard
        self.settings = settings
    }

    public init(standard: Standard = Standard(), limits: InputLimits) {
        self.init(standard: standard)
        self.limits = limits
    }

    /// Decodes, streams, finishes and judges the recording at `path`.
    /// - Parameters:
    ///   - name: the name the document gives the call (an upload's own name), else `path`.
    ///   - stop: a stop request ends decoding between blocks with `StopRequested`.
    ///   - prepare: a last look at the stream before the first block (a listener, a clock).
    /// - Throws: `AudioError` when the recording cannot be scored, `StopRequested`.
    public func score(
        path: String, options: CallOptions = CallOptions(), name: String? = nil, stop: StopFlag? = nil,
        prepare: ((CallStream) -> Void)? = nil
    ) throws -> Scored {
        let (stream, formatName) = try decode(path: path, options: options, stop: stop, prepare: prepare)
        var analysis = try finished(stream, path: path, formatName: formatName, requireSpeech: true)
        if let name { analysis.measures.file = name }
        return judged(analysis, clock: stream.clock)
    }

    /// A stream fed elsewhere (live), ended: the same checks a file gets, then the verdicts.
    /// - Parameter warnings: what the feeder noticed (a stream cut short), kept in the measures.
    /// - Throws: `AudioError` (empty, too short, no speech).
    public func finish(_ stream: CallStream, name: String, formatName: String, warnings: [String] = []) throws -> Scored
    {
        var analysis = try finished(stream, path: name, formatName: formatName, requireSpeech: true)
        analysis.measures.warnings += warnings
        return judged(analysis, clock: stream.clock)
    }

    /// The analysis of a file without verdicts (the frame dump, which needs no speech).
    /// - Parameter requireSpeech: throw `AudioError.noSpeech` when no channel holds speech.
    public func analyze(
        path: String, options: CallOptions = CallOptions(), requireSpeech: Bool = true, stop: StopFlag? = nil,
        prepare: ((CallStream) -> Void)? = nil
    ) throws -> CallAnalysis {
        let (stream, formatName) = try decode(path: path, options: options, stop: stop, prepare: prepare)
        return try finished(stream, path: path, formatName: formatName, requireSpeech: requireSpeech)
    }

    /// The file, block by block, into a new stream; returns it unfinished, with the format's name.
    private func decode(path: String, options: CallOptions, stop: StopFlag?, prepare: ((CallStream) -> Void)?) throws
        -> (CallStream, String)
    {
        let reader = try AudioFileReader(path: path, limits: settings.limits)
        let info = reader.info
        // The header's length refuses a short file before any decoding; `finished` checks
        // what was really decoded.
        try checkLength(info.durationSeconds, path: path)
        guard options.agentChannel >= 0 && options.agentChannel < info.channelCount else {
            throw AudioError.noSuchChannel(path: path, channel: options.agentChannel, channels: info.channelCount)
        }
        let stream = CallStream(
            sampleRateHz: info.sampleRateHz, channelCount: info.channelCount, options: options,
            settings: settings, expectedDurationSeconds: info.durationSeconds)
        prepare?(stream)
        var block = [Float](repeating: 0, count: blockFrames * info.channelCount)
        while true {
            if stop?.isStopped == true { throw StopRequested() }
            let t = stream.clock.start()
            let got = try reader.read(into: &block)
            stream.clock.stop(.decode, t)
            if got == 0 { break }
            do { try stream.push(&block, frames: got) } catch SampleError.nonFinite(let frame, let channel, let value) {
                throw AudioError.invalidSample(
                    path: path, frame: frame, channel: channel, sampleRateHz: info.sampleRateHz,
                    value: value)
            }
        }
        return (stream, info.formatName)
    }

    private func judged(_ analysis: CallAnalysis, clock: StageClock) -> Scored {
        let t = clock.start()
        let card = standard.evaluate(analysis.measures)
        clock.stop(.verdicts, t)
        return Scored(analysis: analysis, card: card)
    }

    /// The one place that decides whether what was heard can be scored.
    private func finished(_ stream: CallStream, path: String, formatName: String, requireSpeech: Bool) throws
        -> CallAnalysis
    {
        guard stream.durationSeconds > 0 else { throw AudioError.empty(path: path) }
        try checkLength(stream.durationSeconds, path: path)
        let result = stream.finish(file: path, formatName: formatName)
        guard !requireSpeech || result.hasSpeech else { throw AudioError.noSpeech(path: path) }
        return result
    }

    private func checkLength(_ seconds: Double, path: String) throws {
        guard seconds >= settings.minimumDurationSeconds else {
            throw AudioError.tooShort(
                path: path, durationSeconds: seconds, minimumSeconds: settings.minimumDurationSeconds)
        }
    }
}
