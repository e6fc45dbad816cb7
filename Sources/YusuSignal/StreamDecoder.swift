// Decoding a recording that is still arriving: bytes in, interleaved Float32 out.
//
// libsndfile needs a seekable file whose length it knows; a call piped from a recorder, or
// a WAV the recorder is still writing, is neither. Two decoders take bytes as they come:
//   - `WAVStreamDecoder` parses the RIFF/WAVE header (Microsoft's RIFF specification and
//     WAVE_FORMAT_EXTENSIBLE, mmreg.h): chunks before "data" are read or skipped, "fmt "
//     gives the encoding, and "data" is decoded as it arrives. A data size of 0 or
//     0xFFFFFFFF (what recorders write before they know the length), or one larger than
//     what follows, means "until the stream ends";
//   - `RawPCMDecoder` takes headerless samples whose rate, channels and encoding the user
//     names (s16le, G.711 μ-law, G.711 A-law).
// Samples are scaled exactly as libsndfile scales them (integer PCM by 2^-(bits-1),
// unsigned 8-bit around 128, G.711 through the standard 16-bit expansion, ITU-T G.711
// tables), so that a stream and the same file give the same samples, bit for bit.
// Memory: the header (at most `maximumHeaderBytes`) and one partial sample frame.
import Foundation

/// Why a stream could not be decoded.
public enum StreamDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case notWAV(String)
    case unsupported(String)
    case headerTooLong(Int)

    public var description: String {
        switch self {
        case .notWAV(let why): return "not a WAV stream: \(why)"
        case .unsupported(let why): return "unsupported WAV stream: \(why)"
        case .headerTooLong(let n): return "no audio data after \(n) bytes of WAV header"
        }
    }
}

/// Sample encodings a stream can carry.
public enum StreamEncoding: String, Sendable, CaseIterable {
    case pcmU8, pcmS16LE, pcmS24LE, pcmS32LE, floatLE, doubleLE, muLaw, aLaw

    /// The raw encodings a live call may declare, by the names `yusu live --encoding` and
    /// the service's `encoding=` take.
    public static let liveNames: [(name: String, encoding: StreamEncoding)] = [
        ("s16le", .pcmS16LE), ("ulaw", .muLaw), ("alaw", .aLaw),
    ]

    public init?(liveName: String) {
        guard let e = Self.liveNames.first(where: { $0.name == liveName })?.encoding else { return nil }
        self = e
    }

    public var bytesPerSample: Int {
        switch self {
        case .pcmU8, .muLaw, .aLaw: return 1
        case .pcmS16LE: return 2
        case .pcmS24LE: return 3
        case .pcmS32LE, .floatLE: return 4
        case .doubleLE: return 8
        }
    }

    /// Its WAVE format tag and sample size: PCM 1, IEEE float 3, A-law 6, μ-law 7.
    public var wavFormat: (tag: Int, bits: Int) {
        switch self {
        case .pcmU8: return (1, 8)
        case .pcmS16LE: return (1, 16)
        case .pcmS24LE: return (1, 24)
        case .pcmS32LE: return (1, 32)
        case .floatLE: return (3, 32)
        case .doubleLE: return (3, 64)
        case .aLaw: return (6, 8)
        case .muLaw: return (7, 8)
        }
    }

    /// A RIFF/WAVE header for `dataBytes` of samples in this encoding (fmt of 18 bytes,
    /// cbSize 0, as non-PCM tags ask), the one `WAVStreamDecoder` reads back.
    public func wavHeader(sampleRateHz: Int, channelCount: Int, dataBytes: Int) -> [UInt8] {
        var d: [UInt8] = []
        d.reserveCapacity(46)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { d += $0 } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian) { d += $0 } }
        let block = channelCount * bytesPerSample
        d += Array("RIFF".utf8)
        u32(38 + dataBytes)
        d += Array("WAVEfmt ".utf8)
        u32(18)
        u16(wavFormat.tag)
        u16(channelCount)
        u32(sampleRateHz)
        u32(sampleRateHz * block)
        u16(block)
        u16(wavFormat.bits)
        u16(0)
        d += Array("data".utf8)
        u32(dataBytes)
        return d
    }

    /// As `AudioFileInfo.formatName` names it ("WAV μ-law").
    public var formatSuffix: String {
        switch self {
        case .pcmU8: return "PCM 8-bit"
        case .pcmS16LE: return "PCM 16-bit"
        case .pcmS24LE: return "PCM 24-bit"
        case .pcmS32LE: return "PCM 32-bit"
        case .floatLE: return "float"
        case .doubleLE: return "double"
        case .muLaw: return "μ-law"
        case .aLaw: return "A-law"
        }
    }
}

