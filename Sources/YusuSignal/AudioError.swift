/// Why a recording could not be analysed. Each case names the file and carries a reason a
/// person can act on; `description` is the one-line message the CLI prints.
public enum AudioError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The path does not exist or is not a regular file.
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
    /// Decoded fine, but no channel holds any speech (digital silence, or line noise only).
    case noSpeech(path: String)
    /// `--agent-channel` names a channel the file does not have.
    case noSuchChannel(path: String, channel: Int, channels: Int)
    /// The file exists but cannot be opened (permission denied, a directory, an I/O error).
    case cannotOpen(path: String, reason: String)
    /// A decoded sample is NaN or infinite: the data is corrupt, and no measure of it is true.
    case invalidSample(path: String, frame: Int64, channel: Int, sampleRateHz: Int, value: Float)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "\(path): no such file"
        case .unreadable(let path, let reason, let status):
            return "\(path): not a readable audio file (\(reason); libsndfile status \(status))"
        case .empty(let path):
            return "\(path): the recording is empty (0 samples)"
        case .tooShort(let path, let duration, let minimum):
            return "\(path): the recording is too short to analyse (\(formatSeconds(duration)) s; at least \(formatSeconds(minimum)) s needed)"
        case .unsupportedChannelCount(let path, let channels):
            return "\(path): \(channels) channels; Yusu analyses mono or stereo (agent and customer) recordings"
        case .unsupportedSampleRate(let path, let rate, let supported):
            return "\(path): sample rate \(rate) Hz is outside the supported \(supported.lowerBound)–\(supported.upperBound) Hz"
        case .truncated(let path, let expected, let read):
            return "\(path): the file is truncated (header says \(expected) sample frames, only \(read) could be read)"
        case .noSpeech(let path):
            return "\(path): no speech found on any channel (the recording is silent or holds only line noise)"
        case .noSuchChannel(let path, let channel, let channels):
            return "\(path): there is no channel \(channel) (the file has \(channels); channels count from 0)"
        case .cannotOpen(let path, let reason):
            return "\(path): cannot be opened (\(reason))"
        case .invalidSample(let path, let frame, let channel, let rate, let value):
            return "\(path): corrupt sample data: sample frame \(frame) (\(formatSeconds(Double(frame) / Double(rate))) s), channel \(channel) is \(value); every sample must be a finite number"
        }
    }
}

@usableFromInline
func formatSeconds(_ seconds: Double) -> String {
    String(format: "%.3f", seconds)
}
