import Foundation
import YusuBatch
import YusuDelivery
import YusuSignal

/// `yusu batch … --db postgres://…`: queue the archive (unless only working), then work the
/// shared queue with `jobs` analyses at once until nothing is left waiting or leased.
/// Any number of these may run at once, on any number of machines.
public final class PostgresBatch: @unchecked Sendable {
    public struct Options: Sendable {
        public var target: PostgresTarget
        /// nil: only work the queue (`--worker`).
        public var source: ArchiveSource?
        public var sourceDescription: String
        public var standard: Standard
        public var jobs = 2
        public var rescore = false
        public var agentChannel = 0
        public var requireStereo = true
        /// How large and how long one file may be.
        public var limits = InputLimits()
        public var version = "0.1.0"
        /// How long a claimed file stays leased without renewal; renewed every third of it.
        public var leaseSeconds = 60.0
        /// How long to wait for a server that went away before giving up.
        public var reconnectSeconds = 300.0
        /// Seconds between looks at the whole queue for progress.
        public var queuePollSeconds = 10.0
        /// Queue SOURCE and stop: the workers (`--worker`) do the scoring.
        public var enqueueOnly = false
        public var analysisVersion: String { "\(version)+\(CallScorer.analysisRevision)" }

        public init(target: PostgresTarget, source: ArchiveSource?, sourceDescription: String, standard: Standard) {
            self.target = target
            self.source = source
            self.sourceDescription = sourceDescription
            self.standard = standard
        }
    }

    public let options: Options
    public let worker: String
    private let lock = NSLock()
    private var counts = BatchCounts()
    private var stopRequested = false
    private var firstError: Error?
    /// Queue rows this worker is analysing now: the heartbeat renews exactly these.
    private var inHand: Set<Int64> = []

    public init(options: Options) {
        self.options = options
        let host = ProcessInfo.processInfo.hostName
        worker = "\(host):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    /// Set by a stop request: hashing and decoding check it between blocks.
    public let stopFlag = StopFlag()

    public func requestStop() {
        lock.lock()
        stopRequested = true
        lock.unlock()
        stopFlag.stop()
    }
    public var wasStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested
    }

    func connect() throws -> PostgresResults {
        try PostgresResults(target: options.target, reconnectSeconds: options.reconnectSeconds)
    }

