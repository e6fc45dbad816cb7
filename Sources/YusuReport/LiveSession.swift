import Foundation
import YusuDelivery
import YusuSignal

/// One live call: bytes in, lines out. (`yusu serve` drives the same session from a socket.)
public struct LiveSession {
    public struct Failure: Error, Sendable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    public let label: String
    public let standard: Standard
    public let settings: AnalysisSettings
    public let agentChannel: Int
    /// Audio analysed at a time, seconds (`CallOptions.analysisStepSeconds`).
    public let analysisStepSeconds: Double
    /// Where the lines go (each ends with a newline; the summary comes in pieces).
    public var write: (String) -> Void = { _ in }
    /// Each line as it is decided, typed (the summary excepted), for whoever shows them
    /// (the service's live board) without parsing the text back.
    public var observe: (LiveLine) -> Void = { _ in }
    private var wav = WAVStreamDecoder()
    private var raw: RawPCMDecoder?
    private var stream: CallStream?
    private var coach: LiveCoach?
    private var format: StreamFormat?
    private var samples: [Float] = []

    /// How the rate alerts are said (window, hysteresis, reminders).
    public var rateSettings = LiveRateSettings()
    /// The call's measures and verdicts, once `finish` has written the summary.
    public private(set) var scored: CallScorer.Scored?

    public init(
        label: String, standard: Standard, settings: AnalysisSettings, agentChannel: Int, raw: RawPCMDecoder?,
        analysisStepSeconds: Double = 0
    ) {
        self.label = label
        self.standard = standard
        self.settings = settings
        self.agentChannel = agentChannel
        self.analysisStepSeconds = analysisStepSeconds
        self.raw = raw
        samples.reserveCapacity(1 << 17)
    }

    public mutating func push(_ bytes: UnsafeRawBufferPointer) throws {
        samples.removeAll(keepingCapacity: true)
        if raw != nil {
            raw!.push(bytes, into: &samples)
            if stream == nil { try begin(raw!.format) }
        } else {
            let header: StreamFormat?
            do { header = try wav.push(bytes, into: &samples) } catch let error as StreamDecodeError {
                throw Failure(reason: error.description)
            }
            if let header { try begin(header) }
        }
        guard let stream, let format, !samples.isEmpty else { return }
        let frames = samples.count / format.channelCount
        if stream.durationSeconds + Double(frames) / Double(format.sampleRateHz)
            > settings.limits.maximumDurationSeconds
        {
            let limit = settings.limits.maximumDurationSeconds
            throw Failure(
                reason:
                    """
                    the stream passed the limit of \
                    \(limit == limit.rounded() ? String(Int(limit)) : String(limit)) s (--max-duration-s)
                    """
            )
        }
        do { try stream.push(&samples, frames: frames) } catch SampleError.nonFinite(let frame, let channel, let value)
        {
            throw Failure(
                reason: AudioError.invalidSample(
                    path: label, frame: frame, channel: channel, sampleRateHz: format.sampleRateHz, value: value
                ).reason)
        }
    }

    private mutating func begin(_ f: StreamFormat) throws {
        guard AudioFileReader.supportedChannelCounts.contains(f.channelCount) else {
            throw Failure(reason: AudioError.unsupportedChannelCount(path: label, channels: f.channelCount).reason)
        }
        guard AudioFileReader.supportedSampleRatesHz.contains(f.sampleRateHz) else {
            throw Failure(
                reason: AudioError.unsupportedSampleRate(
                    path: label, sampleRateHz: f.sampleRateHz, supported: AudioFileReader.supportedSampleRatesHz
                ).reason)
        }
        guard agentChannel < f.channelCount else {
            throw Failure(
                reason: AudioError.noSuchChannel(path: label, channel: agentChannel, channels: f.channelCount).reason)
        }
        format = f
        let expected = f.declaredFrames.map { Double($0) / Double(f.sampleRateHz) }
        let s = CallStream(
            sampleRateHz: f.sampleRateHz, channelCount: f.channelCount,
            options: CallOptions(agentChannel: agentChannel, analysisStepSeconds: analysisStepSeconds),
            settings: settings, expectedDurationSeconds: expected)
        let write = self.write
        let observe = self.observe
        let c = LiveCoach(standard: standard, delivery: settings.delivery, rateSettings: rateSettings) {
            observe($0)
            write(LiveJSON.render($0) + "\n")
        }
        s.listener = c
        stream = s
        coach = c
        c.started(
            sampleRateHz: f.sampleRateHz, channels: f.channelCount, formatName: f.formatName, agentChannel: agentChannel
        )
    }

    public mutating func finish(stopped: Bool) throws {
        guard let stream, let format, let coach else {
            throw Failure(
                reason: wav.format == nil && raw == nil
                    ? "the stream ended before a WAV header (no audio)" : AudioError.empty(path: label).reason)
        }
        var warnings: [String] = []
        let pending = raw?.pendingBytes ?? wav.pendingBytes
        if pending > 0 {
            warnings.append(
                """
                the stream ended \(pending) bytes into a sample frame of \(format.bytesPerFrame) bytes; those \
                bytes were dropped
                """
            )
        }
        if let declared = format.declaredFrames, raw == nil, !wav.dataComplete, !stopped {
            let heard = Int64((stream.durationSeconds * Double(format.sampleRateHz)).rounded())
            warnings.append("the stream ended after \(heard) of the \(declared) sample frames its header announced")
        }
        if stopped {
            warnings.append(
                """
                stopped before the stream ended: the summary covers the first \
                \(String(format: "%.1f", stream.durationSeconds)) s
                """
            )
        }
        for w in warnings { coach.warning(w, at: stream.durationSeconds) }
        let scored: CallScorer.Scored
        do {
            scored = try CallScorer(standard: standard, settings: settings)
                .finish(stream, name: label, formatName: format.formatName, warnings: warnings)
        } catch let error as AudioError {
            throw Failure(reason: error.reason)
        }
        self.scored = scored
        do {
            try LiveJSON.writeSummary(scored.measures, scored.card, emittedAtSeconds: stream.durationSeconds, to: write)
        } catch {
            throw Failure(reason: "internal error, the summary cannot be written as JSON (\(error))")
        }
    }
}

extension LiveSession {
    /// Audio seconds heard so far.
    public var heardSeconds: Double { stream?.durationSeconds ?? 0 }

    /// A silence of hold length going on now: since when, seconds so far (nil when someone
    /// spoke in the last half second the analysis has decided).
    public var silenceNow: (fromSeconds: Double, seconds: Double)? {
        guard let s = coach?.lastSilence, heardSeconds - s.at < 0.5 else { return nil }
        return (s.fromSeconds, s.seconds + (heardSeconds - s.at))
    }
}
