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
    /// How large and how long one file may be.
    public var limits = InputLimits()
    /// How long a claim on a file lasts without renewal (batches sharing the file), seconds.
    public var claimSeconds = 60.0
    public var version = "0.1.0"
    /// What a stored result was computed by: a file scored by another analysis is scored
    /// again (unless the caller overrides it). Yusu's version plus `CallScorer.analysisRevision`.
    public var analysisVersion: String { "\(version)+\(CallScorer.analysisRevision)" }

    public init(source: ArchiveSource, sourceDescription: String, databasePath: String, standard: Standard) {
        self.source = source
        self.sourceDescription = sourceDescription
        self.databasePath = databasePath
        self.standard = standard
    }
}

/// How a batch ended.
public enum BatchEnding: Sendable, Equatable {
    /// Every file was visited.
    case complete
    /// A stop request (Ctrl-C, SIGTERM) ended it early.
    case interrupted
    /// A failure that would repeat for every file (the results database cannot be written)
    /// ended it early; the reason says which.
    case stopped(String)
}

/// Receives progress as files finish.
public protocol BatchProgressSink: AnyObject, Sendable {
    func started(totalFiles: Int)
    func finished(item: BatchItem, outcome: BatchFileOutcome, counts: BatchCounts)
    /// How the batch ended; `totalFiles` as far as known.
    func done(counts: BatchCounts, elapsedSeconds: Double, ending: BatchEnding, totalFiles: Int)
    /// Where the whole shared queue stands (PostgreSQL batches, every few seconds).
    func queue(_ counts: QueueCounts, at time: Date)
}

extension BatchProgressSink {
    public func queue(_ counts: QueueCounts, at time: Date) {}
}

public enum BatchFileOutcome: Sendable, Equatable {
    case scored(durationSeconds: Double, score: Double?)
    case skipped
    /// Scored by another batch sharing the results database, while this one ran.
    case elsewhere
    /// Why the file could not be scored (the path is not in it: it stands beside it).
    case failed(String)
}

/// Scores an archive into the results database: streams the items, analyses up to `jobs`
/// at once, writes each call as it finishes.
///
/// Several batches may run on one SQLite file at once (two cron jobs, a re-run started by
/// hand): each claims a file before it reads it, and a file another batch has claimed is
/// put aside and looked at again at the end, once that batch has written it (or its claim
/// ran out because it died). So each file is scored once, by one of them.
public final class BatchRunner: @unchecked Sendable {
    public let options: BatchOptions
    private let lock = NSLock()
    private var counts = BatchCounts()
    /// Set by a stop request or a failure that would repeat; hashing and decoding check it.
    public let stopFlag = StopFlag()
    private var stopRequested = false
    private var fatal: String?
    /// Who this batch is in the claims table.
    public let holder = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"

    public init(options: BatchOptions) { self.options = options }

    /// Asks the run to stop: files under way end at their next block and are not recorded
    /// (e.g. on SIGINT).
    public func requestStop() {
        lock.withLock { stopRequested = true }
        stopFlag.stop()
    }

    /// True once a stop was requested (the run then ends after the calls under way).
    public var wasStopped: Bool { lock.withLock { stopRequested } }

    /// The failure that stopped the night, if one did.
    public var stopReason: String? { lock.withLock { fatal } }

    /// What the source holds: the CLI calls this first, so that an empty archive creates
    /// nothing and says what it looked at.
    public func survey() throws -> ArchiveSource.Survey { try options.source.survey() }