/// The format of a stream, once its header is read.
public struct StreamFormat: Sendable, Equatable {
    public var sampleRateHz: Int
    public var channelCount: Int
    public var encoding: StreamEncoding
    /// "WAV PCM 16-bit", "raw μ-law".
    public var formatName: String
    /// Sample frames the header announces; nil when it does not know (a placeholder size).
    public var declaredFrames: Int64?

    public var bytesPerFrame: Int { encoding.bytesPerSample * channelCount }
}

/// Turns encoded samples into Float32, as libsndfile does.
public enum SampleDecoding {
    /// G.711 μ-law to 16-bit linear (ITU-T G.711; the expansion libsndfile's table holds).
    public static let muLawTable: [Int16] = (0..<256).map { code in
        let u = ~UInt8(code)
        var t = (Int(u & 0x0F) << 3) + 0x84
        t <<= Int(u & 0x70) >> 4
        return Int16((u & 0x80) != 0 ? 0x84 - t : t - 0x84)
    }

    /// G.711 A-law to 16-bit linear.
    public static let aLawTable: [Int16] = (0..<256).map { code in
        let a = UInt8(code) ^ 0x55
        var t = Int(a & 0x0F) << 4
        let segment = Int(a & 0x70) >> 4
        switch segment {
        case 0: t += 8
        case 1: t += 0x108
        default:
            t += 0x108
            t <<= segment - 1
        }
        return Int16((a & 0x80) != 0 ? t : -t)
    }

    /// Decodes `count` samples from `bytes` into `out` (appended).
    /// - Complexity: O(count); no allocation beyond `out`'s growth.
    @inline(__always)
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, count: Int, encoding: StreamEncoding, into out: inout [Float]
    ) {
        switch encoding {
        case .pcmU8:
            for i in 0..<count { out.append(Float(Int(bytes[i]) - 128) * (1 / 128)) }
        case .pcmS16LE: appendScaled(Int16.self, bytes, count: count, scale: 1 / 32768, into: &out)
        case .pcmS24LE:
            for i in 0..<count {
                let raw = UInt32(bytes[3 * i]) << 8 | UInt32(bytes[3 * i + 1]) << 16 | UInt32(bytes[3 * i + 2]) << 24
                out.append(Float(Int32(bitPattern: raw)) * (1 / 2_147_483_648))
            }
        case .pcmS32LE: appendScaled(Int32.self, bytes, count: count, scale: 1 / 2_147_483_648, into: &out)
        case .floatLE:
            for i in 0..<count {
                let raw = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                out.append(Float(bitPattern: raw))
            }
        case .doubleLE:
            for i in 0..<count {
                let raw = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                out.append(Float(Double(bitPattern: raw)))
            }
        case .muLaw: appendExpanded(bytes, count: count, table: muLawTable, into: &out)
        case .aLaw: appendExpanded(bytes, count: count, table: aLawTable, into: &out)
        }
    }

    /// `count` little-endian integers of type `T`, each appended as `Float(value) * scale`.
    @inline(__always)
    static func appendScaled<T: FixedWidthInteger & SignedInteger>(
        _: T.Type, _ bytes: UnsafeRawBufferPointer, count: Int, scale: Float, into out: inout [Float]
    ) {
        let size = MemoryLayout<T>.size
        for i in 0..<count {
            out.append(Float(T(littleEndian: bytes.loadUnaligned(fromByteOffset: size * i, as: T.self))) * scale)
        }
    }

    /// `count` G.711 codes, each appended as its 16-bit linear value from `table`, scaled to ±1.
    @inline(__always)
    static func appendExpanded(_ bytes: UnsafeRawBufferPointer, count: Int, table: [Int16], into out: inout [Float]) {
        table.withUnsafeBufferPointer { table in
            for i in 0..<count { out.append(Float(table[Int(bytes[i])]) * (1 / 32768)) }
        }
    }
}

