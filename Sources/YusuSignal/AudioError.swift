import Foundation

/// Why a recording could not be analysed. Each case names the file and carries a reason a
/// person can act on; `description` is the one-line message the CLI prints, and `reason`
/// the same without the path (for places that show the path beside it: a batch's log line,
/// a report's failed-files table).
public enum AudioError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The path does not exist.
    case notFound(path: String)
    /// libsndfile could not open it: not audio, unsupported, or damaged. Keeps libsndfile's
    /// own reason and status code (as swift-nio's `IOError` keeps errno).
    case unreadable(path: String, reason: String, status: Int32)
    /// The file holds no samples at all.
    case empty(path: String)
    /// Shorter than the shortest recording worth analysing.
    case tooShort(path: String, durationSeconds: Double, minimumSeconds: Double)
    /// A channel count Yusu does not handle (only mono and stereo calls).
    case unsupportedChannelCount(path: String, channels: Int)
    /// A sample rate outside the range Yusu analyses.
    case unsupportedSampleRate(path: String, sampleRateHz: Int, supported: ClosedRange<Int>)
    /// Decoding stopped early: the header promised more samples than the file holds.
    case truncated(path: String, expectedFrames: Int64, readFrames: Int64)
    /// The decoder stopped inside the stream, before the length its header announces (an
    /// MP3 cut short, or its frames damaged there), with the decoder's own words when it
    /// gave any (libmpg123's, which never reach the terminal).
    case damaged(path: String, format: String, atSeconds: Double, announcedSeconds: Double, decoderSays: String)
    /// Decoded fine, but no channel holds any speech (digital silence, or line noise only).
    case noSpeech(path: String)
    /// `--agent-channel` names a channel the file does not have.
    case noSuchChannel(path: String, channel: Int, channels: Int)
    /// The file exists but cannot be opened (permission denied, a directory, an I/O error).
    case cannotOpen(path: String, reason: String)
    /// A decoded sample is NaN or infinite: the data is corrupt, and no measure of it is true.
    case invalidSample(path: String, frame: Int64, channel: Int, sampleRateHz: Int, value: Float)
    /// Not a regular file: a FIFO, a device (/dev/zero, /dev/urandom), a socket. Such an
    /// input may never end; a stream is `yusu live`'s job.
    case notRegularFile(path: String, kind: String)
    /// Larger than the limit a file's work is allowed (`InputLimits.maximumFileBytes`).
    case tooLarge(path: String, bytes: Int64, limitBytes: Int64)
    /// Longer than the limit (`InputLimits.maximumDurationSeconds`), by its header or as decoded.
    case tooLong(path: String, durationSeconds: Double, limitSeconds: Double)

    /// The path the error is about.
    public var path: String {
        switch self {
        case .notFound(let p), .unreadable(let p, _, _), .empty(let p), .tooShort(let p, _, _),
            .unsupportedChannelCount(let p, _),
            .unsupportedSampleRate(let p, _, _), .truncated(let p, _, _), .damaged(let p, _, _, _, _), .noSpeech(let p),
            .noSuchChannel(let p, _, _),
            .cannotOpen(let p, _), .invalidSample(let p, _, _, _, _), .notRegularFile(let p, _), .tooLarge(let p, _, _),
            .tooLong(let p, _, _):
            return p
        }
    }

    /// What is wrong, without the path.
    public var reason: String {
        switch self {
        case .notFound:
            return "no such file"
        case .unreadable(_, let reason, let status):
            // libsndfile's sentences end with a full stop; inside the brackets they do not.
            let said = reason.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
            return "not a readable audio file (\(said); libsndfile status \(status))"
        case .empty:
            return "the recording is empty (0 samples)"
        case .tooShort(_, let duration, let minimum):
            return
                """
                the recording is too short to analyse (\(formatSeconds(duration)) s; at least \
                \(formatSeconds(minimum)) s needed)
                """
        case .unsupportedChannelCount(_, let channels):
            return "\(channels) channels; Yusu analyses mono or stereo (agent and customer) recordings"
        case .unsupportedSampleRate(_, let rate, let supported):
            return "sample rate \(rate) Hz is outside the supported \(supported.lowerBound)–\(supported.upperBound) Hz"
        case .truncated(_, let expected, let read):
            return "the file is truncated (header says \(expected) sample frames, only \(read) could be read)"
        case .damaged(_, let format, let at, let announced, let says):
            return
                """
                the \(format) stream ends \(formatSeconds(at)) s in, where its header announces \
                \(formatSeconds(announced)) s: the file is cut short or damaged there (the decoder: \
                \(says.trimmingCharacters(in: CharacterSet(charactersIn: ". "))))
                """
        case .noSpeech:
            return "no speech found on any channel (the recording is silent or holds only line noise)"
        case .noSuchChannel(_, let channel, let channels):
            return "there is no channel \(channel) (the file has \(channels); channels count from 0)"
        case .cannotOpen(_, let reason):
            return "cannot be opened (\(reason))"
        case .invalidSample(_, let frame, let channel, let rate, let value):
            return
                """
                corrupt sample data: sample frame \(frame) (\(formatSeconds(Double(frame) / Double(rate))) s), \
                channel \(channel) is \(value); every sample must be a finite number
                """
        case .notRegularFile(_, let kind):
            return
                """
                not a regular file (\(kind)); Yusu scores recordings stored as files. A stream that is still being \
                recorded is for 'yusu live'
                """
        case .tooLarge(_, let bytes, let limit):
            return "the file is \(megabytes(bytes)) MB, over the limit of \(megabytes(limit)) MB (--max-file-mb)"
        case .tooLong(_, let duration, let limit):
            return
                """
                the recording is \(formatSeconds(duration)) s long, over the limit of \(formatSeconds(limit)) s \
                (--max-duration-s)
                """
        }
    }

    public var description: String { "\(path): \(reason)" }
}

@usableFromInline
func formatSeconds(_ seconds: Double) -> String {
    String(format: "%.3f", seconds)
}

func megabytes(_ bytes: Int64) -> String {
    let mb = Double(bytes) / 1_048_576
    return mb >= 10 ? String(format: "%.0f", mb) : String(format: "%.1f", mb)
}

/// How much work one file may cost: a file larger or longer than this is refused before
/// (or, when its header under-states it, during) decoding, so that no single input can
/// hold a batch for ever. Defaults fit any real call recording with a wide margin.
public struct InputLimits: Sendable, Equatable {
    /// Largest file accepted, bytes (default 4 GiB: 37 hours of 8 kHz stereo 16-bit PCM).
    public var maximumFileBytes: Int64 = 4 << 30
    /// Longest recording accepted, seconds (default 12 hours).
    public var maximumDurationSeconds: Double = 12 * 3600

    public init(maximumFileBytes: Int64 = 4 << 30, maximumDurationSeconds: Double = 12 * 3600) {
        self.maximumFileBytes = maximumFileBytes
        self.maximumDurationSeconds = maximumDurationSeconds
    }
}

/// A stop request shared across threads: a batch's signal handler sets it, and hashing and
/// decoding check it between blocks, so a stop never waits for a long file to finish.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    public init() {}
    public func stop() { lock.withLock { stopped = true } }
    public var isStopped: Bool { lock.withLock { stopped } }
}

/// Thrown by work that noticed a stop request: the file was not finished, and is not a
/// failure of the file.
public struct StopRequested: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "stopped before the file was finished" }
}