    /// - Parameter survey: the source's survey when the caller already made it.
    /// - Returns: the totals; `failed > 0` means some files could not be scored.
    @discardableResult
    public func run(progress: BatchProgressSink?, survey known: ArchiveSource.Survey? = nil) throws -> BatchCounts {
        let total = try known?.recordings ?? options.source.count()
        let database = try ResultsDatabase(path: options.databasePath)
        defer { database.closeForCopying() }
        let runId = try database.startRun(
            source: options.sourceDescription, standard: options.standard,
            jobs: options.jobs, version: options.version)
        progress?.started(totalFiles: total)
        let started = Date()
        let heartbeat = startHeartbeat(database)
        defer { heartbeat.cancel() }
        let slots = DispatchSemaphore(value: max(1, options.jobs))
        let group = DispatchGroup()
        let queue = DispatchQueue(label: "yusu.batch", attributes: .concurrent)
        var walkError: Error?
        var deferred: [BatchItem] = []
        func dispatch(_ item: BatchItem, putAside: Bool) {
            slots.wait()
            group.enter()
            queue.async {
                defer {
                    slots.signal()
                    group.leave()
                }
                self.process(item, database: database, runId: runId, progress: progress, putAsideBefore: putAside)
            }
        }
        do {
            try options.source.forEach(defaultAgentChannel: options.agentChannel) { item in
                if isStopping() { return false }
                // A file another batch is working on waits until the end.
                if item.problem == nil,
                    (try? database.isClaimedByOther(path: item.path, standardKey: options.standard.key, holder: holder))
                        == true
                {
                    deferred.append(item)
                    return true
                }
                dispatch(item, putAside: false)
                return true
            }
        } catch {
            walkError = error
        }
        group.wait()
        // What others had in hand: once they have written it (or their claim ran out), look again.
        for item in deferred {
            while !isStopping(),
                (try? database.isClaimedByOther(path: item.path, standardKey: options.standard.key, holder: holder))
                    == true
            {
                Thread.sleep(forTimeInterval: 0.2)
            }
            if isStopping() { break }
            dispatch(item, putAside: true)
        }
        group.wait()
        let final = snapshot()
        let ending: BatchEnding =
            stopReason.map { .stopped($0) } ?? (isStopping() || walkError != nil ? .interrupted : .complete)
        try? database.finishRun(runId, counts: final, interrupted: ending != .complete)
        progress?.done(
            counts: final, elapsedSeconds: Date().timeIntervalSince(started), ending: ending, totalFiles: total)
        if let walkError { throw walkError }
        return final
    }