/// Bytes of whole sample frames in, samples out; the bytes of a frame cut by a block
/// boundary wait for the next block.
struct FrameAssembler {
    let format: StreamFormat
    private var partial: [UInt8] = []
    /// Bytes of audio data taken so far.
    private(set) var dataBytes: Int64 = 0

    init(format: StreamFormat) {
        self.format = format
        partial.reserveCapacity(format.bytesPerFrame)
    }

    /// Bytes of an incomplete frame held back.
    var pendingBytes: Int { partial.count }

    mutating func take(_ bytes: UnsafeRawBufferPointer, into out: inout [Float]) {
        guard bytes.count > 0 else { return }
        dataBytes += Int64(bytes.count)
        let frameBytes = format.bytesPerFrame
        var rest = bytes
        if !partial.isEmpty {
            let need = frameBytes - partial.count
            let n = min(need, rest.count)
            partial.append(contentsOf: rest[rest.startIndex..<(rest.startIndex + n)])
            rest = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + n)...])
            if partial.count == frameBytes {
                partial.withUnsafeBytes {
                    SampleDecoding.decode($0, count: format.channelCount, encoding: format.encoding, into: &out)
                }
                partial.removeAll(keepingCapacity: true)
            }
        }
        let whole = rest.count / frameBytes
        if whole > 0 {
            SampleDecoding.decode(
                UnsafeRawBufferPointer(rebasing: rest[rest.startIndex..<(rest.startIndex + whole * frameBytes)]),
                count: whole * format.channelCount, encoding: format.encoding, into: &out)
        }
        let left = rest.count - whole * frameBytes
        if left > 0 { partial.append(contentsOf: rest[(rest.startIndex + whole * frameBytes)...]) }
    }
}

/// A WAV stream, header first.
public struct WAVStreamDecoder {
    /// A header (every chunk before "data") longer than this is refused: 1 MiB.
    public static let maximumHeaderBytes = 1 << 20
    public private(set) var format: StreamFormat?
    private var header: [UInt8] = []
    private var assembler: FrameAssembler?
    /// Data bytes still to come, when the header says how many.
    private var remainingData: Int64?
    /// Bytes after the data chunk (trailing chunks), ignored.
    public private(set) var trailingBytes: Int64 = 0

    public init() {}

    /// Bytes of an incomplete sample frame held back (a stream that ends now was cut mid-frame).
    public var pendingBytes: Int { assembler?.pendingBytes ?? 0 }

    /// Whether the data chunk the header announced is complete.
    public var dataComplete: Bool { remainingData == 0 }

    /// Takes the next bytes; appends decoded samples (interleaved) to `out`.
    /// - Returns: the format when the header has just been read (once), else nil.
    /// - Throws: `StreamDecodeError` when the bytes are not a WAV this decoder reads.
    @discardableResult
    public mutating func push(_ bytes: UnsafeRawBufferPointer, into out: inout [Float]) throws -> StreamFormat? {
        if assembler != nil {
            feedData(bytes, into: &out)
            return nil
        }
        header.append(contentsOf: bytes)
        guard let (parsed, dataStart, dataSize) = try Self.parseHeader(header) else {
            if header.count > Self.maximumHeaderBytes { throw StreamDecodeError.headerTooLong(header.count) }
            return nil
        }
        format = parsed
        assembler = FrameAssembler(format: parsed)
        remainingData = dataSize
        let rest = header[dataStart...]
        header = []
        Array(rest).withUnsafeBytes { feedData($0, into: &out) }
        return parsed
    }

    private mutating func feedData(_ bytes: UnsafeRawBufferPointer, into out: inout [Float]) {
        var take = bytes
        if let remaining = remainingData {
            let n = Int(min(Int64(bytes.count), remaining))
            take = UnsafeRawBufferPointer(rebasing: bytes[bytes.startIndex..<(bytes.startIndex + n)])
            remainingData = remaining - Int64(n)
            trailingBytes += Int64(bytes.count - n)
        }
        assembler!.take(take, into: &out)
    }

