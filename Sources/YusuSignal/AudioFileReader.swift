// Decoding with libsndfile (http://libsndfile.github.io/libsndfile/api.html).
//
// Whatever libsndfile reads (WAV PCM 16/24/32, float, μ-law, A-law, FLAC, OGG, ...) comes
// out as interleaved Float32 in [-1, 1], block by block, so a recording of hours never sits
// in memory whole. Checks made before any sample is read: the file exists, libsndfile
// recognises it, 1–2 channels, 8–48 kHz, not empty. A short read before the header's
// frame count is reported as truncation. An MP3 without a gapless tag starts after its
// codec delay (`MP3StartDelay`). libmpg123's own notes on a damaged MP3 never reach the
// terminal: `CDecoderNotes` keeps them, and they are folded into the reason.
import CDecoderNotes
import CSndFile
import Foundation

/// What a recording is, read from its header.
public struct AudioFileInfo: Sendable, Equatable {
    public var path: String
    public var sampleRateHz: Int
    public var channelCount: Int
    /// Sample frames (one sample per channel) the header announces.
    public var frameCount: Int64
    /// e.g. "WAV μ-law", "FLAC PCM 16-bit".
    public var formatName: String

    public var durationSeconds: Double { Double(frameCount) / Double(sampleRateHz) }
}

/// Reads a sound file in blocks of interleaved Float32 samples.
///
/// Not thread-safe; one reader per file. The file is closed on `deinit`.
public final class AudioFileReader {
    public static let supportedSampleRatesHz = 8_000...48_000
    public static let supportedChannelCounts = 1...2

    public let info: AudioFileInfo
    private static let openLock = NSLock()
    private var handle: OpaquePointer?
    private var framesRead: Int64 = 0
    /// Decoded frames before the recording's first (an MP3's codec delay), still to drop.
    private var pendingSkip: Int64 = 0
    /// An MP3 (libmpg123 through libsndfile), whose failures carry the decoder's note.
    private var isMPEG = false

    /// The limits this reader was opened with.
    public let limits: InputLimits