    /// Renews this batch's claims every third of their lease.
    private func startHeartbeat(_ database: ResultsDatabase) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "yusu.batch.claims"))
        let every = options.claimSeconds / 3
        timer.schedule(deadline: .now() + every, repeating: every)
        timer.setEventHandler { [holder, options] in
            try? database.renewClaims(holder: holder, leaseSeconds: options.claimSeconds)
        }
        timer.resume()
        return timer
    }

    private func isStopping() -> Bool { stopFlag.isStopped }

    private func snapshot() -> BatchCounts { lock.withLock { counts } }

    /// A write the results database refused: it would refuse the next one too (a full disk,
    /// a read-only file, a broken schema), so the night stops here, saying why.
    private func databaseRefused(_ error: Error) {
        lock.withLock {
            if fatal == nil { fatal = "the results database cannot be written (\(ResultsDatabase.reason(error)))" }
        }
        stopFlag.stop()
    }

    private func process(
        _ item: BatchItem, database: ResultsDatabase, runId: Int64, progress: BatchProgressSink?, putAsideBefore: Bool
    ) {
        let clock = Date()
        let outcome: BatchFileOutcome?
        if let problem = item.problem {
            outcome =
                record(
                    CallRecord(
                        item: item, contentHash: "none", standard: options.standard,
                        analysisVersion: options.analysisVersion,
                        runId: runId, outcome: .failed(problem), analysisSeconds: 0), in: database)
                ? .failed(problem) : nil
        } else {
            outcome = score(item, database: database, runId: runId, clock: clock, putAsideBefore: putAsideBefore)
        }
        // A file stopped half way, or not written, is not counted: it was not visited.
        guard let outcome else { return }
        let now: BatchCounts = lock.withLock {
            counts.add(outcome)
            return counts
        }
        progress?.finished(item: item, outcome: outcome, counts: now)
    }

    /// - Returns: nil when the file was not finished (a stop) or its result not written.
    private func score(_ item: BatchItem, database: ResultsDatabase, runId: Int64, clock: Date, putAsideBefore: Bool)
        -> BatchFileOutcome?
    {
        let key = options.standard.key
        let claimed: Bool
        do {
            claimed = try database.claim(
                path: item.path, standardKey: key, holder: holder, leaseSeconds: options.claimSeconds)
        } catch {
            databaseRefused(error)
            return nil
        }
        guard claimed else {
            // Claimed by another batch between the look and the claim: it does the file.
            return .elsewhere
        }
        let hash: String
        do {
            hash = try Self.contentHash(path: item.path, limits: options.limits, stop: stopFlag)
        } catch is StopRequested {
            try? database.releaseClaim(path: item.path, standardKey: key, holder: holder)
            return nil
        } catch let error as AudioError {
            // Gone, forbidden, not a file, too large: its own reason, recorded all the same.
            let hashName = if case .notFound = error { "missing" } else { "unreadable" }
            return record(
                CallRecord(
                    item: item, contentHash: hashName, standard: options.standard,
                    analysisVersion: options.analysisVersion,
                    runId: runId, outcome: .failed(error.reason), analysisSeconds: 0), in: database)
                ? .failed(error.reason) : nil
        } catch {
            let reason = "cannot be read (\(error))"
            return record(
                CallRecord(
                    item: item, contentHash: "unreadable", standard: options.standard,
                    analysisVersion: options.analysisVersion,
                    runId: runId, outcome: .failed(reason), analysisSeconds: 0), in: database) ? .failed(reason) : nil
        }
        do {
            if !options.rescore,
                try database.isScored(
                    path: item.path, contentHash: hash, standardKey: key, analysisVersion: options.analysisVersion)
            {
                try database.releaseClaim(path: item.path, standardKey: key, holder: holder)
                return putAsideBefore ? .elsewhere : .skipped
            }
        } catch {
            databaseRefused(error)
            return nil
        }
        let callOutcome: CallOutcome
        do {
            callOutcome = try Self.analyze(
                item, standard: options.standard, requireStereo: options.requireStereo, limits: options.limits,
                stop: stopFlag)
        } catch {
            try? database.releaseClaim(path: item.path, standardKey: key, holder: holder)
            return nil
        }
        let written = CallRecord(
            item: item, contentHash: hash, standard: options.standard, analysisVersion: options.analysisVersion,
            runId: runId, outcome: callOutcome, analysisSeconds: Date().timeIntervalSince(clock))
        guard record(written, in: database) else { return nil }
        switch callOutcome {
        case .scored(let m, let card): return .scored(durationSeconds: m.durationSeconds, score: card.score)
        case .failed(let reason): return .failed(reason)
        }
    }

    /// Writes a result; a database that refuses it stops the night.
    /// - Returns: whether it was written.
    private func record(_ result: CallRecord, in database: ResultsDatabase) -> Bool {
        do {
            try database.record(result)
            return true
        } catch {
            databaseRefused(error)
            return false
        }
    }

    /// Scores one file of a batch (any engine): its problem, an analysis error, a mono file
    /// where stereo is expected, or its measures and verdicts. The reason of a failure does
    /// not repeat the path (it is stored and shown beside it).
    /// - Throws: `StopRequested` when `stop` was set before the file was finished.
    public static func analyze(
        _ item: BatchItem, standard: Standard, requireStereo: Bool, limits: InputLimits = InputLimits(),
        stop: StopFlag? = nil
    ) throws -> CallOutcome {
        if let problem = item.problem { return .failed(problem) }
        do {
            let scored = try CallScorer(standard: standard, limits: limits)
                .score(path: item.path, options: CallOptions(agentChannel: item.agentChannel), stop: stop)
            if requireStereo && scored.measures.channels != 2 {
                return .failed("mono recording where stereo (agent and customer) is expected")
            }
            return .scored(scored.measures, scored.card)
        } catch let error as StopRequested {
            throw error
        } catch let error as AudioError {
            return .failed(error.reason)
        } catch {
            return .failed("analysis failed (\(error))")
        }
    }

    /// SHA-256 of the file's bytes, streamed in 1 MiB blocks, after checking that it is a
    /// regular file within the size limit.
    /// - Throws: `AudioError` (missing, not a regular file, too large, unreadable),
    ///   `StopRequested` when `stop` is set between blocks.
    public static func contentHash(path: String, limits: InputLimits = InputLimits(), stop: StopFlag? = nil) throws
        -> String
    {
        try AudioFileReader.checkFile(path: path, limits: limits)
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw AudioError.notFound(path: path) }
            throw AudioError.cannotOpen(path: path, reason: String(cString: strerror(code)))
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var hasher = SHA256()
        var bytes: Int64 = 0
        do {
            while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
                if stop?.isStopped == true { throw StopRequested() }
                hasher.update(data: block)
                bytes += Int64(block.count)
                // A file that grows while it is read is bounded all the same.
                if bytes > limits.maximumFileBytes {
                    throw AudioError.tooLarge(path: path, bytes: bytes, limitBytes: limits.maximumFileBytes)
                }
            }
        } catch let error as StopRequested {
            throw error
        } catch let error as AudioError {
            throw error
        } catch {
            throw AudioError.cannotOpen(path: path, reason: "read error: \(ArchiveSource.reason(error))")
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
