import Crypto
import Foundation
import YusuDelivery
import YusuSignal

/// Options of a batch run.
public struct BatchOptions: Sendable {
    public var source: ArchiveSource
    public var sourceDescription: String
    public var databasePath: String
    public var standard: Standard
    /// Parallel analyses (default: the machine's cores).
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Score again even files already scored with this content and standard.
    public var rescore = false
    /// Agent channel when the manifest does not say.
    public var agentChannel = 0
    /// Stereo expected: a mono file is a failure ("mono where stereo is expected").
    public var requireStereo = true
    public var version = "0.1.0"

    public init(source: ArchiveSource, sourceDescription: String, databasePath: String, standard: Standard) {
        self.source = source
        self.sourceDescription = sourceDescription
        self.databasePath = databasePath
        self.standard = standard
    }
}

/// Receives progress as files finish.
public protocol BatchProgressSink: AnyObject, Sendable {
    func started(totalFiles: Int)
    func finished(item: BatchItem, outcome: BatchFileOutcome, counts: BatchCounts)
    func done(counts: BatchCounts, elapsedSeconds: Double)
}

public enum BatchFileOutcome: Sendable, Equatable {
    case scored(durationSeconds: Double, score: Double?)
    case skipped
    case failed(String)
}

/// Scores an archive into the results database: streams the items, analyses up to `jobs`
/// at once, writes each call as it finishes.
public final class BatchRunner: @unchecked Sendable {
    public let options: BatchOptions
    private let lock = NSLock()
    private var counts = BatchCounts()
    private var stopRequested = false

    public init(options: BatchOptions) { self.options = options }

    /// Asks the run to stop after the files under way (e.g. on SIGINT).
    public func requestStop() {
        lock.lock(); stopRequested = true; lock.unlock()
    }

    /// - Returns: the totals; `failed > 0` means some files could not be scored.
    @discardableResult
    public func run(progress: BatchProgressSink?) throws -> BatchCounts {
        let database = try ResultsDatabase(path: options.databasePath)
        let total = try options.source.count()
        let runId = try database.startRun(source: options.sourceDescription, standard: options.standard,
                                          jobs: options.jobs, version: options.version)
        progress?.started(totalFiles: total)
        let started = Date()
        let slots = DispatchSemaphore(value: max(1, options.jobs))
        let group = DispatchGroup()
        let queue = DispatchQueue(label: "yusu.batch", attributes: .concurrent)
        var walkError: Error?
        do {
            try options.source.forEach(defaultAgentChannel: options.agentChannel) { item in
                if isStopping() { return false }
                slots.wait()
                group.enter()
                queue.async {
                    defer { slots.signal(); group.leave() }
                    self.process(item, database: database, runId: runId, progress: progress)
                }
                return true
            }
        } catch {
            walkError = error
        }
        group.wait()
        let final = snapshot()
        try? database.finishRun(runId, counts: final, interrupted: isStopping() || walkError != nil)
        progress?.done(counts: final, elapsedSeconds: Date().timeIntervalSince(started))
        if let walkError { throw walkError }
        return final
    }

    private func isStopping() -> Bool {
        lock.lock(); defer { lock.unlock() }
        return stopRequested
    }

    private func snapshot() -> BatchCounts {
        lock.lock(); defer { lock.unlock() }
        return counts
    }

    private func process(_ item: BatchItem, database: ResultsDatabase, runId: Int64, progress: BatchProgressSink?) {
        let clock = Date()
        let outcome: BatchFileOutcome
        do {
            let hash = try Self.contentHash(path: item.path)
            if !options.rescore, try database.isScored(path: item.path, contentHash: hash, standardKey: options.standard.key) {
                outcome = .skipped
            } else {
                var callOutcome: CallOutcome
                do {
                    let analysis = try CallAnalyzer(standard: options.standard).analyze(path: item.path, options: CallOptions(agentChannel: item.agentChannel))
                    if options.requireStereo && analysis.measures.channels != 2 {
                        callOutcome = .failed("mono recording where stereo (agent and customer) is expected")
                    } else {
                        callOutcome = .scored(analysis.measures, options.standard.evaluate(analysis.measures))
                    }
                } catch let error as AudioError {
                    callOutcome = .failed(error.description)
                }
                try database.record(CallRecord(item: item, contentHash: hash, standard: options.standard, runId: runId,
                                               outcome: callOutcome, analysisSeconds: Date().timeIntervalSince(clock)))
                switch callOutcome {
                case .scored(let m, let card): outcome = .scored(durationSeconds: m.durationSeconds, score: card.score)
                case .failed(let reason): outcome = .failed(reason)
                }
            }
        } catch {
            // The file could not even be hashed (gone, unreadable): record it all the same.
            let noSuchFile = (error as? CocoaError).map { $0.code == .fileReadNoSuchFile || $0.code == .fileNoSuchFile } ?? false
            let reason = noSuchFile ? "\(item.path): no such file" : "\(item.path): \(error)"
            outcome = .failed(reason)
            try? database.record(CallRecord(item: item, contentHash: noSuchFile ? "missing" : "unreadable", standard: options.standard,
                                            runId: runId, outcome: .failed(reason), analysisSeconds: 0))
        }
        lock.lock()
        counts.seen += 1
        switch outcome {
        case .scored(let duration, _): counts.scored += 1; counts.audioSeconds += duration
        case .skipped: counts.skipped += 1
        case .failed: counts.failed += 1
        }
        let now = counts
        lock.unlock()
        progress?.finished(item: item, outcome: outcome, counts: now)
    }

    /// SHA-256 of the file's bytes, streamed in 1 MiB blocks.
    public static func contentHash(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            hasher.update(data: block)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
