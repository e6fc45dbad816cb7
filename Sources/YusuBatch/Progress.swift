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

    public init(isTerminal: Bool = isatty(STDERR_FILENO) == 1, quiet: Bool = false,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.isTerminal = isTerminal
        self.quiet = quiet
        self.write = write
    }

    public func started(totalFiles: Int) {
        lock.lock(); defer { lock.unlock() }
        total = totalFiles
        started = Date()
        if !isTerminal && !quiet { write("yusu batch: \(totalFiles) files to look at\n") }
    }

    public func finished(item: BatchItem, outcome: BatchFileOutcome, counts: BatchCounts) {
        lock.lock(); defer { lock.unlock() }
        // Files that arrived after the count make the total grow, never the remainder negative.
        total = max(total, counts.seen)
        if isTerminal {
            let now = Date()
            if now.timeIntervalSince(lastDraw) > 0.1 || counts.seen == total {
                lastDraw = now
                write("\r\u{1B}[2K" + bar(counts))
            }
            if case .failed(let reason) = outcome { write("\r\u{1B}[2Kfailed: \(reason)\n" + bar(counts)) }
        } else if !quiet {
            let status: String
            switch outcome {
            case .scored(let duration, let score):
                status = String(format: "scored %.0f s, score %@", duration, score.map { String(format: "%.0f", $0) } ?? "n/a")
            case .skipped: status = "skipped (already scored)"
            case .failed(let reason): status = "FAILED: \(reason)"
            }
            write("[\(counts.seen)/\(total)] \(item.path): \(status)\n")
        }
    }

    public func done(counts: BatchCounts, elapsedSeconds: Double, interrupted: Bool, totalFiles: Int) {
        lock.lock(); defer { lock.unlock() }
        total = max(total, totalFiles, counts.seen)
        if isTerminal { write("\r\u{1B}[2K" + bar(counts) + "\n") }
        let hours = counts.audioSeconds / 3600
        let rate = elapsedSeconds > 0 ? hours / (elapsedSeconds / 60) : 0
        let totals = String(format: "%d scored, %d skipped, %d failed of %d looked at; %.2f h of audio in %.1f s (%.2f h of audio per minute)",
                            counts.scored, counts.skipped, counts.failed, counts.seen, hours, elapsedSeconds, rate)
        if interrupted {
            // The last line must say so: cron mail and CI read it (the exit status is 130).
            write("yusu batch: INTERRUPTED: \(totals); \(max(0, total - counts.seen)) of \(total) files not visited, run again to finish\n")
        } else {
            write("yusu batch: \(totals)\n")
        }
    }

    private func bar(_ counts: BatchCounts) -> String {
        let width = 30
        let share = total > 0 ? min(1, Double(counts.seen) / Double(total)) : 1
        let filled = max(0, min(width, Int(share * Double(width))))
        let elapsed = Date().timeIntervalSince(started)
        let eta = counts.seen > 0 ? elapsed / Double(counts.seen) * Double(max(0, total - counts.seen)) : 0
        return String(format: "[%@%@] %d/%d files  %.2f h audio  ETA %@  %d failed",
                      String(repeating: "#", count: filled), String(repeating: "-", count: width - filled),
                      counts.seen, total, counts.audioSeconds / 3600, Self.clock(eta), counts.failed)
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }
}