    /// Opens `path` and validates its header.
    /// - Parameter limits: how large and how long a file may be; checked before decoding
    ///   (size, the header's duration) and while reading (a header that under-states).
    /// - Throws: `AudioError` naming the file and the reason.
    public init(path: String, limits: InputLimits = InputLimits()) throws {
        self.limits = limits
        try Self.checkFile(path: path, limits: limits)
        // Permission and I/O problems are the operator's to fix, not "not audio": ask the OS first.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw AudioError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        var sfInfo = SF_INFO()
        // libsndfile reports a failed open through one process-wide error slot (sf_error(NULL));
        // under --jobs another thread's open could overwrite it between the two calls, so the
        // open and the reading of its error happen under one lock.
        let opened: (OpaquePointer?, Int32, String) = Self.openLock.withLock {
            yusu_decoder_notes_clear()
            let h = sf_open(path, Int32(SFM_READ), &sfInfo)
            return h == nil ? (nil, sf_error(nil), String(cString: sf_strerror(nil))) : (h, 0, "")
        }
        guard let handle = opened.0 else {
            let note = String(cString: yusu_decoder_notes_last())
            let reason =
                note.isEmpty ? opened.2 : "\(opened.2.trimmingCharacters(in: .whitespaces)) MP3 decoder: \(note)"
            throw AudioError.unreadable(path: path, reason: reason, status: opened.1)
        }
        self.handle = handle
        isMPEG = yusu_sf_major_format(Int32(sfInfo.format)) == Int32(SF_FORMAT_MPEG)
        // An MP3 without a gapless tag decodes late by the codec's delay: drop it (see
        // `MP3StartDelay`), so every time printed is the recording's own.
        let skip = isMPEG ? Int64(MP3StartDelay.samplesToSkip(path: path)) : 0
        pendingSkip = min(skip, Int64(sfInfo.frames))
        let info = AudioFileInfo(
            path: path,
            sampleRateHz: Int(sfInfo.samplerate),
            channelCount: Int(sfInfo.channels),
            frameCount: Int64(sfInfo.frames) - pendingSkip,
            formatName: Self.formatName(Int32(sfInfo.format))
        )
        self.info = info
        guard Self.supportedChannelCounts.contains(info.channelCount) else {
            throw AudioError.unsupportedChannelCount(path: path, channels: info.channelCount)
        }
        guard Self.supportedSampleRatesHz.contains(info.sampleRateHz) else {
            throw AudioError.unsupportedSampleRate(
                path: path, sampleRateHz: info.sampleRateHz, supported: Self.supportedSampleRatesHz)
        }
        guard info.frameCount > 0 else { throw AudioError.empty(path: path) }
        if info.durationSeconds > limits.maximumDurationSeconds {
            throw AudioError.tooLong(
                path: path, durationSeconds: info.durationSeconds, limitSeconds: limits.maximumDurationSeconds)
        }
        if let expected = Self.truncatedDataChunk(
            handle, blockAlign: Int64(info.channelCount) * Self.bytesPerSample(Int32(sfInfo.format)))
        {
            throw AudioError.truncated(path: path, expectedFrames: expected, readFrames: info.frameCount)
        }
        // Float reads of integer formats scale to [-1, 1) (SFC_SET_NORM_FLOAT is on by default);
        // clipping keeps out-of-range float files from surprising the level measure.
        sf_command(handle, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
    }

    deinit {
        if let handle { sf_close(handle) }
    }

    /// What the path is, before anything opens it: a regular file of a size within the
    /// limit. Opening a FIFO blocks until a writer comes, and a device such as /dev/zero
    /// never ends, so neither is read at all.
    /// - Returns: the file's size, bytes.
    /// - Throws: `AudioError` naming the file and what it is.
    @discardableResult
    public static func checkFile(path: String, limits: InputLimits) throws -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw AudioError.notFound(path: path) }
            throw AudioError.cannotOpen(path: path, reason: String(cString: strerror(code)))
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw AudioError.cannotOpen(path: path, reason: "it is a folder, not a file")
        case S_IFIFO: throw AudioError.notRegularFile(path: path, kind: "a FIFO (named pipe)")
        case S_IFCHR: throw AudioError.notRegularFile(path: path, kind: "a character device")
        case S_IFBLK: throw AudioError.notRegularFile(path: path, kind: "a block device")
        case S_IFSOCK: throw AudioError.notRegularFile(path: path, kind: "a socket")
        default: throw AudioError.notRegularFile(path: path, kind: "not a file")
        }
        let bytes = Int64(status.st_size)
        if bytes > limits.maximumFileBytes {
            throw AudioError.tooLarge(path: path, bytes: bytes, limitBytes: limits.maximumFileBytes)
        }
        if bytes == 0 { throw AudioError.empty(path: path) }
        return bytes
    }

    /// Reads up to `buffer.count / channelCount` frames into `buffer` (interleaved).
    /// - Returns: frames read; 0 at the end of the file.
    /// - Throws: `AudioError.truncated` when the file ends before the header's frame count.
    public func read(into buffer: inout [Float]) throws -> Int {
        guard let handle else { return 0 }
        let wanted = buffer.count / info.channelCount
        guard wanted > 0 else { return 0 }
        while pendingSkip > 0 {
            let drop = min(Int64(wanted), pendingSkip)
            let dropped = buffer.withUnsafeMutableBufferPointer {
                sf_readf_float(handle, $0.baseAddress, sf_count_t(drop))
            }
            guard dropped > 0 else {
                pendingSkip = 0
                break
            }
            pendingSkip -= Int64(dropped)
        }
        let remaining = info.frameCount - framesRead
        if remaining <= 0 { return 0 }
        let request = Int64(min(Int64(wanted), remaining))
        if isMPEG { yusu_decoder_notes_clear() }
        let got = buffer.withUnsafeMutableBufferPointer { pointer in
            sf_readf_float(handle, pointer.baseAddress, sf_count_t(request))
        }
        framesRead += Int64(got)
        if Double(framesRead) > limits.maximumDurationSeconds * Double(info.sampleRateHz) {
            throw AudioError.tooLong(
                path: info.path, durationSeconds: Double(framesRead) / Double(info.sampleRateHz),
                limitSeconds: limits.maximumDurationSeconds)
        }
        if got < request {
            // libsndfile stops at the real end of the data; a header that promised more is a
            // truncated file (a partial copy, an interrupted upload).
            let missing = info.frameCount - framesRead
            // Tolerate a sub-millisecond shortfall: some encoders round the header.
            if Double(missing) > Double(info.sampleRateHz) * 0.001 {
                if isMPEG {
                    let note = String(cString: yusu_decoder_notes_last())
                    let rate = Double(info.sampleRateHz)
                    throw AudioError.damaged(
                        path: info.path, format: "MP3", atSeconds: Double(framesRead) / rate,
                        announcedSeconds: Double(info.frameCount) / rate,
                        decoderSays: note.isEmpty ? "no valid MPEG frame after that point" : note)
                }
                throw AudioError.truncated(path: info.path, expectedFrames: info.frameCount, readFrames: framesRead)
            }
            framesRead = info.frameCount
        }
        return Int(got)
    }

    /// libsndfile opens a WAV whose data chunk runs past the end of the file and quietly
    /// shortens it; its log says "data : N (should be M)". A real size (not a streaming
    /// placeholder of 0 or 0xFFFFFFFF) larger than the file means the file was cut short.
    /// - Returns: the frames the header promised, when the file is truncated.
    private static func truncatedDataChunk(_ handle: OpaquePointer, blockAlign: Int64) -> Int64? {
        var log = [CChar](repeating: 0, count: 8192)
        sf_command(handle, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data") && line.contains("should be") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int64($0) }
            guard numbers.count >= 2, blockAlign > 0 else { continue }
            let declared = numbers[0]
            let actual = numbers[1]
            if declared > actual && declared != 0 && declared < 0xFFFF_FFFF && declared != 0x7FFF_FFFF {
                return declared / blockAlign
            }
        }
        return nil
    }

    private static func bytesPerSample(_ format: Int32) -> Int64 {
        switch yusu_sf_subtype(format) {
        case Int32(SF_FORMAT_PCM_S8), Int32(SF_FORMAT_PCM_U8), Int32(SF_FORMAT_ULAW), Int32(SF_FORMAT_ALAW): return 1
        case Int32(SF_FORMAT_PCM_16): return 2
        case Int32(SF_FORMAT_PCM_24): return 3
        case Int32(SF_FORMAT_PCM_32), Int32(SF_FORMAT_FLOAT): return 4
        case Int32(SF_FORMAT_DOUBLE): return 8
        default: return 0
        }
    }

    private static let majorNames: [Int32: String] = [
        Int32(SF_FORMAT_WAV): "WAV", Int32(SF_FORMAT_WAVEX): "WAV", Int32(SF_FORMAT_FLAC): "FLAC",
        Int32(SF_FORMAT_OGG): "OGG", Int32(SF_FORMAT_AIFF): "AIFF", Int32(SF_FORMAT_AU): "AU",
        Int32(SF_FORMAT_RAW): "RAW", Int32(SF_FORMAT_W64): "W64", Int32(SF_FORMAT_RF64): "RF64",
        Int32(SF_FORMAT_MPEG): "MP3", Int32(SF_FORMAT_CAF): "CAF",
    ]
    private static let subtypeNames: [Int32: String] = [
        Int32(SF_FORMAT_PCM_S8): "PCM 8-bit", Int32(SF_FORMAT_PCM_U8): "PCM 8-bit",
        Int32(SF_FORMAT_PCM_16): "PCM 16-bit", Int32(SF_FORMAT_PCM_24): "PCM 24-bit",
        Int32(SF_FORMAT_PCM_32): "PCM 32-bit", Int32(SF_FORMAT_FLOAT): "float", Int32(SF_FORMAT_DOUBLE): "double",
        Int32(SF_FORMAT_ULAW): "μ-law", Int32(SF_FORMAT_ALAW): "A-law", Int32(SF_FORMAT_VORBIS): "Vorbis",
        Int32(SF_FORMAT_OPUS): "Opus",
    ]

    /// "WAV μ-law", "FLAC PCM 16-bit", "MP3".
    private static func formatName(_ format: Int32) -> String {
        let major = majorNames[yusu_sf_major_format(format)] ?? "audio"
        let sub = subtypeNames[yusu_sf_subtype(format)] ?? ""
        return sub.isEmpty ? major : "\(major) \(sub)"
    }
}
