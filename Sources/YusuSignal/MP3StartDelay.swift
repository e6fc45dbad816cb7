// MP3 start delay: where an MP3's audio really begins.
//
// An MP3 decoder's output starts late by the encoder's delay (LAME: 576 samples, its
// look-ahead) plus the decoder's own (529 samples: the MDCT overlap and the polyphase
// filter bank). Encoders write both, with the end padding, into a tag in the first frame
// (the Xing/"Info" header with LAME's extension, or Fraunhofer's VBRI), and libsndfile's
// decoder (mpg123, gapless mode) trims them when that tag is there. LAME leaves the tag
// out when the first frame is too small to hold it, which is the case for telephone
// archives: 8 and 16 kHz at 8–32 kbit/s (MPEG-2 and 2.5 Layer III). Those files come out
// 1105 samples late, 69 ms at 16 kHz and 138 ms at 8 kHz, and every time Yusu prints (an
// utterance, an interruption, the evidence a supervisor listens to) would be late by as
// much. Without a tag the delay cannot be read from the file; LAME's is assumed, as
// decoders that play such files gaplessly do (foobar2000 and ffmpeg's default for LAME
// streams; see the LAME technical FAQ, "encoder delay").
//
// Frame header layout: ISO/IEC 11172-3 §2.4.1.3 and ISO/IEC 13818-3 (MPEG-2 LSF);
// MPEG 2.5 is the unofficial extension LAME writes for 8 kHz. Xing and LAME tag layout:
// the LAME "Mp3 Info Tag rev 1" specification (gabriel.mp3-tech.org/mp3infotag.html).
import Foundation

public enum MP3StartDelay {
    /// LAME's encoder delay plus the decoder's, samples.
    public static let untaggedLameDelaySamples = 576 + 529

    /// Samples to drop from the start of `path`'s decoded output: 0 when the first audio
    /// frame carries a gapless tag (the decoder trims by it) or when no MPEG Layer III
    /// frame is found; LAME's delay otherwise.
    public static func samplesToSkip(path: String) -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 1 << 16) else { return 0 }
        return samplesToSkip(head: [UInt8](head))
    }

    /// The same, from the file's first bytes (64 KiB cover any ID3v2 tag worth reading past).
    public static func samplesToSkip(head bytes: [UInt8]) -> Int {
        guard let frame = firstLayerIIIFrame(bytes) else { return 0 }
        return hasGaplessTag(bytes, frame: frame) ? 0 : untaggedLameDelaySamples
    }

    struct FrameHeader {
        var offset: Int
        var mpeg1: Bool
        var mono: Bool
        var protected: Bool
    }

    /// The first Layer III frame header after any ID3v2 tag.
    static func firstLayerIIIFrame(_ b: [UInt8]) -> FrameHeader? {
        var i = 0
        // ID3v2: "ID3", version (2), flags (1), size (4 bytes of 7 bits), footer when flag 0x10.
        if b.count >= 10 && b[0] == 0x49 && b[1] == 0x44 && b[2] == 0x33 {
            let size = (Int(b[6] & 0x7F) << 21) | (Int(b[7] & 0x7F) << 14) | (Int(b[8] & 0x7F) << 7) | Int(b[9] & 0x7F)
            i = 10 + size + (b[5] & 0x10 != 0 ? 10 : 0)
        }
        while i + 4 <= b.count {
            if b[i] == 0xFF && b[i + 1] & 0xE0 == 0xE0 {
                let version = (b[i + 1] >> 3) & 0x03  // 00 MPEG 2.5, 10 MPEG 2, 11 MPEG 1
                let layer = (b[i + 1] >> 1) & 0x03  // 01 Layer III
                let bitrateIndex = b[i + 2] >> 4
                let rateIndex = (b[i + 2] >> 2) & 0x03
                if version != 0x01 && layer == 0x01 && bitrateIndex != 0x0F && bitrateIndex != 0 && rateIndex != 0x03 {
                    return FrameHeader(
                        offset: i, mpeg1: version == 0x03, mono: (b[i + 3] >> 6) == 0x03,
                        protected: b[i + 1] & 0x01 == 0)
                }
            }
            i += 1
        }
        return nil
    }

    /// Whether the frame holds a Xing/"Info" tag (after the header, its CRC if any, and the
    /// side information) or a VBRI tag (32 bytes after the header).
    static func hasGaplessTag(_ b: [UInt8], frame: FrameHeader) -> Bool {
        let sideInfo = frame.mpeg1 ? (frame.mono ? 17 : 32) : (frame.mono ? 9 : 17)
        func tag(at offset: Int, _ names: [String]) -> Bool {
            let start = frame.offset + offset
            guard start + 4 <= b.count else { return false }
            let found = String(decoding: b[start..<(start + 4)], as: UTF8.self)
            return names.contains(found)
        }
        let xing = 4 + (frame.protected ? 2 : 0) + sideInfo
        return tag(at: xing, ["Xing", "Info"]) || tag(at: 36, ["VBRI"])
    }
}
