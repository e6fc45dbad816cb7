import Foundation
import Testing
import YusuTestSupport

@testable import YusuSignal

/// A WAV file's bytes, built by hand: `fmt ` (plain or WAVE_FORMAT_EXTENSIBLE), optional
/// chunks before and after the data, a chosen data size field.
func wavBytes(
    tag: UInt16, bits: Int, channels: Int, rateHz: Int, data: [UInt8], extensible: Bool = false,
    extraChunkBefore: Bool = false, trailingChunk: Bool = false, dataSizeField: UInt32? = nil
) -> [UInt8] {
    func le32(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
    }
    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    let blockAlign = UInt16(channels * bits / 8)
    var fmt =
        le16(extensible ? 0xFFFE : tag) + le16(UInt16(channels)) + le32(UInt32(rateHz))
        + le32(UInt32(rateHz) * UInt32(blockAlign)) + le16(blockAlign) + le16(UInt16(bits))
    if extensible {
        // cbSize 22, valid bits, channel mask, sub-format GUID (tag, then the fixed tail).
        fmt +=
            le16(22) + le16(UInt16(bits)) + le32(channels == 2 ? 3 : 4) + le16(tag)
            + [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
    } else if tag != 1 {
        fmt += le16(0)
    }
    var body = Array("WAVE".utf8) + Array("fmt ".utf8) + le32(UInt32(fmt.count)) + fmt
    if extraChunkBefore { body += Array("LIST".utf8) + le32(5) + Array("INFOx".utf8) + [0] }  // odd size: a pad byte
    if tag != 1 && !extensible {
        body += Array("fact".utf8) + le32(4) + le32(UInt32(data.count / max(1, Int(blockAlign))))
    }
    body += Array("data".utf8) + le32(dataSizeField ?? UInt32(data.count)) + data
    if data.count % 2 == 1 { body += [0] }
    if trailingChunk { body += Array("junk".utf8) + le32(4) + [1, 2, 3, 4] }
    return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
}

@Suite("Decoding a stream as it arrives")
struct StreamDecoderTests {
    /// Feeds `bytes` in random pieces; returns the samples and the format.
    func decode(_ bytes: [UInt8], seed: UInt64) throws -> ([Float], StreamFormat?) {
        var rng = Synth.Random(seed: seed)
        var decoder = WAVStreamDecoder()
        var out: [Float] = []
        var i = 0
        while i < bytes.count {
            let n = min(bytes.count - i, 1 + Int(rng.next() % 700))
            try bytes[i..<(i + n)].withUnsafeBytes { _ = try decoder.push($0, into: &out) }
            i += n
        }
        return (out, decoder.format)
    }

    /// libsndfile's samples for the same bytes (written to a file).
    func libsndfile(_ bytes: [UInt8]) throws -> ([Float], AudioFileInfo) {
        let dir = TemporaryDirectory()
        let path = dir.file("x.wav")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try AudioFileReader(path: path)
        var all: [Float] = []
        var block = [Float](repeating: 0, count: 4096 * reader.info.channelCount)
        while true {
            let got = try reader.read(into: &block)
            if got == 0 { break }
            all += block[0..<(got * reader.info.channelCount)]
        }
        return (all, reader.info)
    }

    @Test(
        "every WAV encoding, fed in random pieces, gives libsndfile's samples bit for bit",
        arguments: [(UInt16(1), 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64), (6, 8), (7, 8)])
    func bitExact(tag: UInt16, bits: Int) throws {
        var rng = Synth.Random(seed: UInt64(tag) * 100 + UInt64(bits))
        for (channels, extensible) in [(1, false), (2, false), (2, true)] {
            let frames = 3000 + Int(rng.next() % 500)
            var data = (0..<(frames * channels * bits / 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if tag == 3 {
                // Real float samples in [-1, 1] (random bytes would be NaNs and huge values).
                data = []
                for _ in 0..<(frames * channels) {
                    let x = Double(rng.uniform())
                    if bits == 32 {
                        withUnsafeBytes(of: Float(x).bitPattern.littleEndian) { data += $0 }
                    } else {
                        withUnsafeBytes(of: x.bitPattern.littleEndian) { data += $0 }
                    }
                }
            }
            let bytes = wavBytes(
                tag: tag, bits: bits, channels: channels, rateHz: 8000, data: data, extensible: extensible,
                extraChunkBefore: true, trailingChunk: true)
            let (mine, format) = try decode(bytes, seed: rng.next())
            let (theirs, info) = try libsndfile(bytes)
            #expect(format?.channelCount == channels && format?.sampleRateHz == 8000)
            #expect(format?.formatName == info.formatName, "\(format?.formatName ?? "-") vs \(info.formatName)")
            #expect(format?.declaredFrames == Int64(frames))
            #expect(mine.count == theirs.count, "\(mine.count) samples, libsndfile \(theirs.count)")
            let differing = zip(mine, theirs).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(
                differing == 0,
                "tag \(tag) \(bits)-bit \(channels) ch extensible \(extensible): \(differing) samples differ")
        }
    }

    @Test(
        """
        the WAV header Yusu writes (a raw live call kept as a recording), in every encoding: read back by the stream \
        decoder as the same format and the same samples as raw, and by libsndfile as that format
        """
    )
    func writtenHeaderReadsBack() throws {
        let data = (0..<480).map { UInt8(truncatingIfNeeded: $0 * 13 + 5) }
        for encoding in StreamEncoding.allCases {
            let header = encoding.wavHeader(sampleRateHz: 8000, channelCount: 2, dataBytes: data.count)
            let (out, format) = try decode(header + data, seed: 3)
            var raw = RawPCMDecoder(sampleRateHz: 8000, channelCount: 2, encoding: encoding)
            var expected: [Float] = []
            data.withUnsafeBytes { raw.push($0, into: &expected) }
            #expect(format?.encoding == encoding && format?.sampleRateHz == 8000 && format?.channelCount == 2)
            #expect(format?.declaredFrames == Int64(data.count / (2 * encoding.bytesPerSample)), "\(encoding)")
            #expect(
                out.count == expected.count && zip(out, expected).allSatisfy { $0.bitPattern == $1.bitPattern },
                "\(encoding)")
            let path = NSTemporaryDirectory() + "yusu-header-\(encoding.rawValue)-\(UUID().uuidString).wav"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(header + data).write(to: URL(fileURLWithPath: path))
            let reader = try AudioFileReader(path: path)
            #expect(reader.info.formatName == "WAV \(encoding.formatSuffix)", "\(reader.info.formatName)")
        }
    }

    @Test("a header split at every byte; placeholder sizes read to the end; a frame cut mid-way is held back")
    func headerAndSizes() throws {
        let data = (0..<400).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let bytes = wavBytes(tag: 1, bits: 16, channels: 2, rateHz: 16000, data: data, extraChunkBefore: true)
        let whole = try decode(bytes, seed: 1).0
        #expect(whole.count == 200)
        for split in 1..<80 {
            var d = WAVStreamDecoder()
            var out: [Float] = []
            let a = try bytes[0..<split].withUnsafeBytes { try d.push($0, into: &out) }
            let b = try bytes[split...].withUnsafeBytes { try d.push($0, into: &out) }
            #expect((a ?? b) != nil && out == whole, "split at \(split)")
        }
        // Streaming placeholders: 0 and 0xFFFFFFFF mean "until the stream ends".
        for placeholder: UInt32 in [0, 0xFFFF_FFFF] {
            let streamed = wavBytes(
                tag: 1, bits: 16, channels: 2, rateHz: 16000, data: data, dataSizeField: placeholder)
            let (out, format) = try decode(streamed, seed: 2)
            #expect(out == whole && format?.declaredFrames == nil)
        }
        // Cut mid-frame: the whole frames come out, the rest waits.
        var d = WAVStreamDecoder()
        var out: [Float] = []
        let cut = wavBytes(tag: 1, bits: 16, channels: 2, rateHz: 16000, data: data, dataSizeField: 0)
        try cut[0..<(cut.count - 3)].withUnsafeBytes { _ = try d.push($0, into: &out) }
        #expect(d.pendingBytes == 1 && out.count == 198 && !d.dataComplete)
    }

    @Test("not a WAV, RF64, a format it cannot read, an endless header: each refused with its reason")
    func refusals() {
        func refuse(_ bytes: [UInt8]) -> StreamDecodeError? {
            var d = WAVStreamDecoder()
            var out: [Float] = []
            do {
                try bytes.withUnsafeBytes { _ = try d.push($0, into: &out) }
                return nil
            } catch let e as StreamDecodeError { return e } catch { return nil }
        }
        #expect(refuse(Array("hello".utf8)) == .notWAV("it does not start with RIFF"))
        #expect(refuse(Array("RIFF\u{0}\u{0}\u{0}\u{0}AVI LIST".utf8)) == .notWAV("RIFF, but not WAVE"))
        if case .unsupported(let why)? = refuse(Array("RF64\u{0}\u{0}\u{0}\u{0}WAVE".utf8)) {
            #expect(why.contains("RF64"))
        } else {
            Issue.record("RF64 accepted")
        }
        if case .unsupported(let why)? = refuse(wavBytes(tag: 2, bits: 4, channels: 1, rateHz: 8000, data: [1, 2])) {
            #expect(why.contains("format tag 2"))
        } else {
            Issue.record("ADPCM accepted")
        }
        // A chunk that claims 100 MB before any data: refused once the header passes 1 MiB.
        var endless = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEjunk".utf8) + [0, 0, 0, 6]
        var d = WAVStreamDecoder()
        var out: [Float] = []
        var error: StreamDecodeError? = nil
        for _ in 0..<40 {
            endless += [UInt8](repeating: 0, count: 65_536)
            do { try endless.withUnsafeBytes { _ = try d.push($0, into: &out) } } catch let e as StreamDecodeError {
                error = e
                break
            } catch {}
            endless = []
        }
        if case .headerTooLong? = error {
        } else {
            Issue.record("a header without end was not refused: \(String(describing: error))")
        }
    }

    @Test(
        """
        raw G.711 and s16le: the standard expansions (μ-law 0xFF and A-law 0xD5 are ±0; the extremes ±32124 and \
        ±32256)
        """
    )
    func raw() {
        #expect(SampleDecoding.muLawTable[0xFF] == 0 && SampleDecoding.muLawTable[0x7F] == 0)
        #expect(SampleDecoding.muLawTable[0x00] == -32124 && SampleDecoding.muLawTable[0x80] == 32124)
        #expect(SampleDecoding.aLawTable[0xD5] == 8 && SampleDecoding.aLawTable[0x55] == -8)
        #expect(SampleDecoding.aLawTable[0xAA] == 32256 && SampleDecoding.aLawTable[0x2A] == -32256)
        var d = RawPCMDecoder(sampleRateHz: 8000, channelCount: 2, encoding: .pcmS16LE)
        var out: [Float] = []
        let bytes: [UInt8] = [0x00, 0x80, 0xFF, 0x7F, 0x01]
        bytes.withUnsafeBytes { d.push($0, into: &out) }
        #expect(out == [-1, Float(32767) / 32768] && d.pendingBytes == 1 && d.format.formatName == "raw PCM 16-bit")
    }
}
