import Crypto
import Foundation
import YusuSignal

/// A live call's audio, written as it arrives into the recordings folder: a WAV stream as
/// sent, raw samples under a WAV header of their declared format. Finished, it is named by
/// its content's hash, as uploads are; discarded, the partial file is removed.
final class LiveRecording: @unchecked Sendable {
    private let handle: FileHandle
    private let partPath: String
    private let folder: String
    private let raw: (rateHz: Int, channels: Int, encoding: StreamEncoding)?
    private var bytes = 0
    private var hasher = SHA256()
    private var done = false
    private var failure: (any Error)?

    init(folder: String, id: String, raw: (rateHz: Int, channels: Int, encoding: StreamEncoding)?) throws {
        self.folder = folder
        self.raw = raw
        partPath = URL(fileURLWithPath: folder).appendingPathComponent(".live-\(id).part").path
        guard FileManager.default.createFile(atPath: partPath, contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partPath))
        if let header = header(dataBytes: 0) { try handle.write(contentsOf: header) }
    }

    /// Appends a piece of the call's audio; a piece that cannot be written (a full disk)
    /// ends the recording, not the call: `finish` then says why.
    func append(_ data: UnsafeRawBufferPointer) {
        guard !done, failure == nil, data.count > 0 else { return }
        do { try handle.write(contentsOf: data) } catch {
            failure = error
            return
        }
        hasher.update(bufferPointer: data)
        bytes += data.count
    }

    /// Closes the file (its header's sizes written for raw audio) under its content's name.
    func finish() throws -> (path: String, hash: String) {
        if let failure {
            discard()
            throw failure
        }
        done = true
        if let header = header(dataBytes: bytes) {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header)
        }
        try handle.close()
        let hash = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let kept = URL(fileURLWithPath: folder).appendingPathComponent("\(hash).wav").path
        if FileManager.default.fileExists(atPath: kept) {
            try FileManager.default.removeItem(atPath: partPath)
        } else {
            try FileManager.default.moveItem(atPath: partPath, toPath: kept)
        }
        return (kept, hash)
    }

    /// Removes the partial file of a call that was not kept.
    func discard() {
        guard !done else { return }
        done = true
        try? handle.close()
        try? FileManager.default.removeItem(atPath: partPath)
    }

    /// The WAV header of a raw live call, in its declared format.
    private func header(dataBytes: Int) -> [UInt8]? {
        raw.map { $0.encoding.wavHeader(sampleRateHz: $0.rateHz, channelCount: $0.channels, dataBytes: dataBytes) }
    }
}
