import Foundation
import YusuSignal

extension HTMLCallReport.Audio {
    /// How a call page plays `path`: embedded when the page stays small (the page is then one
    /// file that can be mailed), otherwise a file:// link to the recording.
    ///
    /// Browsers play WAV PCM, FLAC and OGG but not μ-law or A-law WAV, the telephone formats;
    /// those are decoded and embedded as 16-bit PCM WAV when that fits in `embedLimitBytes`.
    /// A recording too large to embed is linked as it is, and a telephone-coded one may then
    /// not play in the browser; the link still lets the reviewer download it.
    public static func forRecording(path: String, embedLimitBytes: Int = 8 << 20) -> HTMLCallReport.Audio {
        let link = HTMLCallReport.Audio.link(URL(fileURLWithPath: path).standardizedFileURL.absoluteString)
        guard let reader = try? AudioFileReader(path: path) else { return link }
        let info = reader.info
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? Int.max
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        let playable =
            info.formatName.hasPrefix("WAV PCM") || info.formatName == "WAV float"
            || info.formatName.hasPrefix("FLAC") || info.formatName == "OGG Vorbis"
        if playable {
            guard size <= embedLimitBytes, let data = FileManager.default.contents(atPath: path) else { return link }
            let mime = ext == "flac" ? "audio/flac" : (ext == "ogg" ? "audio/ogg" : "audio/wav")
            return .embedded(mimeType: mime, data: data)
        }
        // Decode to 16-bit PCM when that stays within the limit.
        guard info.frameCount * Int64(info.channelCount) * 2 <= Int64(embedLimitBytes) else { return link }
        var samples = [Float](repeating: 0, count: Int(info.frameCount) * info.channelCount)
        var block = [Float](repeating: 0, count: 8192 * info.channelCount)
        var at = 0
        while let got = try? reader.read(into: &block), got > 0 {
            let n = min(got * info.channelCount, samples.count - at)
            samples.replaceSubrange(at..<(at + n), with: block[0..<n])
            at += n
        }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("yusu-\(UUID().uuidString).wav")
            .path
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        guard
            (try? AudioFileWriter.write(
                path: temporary, samples: samples, channels: info.channelCount,
                sampleRateHz: info.sampleRateHz, format: .wavPCM16)) != nil,
            let data = FileManager.default.contents(atPath: temporary)
        else { return link }
        return .embedded(mimeType: "audio/wav", data: data)
    }
}
