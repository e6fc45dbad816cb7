import Foundation
import YusuDelivery
import YusuSignal

/// Per-frame dump: `time_s,channel,energy_db,speech,f0_hz` (CONTRACT.md), streamed to a sink.
public enum FramesCSV {
    public static let header = "time_s,channel,energy_db,speech,f0_hz"

    /// Writes the rows in chunks through `write`, so hours of frames never sit in one string.
    public static func write(_ analysis: CallAnalysis, to write: (String) -> Void) {
        write(header + "\n")
        let config = analysis.analysisConfig
        var chunk = ""
        chunk.reserveCapacity(1 << 16)
        for channel in analysis.channels {
            #if YUSU_DEV_TUNING
            let nucleusSet = Set(channel.nuclei)
            #endif
            for i in 0..<channel.features.frameCount {
                let t = config.frameTimeSeconds(i)
                chunk += String(format: "%.3f,%d,%.1f,%d,%.1f", t, channel.channel, channel.features.energyDb[i],
                                channel.utteranceFrames[i] ? 1 : 0, channel.pitch.f0Hz[i])
                #if YUSU_DEV_TUNING
                // Development columns: tilt, flatness, then each candidate's F0 and dip.
                let f = channel.features
                chunk += String(format: ",%.1f,%.3f", f.bandDb[1][i] - f.bandDb[3][i], f.bandDb[0][i] - f.energyDb[i])
                chunk += String(format: ",%.2f,%d", f.syllableEnvelopeDb[i], nucleusSet.contains(i) ? 1 : 0)
                for c in 0..<f.candidatesPerFrame {
                    let lag = f.candidateLag(i, c)
                    chunk += String(format: ",%.1f,%.3f", lag > 0 ? Float(config.analysisRateHz) / lag : 0, f.candidateDip(i, c))
                }
                #endif
                chunk += "\n"
                if chunk.utf8.count > 60_000 {
                    write(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
        }
        write(chunk)
    }
}
