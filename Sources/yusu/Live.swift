import ArgumentParser
import Foundation
import YusuDelivery
import YusuReport
import YusuSignal

enum RawEncoding: String, ExpressibleByArgument, CaseIterable {
    case s16le, ulaw, alaw
    var stream: StreamEncoding { StreamEncoding(liveName: rawValue)! }
}

struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Coach a call while it happens: read it as it is recorded, write JSON Lines as events are decided.",
        discussion: """
            Input: "-" reads a WAV stream on standard input (a header with a placeholder length is fine), or raw \
            samples with --rate, --channels and --encoding; --follow FILE reads a WAV (or raw) file that a recorder is \
            still writing, and ends when it has not grown for --idle-seconds.

            Output, one JSON object per line, flushed as it is written (schema/live.v1.schema.json): started; \
            utterance (each agent utterance: syllables, rate_cpm, its ending); sinking_ending; filled_pause; \
            backchannel; interruption; hold; alert (too_fast, too_slow, rate_ok over the agent's last 30 s of talk \
            with 5% hysteresis, said again every --rate-reminder-s while out of the band; talking_over_customer while \
            the agent has been talking over the customer for longer than a backchannel (0.6 s); hold_too_long the \
            moment a silence reaches max_hold_s; no_acknowledgement the moment a customer turn reaches \
            listening_turn_s without a sound from the agent); warning; and last, summary, whose document is what \
            score --format json prints for the same audio. Every line carries emitted_at_s, the audio time the \
            analysis had reached when it decided the line (the line is written once the analysis step holding that \
            time has been read: --analysis-step-ms); event times use score's names (start_s, end_s, at_s).

            Exit status: 0 the stream ended and the summary was written; 1 the stream cannot be analysed (one line on \
            stderr says why); 2 the standard file is invalid; 130 stopped by Ctrl-C or SIGTERM (the summary of what \
            was heard is written first).
            """
    )

    @Argument(help: "\"-\" to read standard input.")
    var input: String?

    @Option(name: .long, help: "Read this file as it grows (a recorder still writing it).")
    var follow: String?

    @Option(name: .long, help: "With --follow: end when the file has not grown for this many seconds.")
    var idleSeconds: Double = 10

    @Option(
        name: .long,
        help:
            """
            Raw input: sample rate, Hz (8000–48000). With --channels and --encoding; without them the input is a \
            WAV stream.
            """
    )
    var rate: Int?

    @Option(name: .long, help: "Raw input: channels (1 or 2, interleaved).")
    var channels: Int?

    @Option(name: .long, help: "Raw input: sample encoding: s16le, ulaw (G.711 μ-law), alaw (G.711 A-law).")
    var encoding: RawEncoding?

    @Option(name: .long, help: "Channel that carries the agent in a stereo stream (0 or 1).")
    var agentChannel: Int = 0

    @OptionGroup var standard: StandardOption

    @Option(
        name: .long,
        help:
            """
            The recording's name in the summary (score reports the file's name); default: the followed file's \
            name, or \"-\".
            """
    )
    var name: String?

    @OptionGroup var duration: DurationLimitOption

    @OptionGroup var step: AnalysisStepOption

    @Option(
        name: .long,
        help:
            """
            While the agent's rate stays out of the band, say too_fast / too_slow again after this many seconds \
            of audio (0: once).
            """)
    var rateReminderS: Double = 30

    func validate() throws {
        guard rateReminderS >= 0 && rateReminderS <= 3_600 else {
            throw ValidationError("--rate-reminder-s must be from 0 to 3600 (got \(rateReminderS))")
        }
        switch (input, follow) {
        case (nil, nil): throw ValidationError("give \"-\" to read standard input, or --follow FILE")
        case (.some, .some): throw ValidationError("give either \"-\" or --follow FILE, not both")
        case (.some(let i), nil) where i != "-":
            throw ValidationError(
                """
                live reads a stream: give \"-\" for standard input, or --follow \(i); to score a finished \
                recording use yusu score \(i)
                """
            )
        default: break
        }
        let raw = [rate != nil, channels != nil, encoding != nil]
        if raw.contains(true) && raw.contains(false) {
            throw ValidationError("raw input needs all of --rate, --channels and --encoding")
        }
        if let rate, !AudioFileReader.supportedSampleRatesHz.contains(rate) {
            throw ValidationError("--rate must be from 8000 to 48000 Hz (got \(rate))")
        }
        if let channels, !AudioFileReader.supportedChannelCounts.contains(channels) {
            throw ValidationError("--channels must be 1 or 2 (got \(channels))")
        }
        guard agentChannel == 0 || agentChannel == 1 else {
            throw ValidationError("--agent-channel must be 0 or 1 (got \(agentChannel))")
        }
        guard idleSeconds > 0 && idleSeconds <= 86_400 else {
            throw ValidationError("--idle-seconds must be above 0 and at most 86400 (got \(idleSeconds))")
        }
    }

    func run() throws {
        let rules = try standard.load()
        let label = name ?? follow.map { ($0 as NSString).lastPathComponent } ?? "-"
        let source: ByteSource
        if let follow {
            do { source = try FollowedFile(path: follow, idleSeconds: idleSeconds) } catch let error as AudioError {
                printError(error.description)
                throw ExitStatus.badInput
            }
        } else {
            source = StandardInput()
        }
        let stop = StopFlag()
        let signals = StopSignals(message: "yusu live: stopping: the summary of what was heard follows") { stop.stop() }
        defer { withExtendedLifetime(signals) {} }
        var settings = AnalysisSettings()
        settings.limits.maximumDurationSeconds = duration.maxDurationS
        var session = LiveSession(
            label: label, standard: rules, settings: settings, agentChannel: agentChannel,
            raw: rate.map { RawPCMDecoder(sampleRateHz: $0, channelCount: channels!, encoding: encoding!.stream) },
            analysisStepSeconds: step.seconds(or: 0))
        session.rateSettings.reminderSeconds = rateReminderS
        let out = FileHandle.standardOutput
        session.write = { out.write(Data($0.utf8)) }
        do {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while !stop.isStopped {
                let n = try source.read(into: &buffer, stop: stop)
                if n == 0 { break }
                try buffer.withUnsafeBytes { try session.push(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            try session.finish(stopped: stop.isStopped)
        } catch let error as LiveSession.Failure {
            printError("\(label): \(error.reason)")
            throw ExitStatus.badInput
        }
        if stop.isStopped { throw ExitCode(130) }
    }
}

/// Where the bytes come from.
protocol ByteSource {
    /// Reads what is available (waiting for some); 0 at the end of the stream.
    func read(into buffer: inout [UInt8], stop: StopFlag) throws -> Int
}

/// Standard input: waits in short polls, so that a stop request is seen.
struct StandardInput: ByteSource {
    func read(into buffer: inout [UInt8], stop: StopFlag) throws -> Int {
        while !stop.isStopped {
            var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 200)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { Foundation.read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw LiveSession.Failure(reason: "standard input cannot be read: \(String(cString: strerror(errno)))")
            }
            return n
        }
        return 0
    }
}

/// A file that a recorder is still writing: read to its current end, then wait for it to
/// grow; the stream ends when it has not grown for `idleSeconds`.
final class FollowedFile: ByteSource {
    let path: String
    let idleSeconds: Double
    private let fd: Int32
    private var offset: Int64 = 0

    init(path: String, idleSeconds: Double) throws {
        self.path = path
        self.idleSeconds = idleSeconds
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw AudioError.notFound(path: path) }
            throw AudioError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw AudioError.notRegularFile(path: path, kind: "not a regular file")
        }
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw AudioError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    func read(into buffer: inout [UInt8], stop: StopFlag) throws -> Int {
        var idleSince = Date()
        while !stop.isStopped {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LiveSession.Failure(reason: "cannot be read: \(String(cString: strerror(errno)))")
            }
            if n > 0 {
                offset += Int64(n)
                return n
            }
            var status = stat()
            if fstat(fd, &status) == 0 && Int64(status.st_size) < offset {
                throw LiveSession.Failure(
                    reason:
                        """
                        the file shrank from \(offset) to \(status.st_size) bytes while it was followed (replaced \
                        or truncated)
                        """
                )
            }
            if Date().timeIntervalSince(idleSince) >= idleSeconds { return 0 }
            usleep(50_000)
            if n > 0 { idleSince = Date() }
        }
        return 0
    }
}