    /// Queues the archive: hashes each file and inserts it unless already queued or scored.
    /// Files are hashed `jobs` at a time (reading shared storage is the slow part), each
    /// thread with a connection of its own; workers elsewhere may start on the first files
    /// while the rest are still being queued.
    /// - Returns: files newly waiting, and files seen.
    public func enqueue(into db: PostgresResults) throws -> (queued: Int, seen: Int) {
        guard let source = options.source else { return (0, 0) }
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var connections: [PostgresResults] = []
            var queued = 0, seen = 0
            var firstError: Error? = nil
            func with<T>(_ body: (Shared) -> T) -> T {
                lock.lock()
                defer { lock.unlock() }
                return body(self)
            }
        }
        let threads = max(1, options.jobs)
        let shared = Shared()
        shared.connections = [db]
        for _ in 1..<threads { shared.connections.append(try connect()) }
        let slots = DispatchSemaphore(value: threads)
        let group = DispatchGroup()
        let hashing = DispatchQueue(label: "yusu.enqueue", attributes: .concurrent)
        try source.forEach(defaultAgentChannel: options.agentChannel) { item in
            let stop = shared.with { s -> Bool in
                let stop = self.wasStopped || s.firstError != nil
                if !stop { s.seen += 1 }
                return stop
            }
            if stop { return false }
            slots.wait()
            let connection = shared.with { $0.connections.removeLast() }
            group.enter()
            hashing.async { [options] in
                defer {
                    shared.with { $0.connections.append(connection) }
                    slots.signal()
                    group.leave()
                }
                let hash =
                    item.problem == nil
                    ? ((try? BatchRunner.contentHash(path: item.path, limits: options.limits, stop: self.stopFlag))
                        ?? "unreadable") : "none"
                do {
                    let added = try connection.enqueue(
                        item, contentHash: hash, standard: options.standard,
                        analysisVersion: options.analysisVersion, rescore: options.rescore)
                    if added { shared.with { $0.queued += 1 } }
                } catch {
                    shared.with { if $0.firstError == nil { $0.firstError = error } }
                }
            }
            return true
        }
        group.wait()
        if let error = shared.firstError { throw error }
        return (shared.queued, shared.seen)
    }

    /// Queues (unless only working), then works until the whole queue is finished.
    public func run(progress: BatchProgressSink?) throws -> BatchCounts {
        let db = try connect()
        try db.migrate()
        let (queued, seen) = try enqueue(into: db)
        if options.source != nil {
            FileHandle.standardError.write(
                Data("yusu batch: \(queued) of \(seen) files queued (the rest already queued or scored)\n".utf8))
        }
        if options.enqueueOnly {
            var counts = BatchCounts()
            counts.seen = seen
            return counts
        }
        let runId = try db.startRun(
            source: options.sourceDescription, standard: options.standard, jobs: options.jobs,
            version: options.version, worker: worker)
        progress?.started(totalFiles: try db.queueCounts().open)
        let started = Date()
        // The heartbeat renews the leases of the files in hand while their analyses run, and
        // looks at the whole queue for progress. It has a connection of its own.
        let heartbeat = try connect()
        let done = DispatchSemaphore(value: 0)
        let heartbeatThread = Thread { [self] in
            var renewed = Date()
            var polled = Date.distantPast
            while done.wait(timeout: .now() + 0.5) == .timedOut {
                let now = Date()
                if now.timeIntervalSince(renewed) >= options.leaseSeconds / 3 {
                    renewed = now
                    lock.lock()
                    let ids = Array(inHand)
                    lock.unlock()
                    try? heartbeat.renew(ids, worker: worker, leaseSeconds: options.leaseSeconds)
                }
                if now.timeIntervalSince(polled) >= options.queuePollSeconds {
                    polled = now
                    if let c = try? heartbeat.queueCounts() { progress?.queue(c, at: now) }
                }
            }
        }
        heartbeatThread.start()
        let group = DispatchGroup()
        for _ in 0..<max(1, options.jobs) {
            group.enter()
            Thread {
                defer { group.leave() }
                do { try self.work(runId: runId, progress: progress) } catch {
                    self.lock.lock()
                    if self.firstError == nil { self.firstError = error }
                    self.lock.unlock()
                    self.requestStop()
                }
            }.start()
        }
        group.wait()
        done.signal()
        let final = snapshot()
        let ending: BatchEnding = firstError.map { .stopped("\($0)") } ?? (wasStopped ? .interrupted : .complete)
        try? db.finishRun(runId, counts: final, interrupted: wasStopped)
        if let c = try? db.queueCounts() { progress?.queue(c, at: Date()) }
        progress?.done(
            counts: final, elapsedSeconds: Date().timeIntervalSince(started), ending: ending, totalFiles: final.seen)
        if let firstError { throw firstError }
        return final
    }

    private func snapshot() -> BatchCounts {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    /// One analysis slot: claim, score, write, until nothing is waiting or leased anywhere.
    /// After the first, each claim rides with the previous file's write (one wait a turn).
    private func work(runId: Int64, progress: BatchProgressSink?) throws {
        let db = try connect()
        var ahead: QueueEntry? = nil
        defer {
            // Stopping with a file claimed ahead: give it back rather than let its lease run out.
            if let ahead {
                try? db.release(ahead, worker: worker)
                lock.lock()
                inHand.remove(ahead.id)
                lock.unlock()
            }
        }
        while !wasStopped {
            let claimClock = Date()
            let claimed: QueueEntry
            if let next = ahead {
                claimed = next
                ahead = nil
            } else {
                guard let entry = try db.claim(worker: worker, leaseSeconds: options.leaseSeconds) else {
                    // Nothing to claim: done when nothing is open; otherwise other workers hold
                    // leases, which may yet run out (a dead worker), so wait and look again.
                    if try db.queueCounts().open == 0 { return }
                    Thread.sleep(forTimeInterval: min(0.25, options.leaseSeconds / 4))
                    continue
                }
                claimed = entry
                lock.lock()
                inHand.insert(entry.id)
                lock.unlock()
            }
            let entry = claimed
            var databaseSeconds = Date().timeIntervalSince(claimClock)
            let clock = Date()
            let outcome: CallOutcome
            do {
                outcome = try BatchRunner.analyze(
                    entry.item, standard: entry.standard, requireStereo: options.requireStereo,
                    limits: options.limits, stop: stopFlag)
            } catch {
                // Stopped half way: the file goes back to the queue for another worker.
                try? db.release(entry, worker: worker)
                lock.lock()
                inHand.remove(entry.id)
                lock.unlock()
                return
            }
            let record = CallRecord(
                item: entry.item, contentHash: entry.contentHash, standard: entry.standard,
                analysisVersion: entry.analysisVersion, runId: runId, outcome: outcome,
                analysisSeconds: Date().timeIntervalSince(clock))
            var audio: Double? = nil
            if case .scored(let m, _) = outcome { audio = m.durationSeconds }
            // The rows are built first: the database time is the time spent in the database.
            let rows = try record.rows(scoredAt: ResultsDatabase.timestamp())
            let writeClock = Date()
            let (kept, next) = try db.complete(
                entry, worker: worker, rows: rows, scored: outcome.isScored, audioSeconds: audio,
                thenClaimFor: wasStopped ? nil : options.leaseSeconds)
            databaseSeconds += Date().timeIntervalSince(writeClock)
            lock.lock()
            inHand.remove(entry.id)
            if let next { inHand.insert(next.id) }
            lock.unlock()
            ahead = next
            let result: BatchFileOutcome
            switch outcome {
            case .scored(let m, let card):
                result = kept ? .scored(durationSeconds: m.durationSeconds, score: card.score) : .skipped
            case .failed(let reason): result = kept ? .failed(reason) : .skipped
            }
            lock.lock()
            counts.add(result)
            counts.databaseSeconds += databaseSeconds
            let now = counts
            lock.unlock()
            progress?.finished(item: entry.item, outcome: result, counts: now)
        }
    }
}
