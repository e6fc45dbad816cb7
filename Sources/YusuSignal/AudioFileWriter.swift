// Writing sound files with libsndfile: used by tests and tools to make recordings in
// every format Yusu reads. Samples are interleaved Float32 in [-1, 1].
import CSndFile
import Foundation

public enum AudioFileFormat: String, Sendable, CaseIterable {
    case wavPCM16, wavPCM24, wavPCM32, wavFloat, wavMuLaw, wavALaw, flac, ogg, opus, mp3

    var sndfileFormat: Int32 {
        switch self {
        case .wavPCM16: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .wavPCM24: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24)
        case .wavPCM32: return Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_32)
        case .wavFloat: return Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
        case .wavMuLaw: return Int32(SF_FORMAT_WAV | SF_FORMAT_ULAW)
        case .wavALaw: return Int32(SF_FORMAT_WAV | SF_FORMAT_ALAW)
        case .flac: return Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .ogg: return Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        case .opus: return Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS)
        case .mp3: return Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)
        }
    }

    public var fileExtension: String {
        switch self {
        case .flac: return "flac"
        case .ogg: return "ogg"
        case .opus: return "opus"
        case .mp3: return "mp3"
        default: return "wav"
        }
    }
}

public enum AudioFileWriter {
    public struct WriteError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes interleaved `samples` (channels × frames) to `path`.
    public static func write(path: String, samples: [Float], channels: Int, sampleRateHz: Int, format: AudioFileFormat)
        throws
    {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRateHz)
        info.channels = Int32(channels)
        info.format = format.sndfileFormat
        guard let handle = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw WriteError(
                description: "\(path): cannot write \(format.rawValue) (\(String(cString: sf_strerror(nil))))")
        }
        defer { sf_close(handle) }
        let frames = samples.count / channels
        let written = samples.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, sf_count_t(frames)) }
        guard written == frames else {
            throw WriteError(description: "\(path): wrote \(written) of \(frames) frames")
        }
    }

    /// Interleaves per-channel sample arrays (all the length of the first).
    public static func interleave(_ channels: [[Float]]) -> [Float] {
        guard let n = channels.first?.count else { return [] }
        var out = [Float](repeating: 0, count: n * channels.count)
        for (c, channel) in channels.enumerated() {
            for i in 0..<min(n, channel.count) { out[i * channels.count + c] = channel[i] }
        }
        return out
    }
}