    /// The header's format, where the data starts and how long it is (nil: unknown), or
    /// nil while more header bytes are needed.
    static func parseHeader(_ h: [UInt8]) throws -> (StreamFormat, Int, Int64?)? {
        func u32(_ i: Int) -> UInt32 {
            UInt32(h[i]) | UInt32(h[i + 1]) << 8 | UInt32(h[i + 2]) << 16 | UInt32(h[i + 3]) << 24
        }
        func u16(_ i: Int) -> UInt16 { UInt16(h[i]) | UInt16(h[i + 1]) << 8 }
        func tag(_ i: Int) -> String { String(decoding: h[i..<(i + 4)], as: UTF8.self) }
        guard h.count >= 12 else {
            // Refuse early what cannot become a RIFF header.
            let riff = Array("RIFF".utf8)
            if !h.isEmpty && !zip(h, riff).allSatisfy({ $0 == $1 }) {
                throw StreamDecodeError.notWAV("it does not start with RIFF")
            }
            return nil
        }
        guard tag(0) == "RIFF" else {
            if tag(0) == "RF64" { throw StreamDecodeError.unsupported("RF64 (use a file path with yusu score)") }
            throw StreamDecodeError.notWAV("it does not start with RIFF")
        }
        guard tag(8) == "WAVE" else { throw StreamDecodeError.notWAV("RIFF, but not WAVE") }
        var i = 12
        var format: StreamFormat?
        while i + 8 <= h.count {
            let id = tag(i)
            let size = Int(u32(i + 4))
            let body = i + 8
            if id == "data" {
                guard let f = format else {
                    throw StreamDecodeError.notWAV("the data chunk comes before the fmt chunk")
                }
                var out = f
                let placeholder = size == 0 || size == 0xFFFF_FFFF || size == 0x7FFF_FFFF
                let dataSize: Int64? = placeholder ? nil : Int64(size)
                out.declaredFrames = dataSize.map { $0 / Int64(f.bytesPerFrame) }
                return (out, body, dataSize)
            }
            // Any other chunk must be whole before it is read or skipped (pad byte included).
            let end = body + size + (size & 1)
            guard end <= h.count else { return nil }
            if id == "fmt " {
                guard size >= 16 else { throw StreamDecodeError.notWAV("fmt chunk of \(size) bytes") }
                var tagValue = Int(u16(body))
                let channels = Int(u16(body + 2))
                let rate = Int(u32(body + 4))
                let bits = Int(u16(body + 14))
                if tagValue == 0xFFFE {
                    guard size >= 40 else {
                        throw StreamDecodeError.notWAV("WAVE_FORMAT_EXTENSIBLE fmt chunk of \(size) bytes")
                    }
                    tagValue = Int(u16(body + 24))  // the sub-format GUID's first two bytes
                }
                guard let encoding = StreamEncoding.allCases.first(where: { $0.wavFormat == (tagValue, bits) }) else {
                    throw StreamDecodeError.unsupported(
                        """
                        format tag \(tagValue) with \(bits)-bit samples (PCM 8/16/24/32, float, μ-law and A-law \
                        are read)
                        """
                    )
                }
                guard channels > 0 else { throw StreamDecodeError.notWAV("0 channels") }
                guard rate > 0 else { throw StreamDecodeError.notWAV("a sample rate of 0 Hz") }
                format = StreamFormat(
                    sampleRateHz: rate, channelCount: channels, encoding: encoding,
                    formatName: "WAV \(encoding.formatSuffix)", declaredFrames: nil)
            }
            i = end
        }
        return nil
    }
}

/// Headerless samples of a format the user names.
public struct RawPCMDecoder {
    public let format: StreamFormat
    private var assembler: FrameAssembler

    public init(sampleRateHz: Int, channelCount: Int, encoding: StreamEncoding) {
        format = StreamFormat(
            sampleRateHz: sampleRateHz, channelCount: channelCount, encoding: encoding,
            formatName: "raw \(encoding.formatSuffix)", declaredFrames: nil)
        assembler = FrameAssembler(format: format)
    }

    public var pendingBytes: Int { assembler.pendingBytes }

    public mutating func push(_ bytes: UnsafeRawBufferPointer, into out: inout [Float]) {
        assembler.take(bytes, into: &out)
    }
}
