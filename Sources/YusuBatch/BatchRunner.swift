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
    /// What a stored result was computed by: a file scored by another analysis is scored
    /// again (unless the caller overrides it). Yusu's version plus `CallAnalyzer.analysisRevision`.
    public var analysisVersion: String { "\(version)+\(CallAnalyzer.analysisRevision)" }

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
    /// `interrupted`: stopped by a signal before every file was visited.
    func done(counts: BatchCounts, elapsedSeconds: Double, interrupted: Bool, totalFiles: Int)
    /// Where the whole shared queue stands (PostgreSQL batches, every few seconds).
    func queue(_ counts: QueueCounts, at time: Date)
}

extension BatchProgressSink {
    public func queue(_ counts: QueueCounts, at time: Date) {}
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

    /// True once a stop was requested (the run then ends after the calls under way).
    public var wasStopped: Bool { isStopping() }

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
        let interrupted = isStopping()
        try? database.finishRun(runId, counts: final, interrupted: interrupted || walkError != nil)
        progress?.done(counts: final, elapsedSeconds: Date().timeIntervalSince(started), interrupted: interrupted, totalFiles: total)
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
        if let problem = item.problem {
            outcome = .failed(problem)
            record(CallRecord(item: item, contentHash: "none", standard: options.standard, analysisVersion: options.analysisVersion,
                              runId: runId, outcome: .failed(problem), analysisSeconds: 0), in: database)
        } else {
            outcome = score(item, database: database, runId: runId, clock: clock)
        }
        lock.lock()
        counts.add(outcome)
        let now = counts
        lock.unlock()
        progress?.finished(item: item, outcome: outcome, counts: now)
    }

    private func score(_ item: BatchItem, database: ResultsDatabase, runId: Int64, clock: Date) -> BatchFileOutcome {
        let hash: String
        do {
            hash = try Self.contentHash(path: item.path)
        } catch let error as HashError {
            // Gone, forbidden or failing: its own reason, recorded all the same.
            let reason = "\(item.path): \(error.reason)"
            record(CallRecord(item: item, contentHash: error.missing ? "missing" : "unreadable", standard: options.standard,
                              analysisVersion: options.analysisVersion, runId: runId, outcome: .failed(reason), analysisSeconds: 0), in: database)
            return .failed(reason)
        } catch {
            let reason = "\(item.path): cannot be read (\(error))"
            record(CallRecord(item: item, contentHash: "unreadable", standard: options.standard, analysisVersion: options.analysisVersion,
                              runId: runId, outcome: .failed(reason), analysisSeconds: 0), in: database)
            return .failed(reason)
        }
        do {
            if !options.rescore, try database.isScored(path: item.path, contentHash: hash, standardKey: options.standard.key,
                                                       analysisVersion: options.analysisVersion) {
                return .skipped
            }
        } catch {
            return .failed("\(item.path): the results database cannot be read (\(error))")
        }
        let callOutcome = Self.analyze(item, standard: options.standard, requireStereo: options.requireStereo)
        let written = CallRecord(item: item, contentHash: hash, standard: options.standard, analysisVersion: options.analysisVersion,
                                 runId: runId, outcome: callOutcome, analysisSeconds: Date().timeIntervalSince(clock))
        do {
            try database.record(written)
        } catch {
            // Scored but not stored is a failure of the database, said as such.
            return .failed("\(item.path): the result could not be written to the results database (\(error))")
        }
        switch callOutcome {
        case .scored(let m, let card): return .scored(durationSeconds: m.durationSeconds, score: card.score)
        case .failed(let reason): return .failed(reason)
        }
    }

    /// Records a failure; a database that cannot take even that is reported by the outcome.
    private func record(_ result: CallRecord, in database: ResultsDatabase) {
        try? database.record(result)
    }

    struct HashError: Error {
        var reason: String
        var missing: Bool
    }

    /// Scores one file of a batch (any engine): its problem, an analysis error, a mono file
    /// where stereo is expected, or its measures and verdicts.
    public static func analyze(_ item: BatchItem, standard: Standard, requireStereo: Bool) -> CallOutcome {
        if let problem = item.problem { return .failed(problem) }
        do {
            let analysis = try CallAnalyzer(standard: standard).analyze(path: item.path, options: CallOptions(agentChannel: item.agentChannel))
            if requireStereo && analysis.measures.channels != 2 {
                return .failed("mono recording where stereo (agent and customer) is expected")
            }
            return .scored(analysis.measures, standard.evaluate(analysis.measures))
        } catch let error as AudioError {
            return .failed(error.description)
        } catch {
            return .failed("\(item.path): analysis failed (\(error))")
        }
    }

    /// SHA-256 of the file's bytes, streamed in 1 MiB blocks.
    public static func contentHash(path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            throw HashError(reason: code == ENOENT ? "no such file" : "cannot be opened (\(String(cString: strerror(code))))",
                            missing: code == ENOENT)
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var hasher = SHA256()
        do {
            while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
                hasher.update(data: block)
            }
        } catch {
            throw HashError(reason: "read error (\(ArchiveSource.reason(error)))", missing: false)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
