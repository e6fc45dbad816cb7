import Foundation

/// Progress on standard error: a redrawn bar on a terminal, plain log lines otherwise
/// (cron mail, CI logs).
public final class TerminalProgress: BatchProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal: Bool
    private let quiet: Bool
    private var total = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private let write: @Sendable (String) -> Void
    /// The whole shared queue (PostgreSQL), when there is one: the bar shows it.
    private var queue: QueueCounts?
    /// (time, files finished in the whole queue): the queue's pace over the last minutes.
    private var queueSamples: [(Date, Int)] = []
    private var lastQueueLine = Date.distantPast
    /// Seconds between queue lines when standard error is not a terminal.
    public var queueLineSeconds = 60.0

    public init(
        isTerminal: Bool = isatty(STDERR_FILENO) == 1, quiet: Bool = false,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.isTerminal = isTerminal
        self.quiet = quiet
        self.write = write
    }

    public func started(totalFiles: Int) {
        lock.lock()
        defer { lock.unlock() }
        total = totalFiles
        started = Date()
        if !isTerminal && !quiet { write("yusu batch: \(plural(totalFiles, "file")) to look at\n") }
    }

    public func finished(item: BatchItem, outcome: BatchFileOutcome, counts: BatchCounts) {
        lock.lock()
        defer { lock.unlock() }
        // Files that arrived after the count make the total grow, never the remainder negative.
        total = max(total, counts.seen)
        if isTerminal {
            let now = Date()
            if now.timeIntervalSince(lastDraw) > 0.1 || counts.seen == total {
                lastDraw = now
                write("\r\u{1B}[2K" + line(counts))
            }
            if case .failed(let reason) = outcome {
                write(
                    "\r\u{1B}[2Kfailed: \(ArchiveSource.printable(item.path, limit: .max)): \(reason)\n" + line(counts))
            }
        } else if !quiet {
            let status: String
            switch outcome {
            case .scored(let duration, let score):
                status = String(
                    format: "scored %.0f s, score %@", duration, score.map { String(format: "%.0f", $0) } ?? "n/a")
            case .skipped: status = "skipped (already scored)"
            case .elsewhere: status = "scored by another batch"
            case .failed(let reason): status = "FAILED: \(reason)"
            }
            write("[\(counts.seen)/\(total)] \(ArchiveSource.printable(item.path, limit: .max)): \(status)\n")
        }
    }

    public func done(counts: BatchCounts, elapsedSeconds: Double, ending: BatchEnding, totalFiles: Int) {
        lock.lock()
        defer { lock.unlock() }
        total = max(total, totalFiles, counts.seen)
        if isTerminal { write("\r\u{1B}[2K" + line(counts) + "\n") }
        if let queue, !quiet, !isTerminal {
            write("yusu batch: queue " + Self.queueStatus(queue, samples: queueSamples) + "\n")
        }
        let totals = Self.totals(counts, elapsedSeconds: elapsedSeconds)
        let notVisited = "\(max(0, total - counts.seen)) of \(plural(total, "file")) not visited"
        switch ending {
        case .complete: write("yusu batch: \(totals)\n")
        // The last line must say so: cron mail and CI read it (the exit status is 130 or 1).
        case .interrupted: write("yusu batch: INTERRUPTED: \(totals); \(notVisited), run again to finish\n")
        case .stopped(let reason):
            write("yusu batch: STOPPED: \(reason); \(totals); \(notVisited), run again when it is fixed\n")
        }
    }

    /// "3 scored, 0 skipped, 1 failed of 4 looked at; …"
    static func totals(_ counts: BatchCounts, elapsedSeconds: Double) -> String {
        let hours = counts.audioSeconds / 3600
        let rate = elapsedSeconds > 0 ? hours / (elapsedSeconds / 60) : 0
        var totals = "\(counts.scored) scored, \(counts.skipped) skipped, \(counts.failed) failed"
        if counts.elsewhere > 0 { totals += ", \(counts.elsewhere) scored by another batch" }
        totals +=
            " of \(counts.seen) looked at"
            + String(format: "; %.2f h of audio in %.1f s (%.2f h of audio per minute)", hours, elapsedSeconds, rate)
        if counts.databaseSeconds > 0 && counts.seen > 0 {
            totals += String(format: "; database %.1f ms per call", counts.databaseSeconds * 1000 / Double(counts.seen))
        }
        return totals
    }

    /// The whole shared queue, as every worker sees it: on a terminal it replaces this
    /// process's bar; otherwise a line every `queueLineSeconds`.
    public func queue(_ counts: QueueCounts, at now: Date = Date()) {
        lock.lock()
        defer { lock.unlock() }
        queue = counts
        queueSamples.append((now, counts.finished))
        // The pace of the last five minutes, so that an ETA follows workers joining or leaving.
        while queueSamples.count > 2, now.timeIntervalSince(queueSamples[0].0) > 300 { queueSamples.removeFirst() }
        if isTerminal {
            write("\r\u{1B}[2K" + Self.queueStatus(counts, samples: queueSamples))
        } else if !quiet && now.timeIntervalSince(lastQueueLine) >= queueLineSeconds {
            lastQueueLine = now
            write("yusu batch: queue " + Self.queueStatus(counts, samples: queueSamples) + "\n")
        }
    }

    private func line(_ counts: BatchCounts) -> String {
        if let queue { return Self.queueStatus(queue, samples: queueSamples) }
        return bar(counts)
    }

    /// Files per second finished in the whole queue over the samples, nil before there is a pace.
    static func queuePace(_ samples: [(Date, Int)]) -> Double? {
        guard let first = samples.first, let last = samples.last else { return nil }
        let seconds = last.0.timeIntervalSince(first.0)
        guard seconds > 0, last.1 > first.1 else { return nil }
        return Double(last.1 - first.1) / seconds
    }

    /// "[####------] 120/200 files  3 failed  4 leased by 2 workers  73 waiting  2.10 h audio
    /// 30.0 files/min  ETA 0:02:26" (one line)
    public static func queueStatus(_ q: QueueCounts, samples: [(Date, Int)]) -> String {
        let width = 20
        let share = q.total > 0 ? Double(q.finished) / Double(q.total) : 1
        let filled = max(0, min(width, Int(share * Double(width))))
        let pace = queuePace(samples)
        let eta = q.open == 0 ? "0:00:00" : pace.map { clock(Double(q.open) / $0) } ?? "--:--:--"
        return String(
            format: "[%@%@] %d/%d files  %d failed  %d leased by %d worker%@  %d waiting  %.2f h audio  %@  ETA %@",
            String(repeating: "#", count: filled), String(repeating: "-", count: width - filled),
            q.finished, q.total, q.failed, q.leased, q.leaseHolders, q.leaseHolders == 1 ? "" : "s", q.waiting,
            q.audioSecondsDone / 3600, pace.map { String(format: "%.1f files/min", $0 * 60) } ?? "-- files/min", eta)
    }

    private func bar(_ counts: BatchCounts) -> String {
        let width = 30
        let share = total > 0 ? min(1, Double(counts.seen) / Double(total)) : 1
        let filled = max(0, min(width, Int(share * Double(width))))
        let elapsed = Date().timeIntervalSince(started)
        let eta = counts.seen > 0 ? elapsed / Double(counts.seen) * Double(max(0, total - counts.seen)) : 0
        return String(
            format: "[%@%@] %d/%d files  %.2f h audio  ETA %@  %d failed",
            String(repeating: "#", count: filled), String(repeating: "-", count: width - filled),
            counts.seen, total, counts.audioSeconds / 3600, Self.clock(eta), counts.failed)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }
}

/// "1 file", "3 files".
public func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
