import Foundation

/// Per-frame dump: `time_s,channel,energy_db,speech,f0_hz` (CONTRACT.md), one row per frame
/// and channel as the analysis decides them (the channels' rows interleaved in time), written
/// in chunks so that hours of frames never sit in one string.
public final class FramesCSV {
    public static let header = "time_s,channel,energy_db,speech,f0_hz"
    private let write: (String) -> Void
    private var chunk = ""

    /// - Parameter header: the column names (the contract's by default).
    public init(header: String = FramesCSV.header, write: @escaping (String) -> Void) {
        self.write = write
        chunk.reserveCapacity(1 << 16)
        // Buffered with the first rows: a file refused before its first chunk leaves stdout empty.
        chunk = header + "\n"
    }

    /// One row: the frame centre's time, the channel, its energy, whether it is in an
    /// utterance, its F0 (0 unvoiced).
    public func row(timeSeconds: Double, channel: Int, energyDb: Float, speech: Bool, f0Hz: Float) {
        chunk += String(format: "%.3f,%d,%.1f,%d,%.1f\n", timeSeconds, channel, energyDb, speech ? 1 : 0, f0Hz)
        if chunk.utf8.count > 60_000 { flush() }
    }

    /// One row of other per-frame values (the learned syllable stage's features, 4 decimals).
    public func row(timeSeconds: Double, channel: Int, values: UnsafeBufferPointer<Float>) {
        chunk += String(format: "%.3f,%d", timeSeconds, channel)
        for v in values { chunk += String(format: ",%.4f", v) }
        chunk += "\n"
        if chunk.utf8.count > 60_000 { flush() }
    }

    public func flush() {
        guard !chunk.isEmpty else { return }
        write(chunk)
        chunk.removeAll(keepingCapacity: true)
    }
}
