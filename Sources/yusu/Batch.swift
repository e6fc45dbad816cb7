import ArgumentParser
import Foundation
import YusuBatch
import YusuDelivery
import YusuPostgres

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Score every call of an archive into a results database (nightly QA).",
        discussion: """
            SOURCE is a folder, walked recursively for every format 'yusu score' reads (.wav, .flac, .ogg, .opus, \
            .mp3, .aiff, .au, .caf, .w64, .rf64 in any case), or a manifest CSV with the header \
            path,agent_id,call_id,agent_channel (more columns are kept as metadata; a 'date' column gives the call's \
            day). Each call is written as it finishes; an interrupted batch loses nothing already written, and running \
            it again skips files already scored with the same content, standard and analysis version. Batches sharing \
            one SQLite file split the work between them.

            Exit status: 0 all scored; 3 some files failed (each is in the database with its reason, and in every \
            report); 4 nothing to score (no recording in SOURCE); 130 interrupted (Ctrl-C or SIGTERM; the last line \
            says how many files were not visited); 1 the batch could not run or had to stop (the results database \
            cannot be written: the last line says why); 64 bad usage.
            """
    )

    @Argument(help: "A folder of recordings, or a manifest .csv (omit with --worker).")
    var source: String?

    @Option(
        name: .long,
        help:
            """
            The results database: an SQLite file (created if missing), or postgres://user@host:port/dbname \
            (password from PGPASSWORD or a password file, never the URL).
            """
    )
    var db: String = "results.sqlite"

    @Flag(
        name: .long,
        help:
            """
            With a postgres:// database: only work the shared queue (no SOURCE), as many workers on as many \
            machines as you like.
            """
    )
    var worker = false

    @Flag(
        name: .long,
        help:
            "With a postgres:// database: only queue SOURCE and exit; workers (--worker) on any machine do the scoring."
    )
    var enqueueOnly = false

    @Option(
        name: .long,
        help:
            """
            With a postgres:// database: seconds a claimed file stays leased without renewal (renewed every third \
            of it while the analysis runs); a worker that dies releases its files after this.
            """
    )
    var leaseSeconds: Double = 60

    @Option(
        name: .long,
        help:
            """
            With a postgres:// database: seconds to wait for a server that went away (restart, failover) before \
            giving up; work resumes when it is back.
            """
    )
    var reconnectSeconds: Double = 300

    @OptionGroup var standard: StandardOption

    @Option(name: .long, help: "Parallel analyses (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .long, help: "Score again files already scored with the same content, standard and analysis version.")
    var rescore = false

    @Option(name: .long, help: "Agent channel when a manifest row does not say (0 or 1).")
    var agentChannel: Int = 0

    @Flag(name: .long, help: "Accept mono recordings (by default a batch expects agent and customer on two channels).")
    var allowMono = false

    @Option(
        name: .long,
        help: "Without a manifest: regular expression with a group (?<agent>...) matched on the path below SOURCE.")
    var agentIdPattern: String = PathPatterns.defaultAgent

    @Option(name: .long, help: "Without a manifest: regular expression with a group (?<call>...).")
    var callIdPattern: String = PathPatterns.defaultCall

    @Option(
        name: .long,
        help:
            """
            Without a manifest: regular expression with a group (?<date>...) (yyyy-MM-dd or yyyyMMdd); otherwise \
            the file's modification day.
            """
    )
    var datePattern: String = PathPatterns.defaultDate

    @Flag(name: .long, help: "Only the final summary line (no progress).")
    var quiet = false

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        if worker {
            guard PostgresTarget.isURL(db) else {
                throw ValidationError("--worker works a shared queue: it needs --db postgres://…")
            }
            guard source == nil else { throw ValidationError("--worker takes no SOURCE (it only works the queue)") }
        } else if source == nil {
            throw ValidationError("missing SOURCE (a folder or a manifest), or --worker with --db postgres://…")
        }
        if enqueueOnly {
            guard PostgresTarget.isURL(db) else {
                throw ValidationError("--enqueue-only fills a shared queue: it needs --db postgres://…")
            }
            guard !worker && source != nil else {
                throw ValidationError("--enqueue-only needs SOURCE (and no --worker)")
            }
        }
        guard leaseSeconds >= 1 && leaseSeconds <= 3600 else {
            throw ValidationError("--lease-seconds must be 1...3600")
        }
        guard reconnectSeconds >= 0 && reconnectSeconds <= 86400 else {
            throw ValidationError("--reconnect-seconds must be 0...86400")
        }
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be 1...256 (got \(jobs))") }
        guard agentChannel == 0 || agentChannel == 1 else {
            throw ValidationError("--agent-channel must be 0 or 1 (got \(agentChannel))")
        }
    }

    func run() throws {
        let rules = try standard.load()
        let source = try archive(self.source)
        if PostgresTarget.isURL(db) { return try runOnPostgres(rules, source: source) }
        guard let source else { return }
        var options = BatchOptions(
            source: source, sourceDescription: self.source ?? "", databasePath: db, standard: rules)
        options.jobs = jobs
        options.rescore = rescore
        options.agentChannel = agentChannel
        options.requireStereo = !allowMono
        options.limits = limits.inputLimits
        options.version = Yusu.configuration.version
        let runner = BatchRunner(options: options)
        // Nothing is created for a night with nothing in it.
        let survey = try reportingDatabaseErrors { try runner.survey() }
        try refuseEmpty(survey)
        warnWithoutAgent(survey)
        // Ctrl-C / SIGTERM: stop the calls under way, record the run as interrupted.
        let stop = StopSignals(runner: runner)
        defer { withExtendedLifetime(stop) {} }
        let counts = try reportingDatabaseErrors {
            try runner.run(progress: TerminalProgress(quiet: quiet), survey: survey)
        }
        try exitStatus(counts, stopped: runner.wasStopped, stopReason: runner.stopReason)
    }

    /// Calls scored under agent "unknown" are said before the night starts, not found in the
    /// report afterwards.
    func warnWithoutAgent(_ survey: ArchiveSource.Survey) {
        guard survey.withoutAgent > 0 else { return }
        let n = survey.withoutAgent
        let line = """
            yusu batch: warning: \(n) of \(survey.recordings) recording\(survey.recordings == 1 ? "" : "s") \
            name\(n == 1 ? "s" : "") no agent (no folder above the file): scored as agent 'unknown'. Lay the \
            archive out as AGENT/…/FILE, give a manifest CSV with agent_id, or set --agent-id-pattern.
            """
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// An archive with no recording in it is not a night that went well: exit 4 and a line
    /// that says what was looked at and what was skipped.
    func refuseEmpty(_ survey: ArchiveSource.Survey) throws {
        guard survey.recordings == 0 else { return }
        var line = "yusu batch: NOTHING TO SCORE: no recordings in \(self.source ?? "")"
        if case .directory = try archive(self.source) {
            line += " (looked for \(ArchiveSource.audioExtensions.sorted().map { "." + $0 }.joined(separator: " ")))"
        }
        if !survey.skippedText.isEmpty { line += "; " + survey.skippedText }
        FileHandle.standardError.write(Data((line + "\n").utf8))
        throw ExitCode(4)
    }

    /// Stopped by a failure that would repeat: 1. Interrupted (Ctrl-C, SIGTERM): 128 +
    /// SIGINT, the shell's convention, so cron and CI never take a partial night for a whole
    /// one. 3 when some files failed.
    func exitStatus(_ counts: BatchCounts, stopped: Bool, stopReason: String? = nil) throws {
        if stopReason != nil { throw ExitCode(1) }
        if stopped { throw ExitCode(130) }
        if counts.failed > 0 { throw ExitCode(3) }
    }
}

extension Batch {
    /// The archive for SOURCE (a folder or a manifest); nil without SOURCE (a worker).
    /// Checked before anything is created: a recording given as SOURCE is refused with a
    /// pointer to 'yusu score', and a manifest must open and name its 'path' column.
    func archive(_ source: String?) throws -> ArchiveSource? {
        guard let source else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            printError("\(source): no such folder or manifest")
            throw ExitCode(1)
        }
        guard isDirectory.boolValue else {
            if ArchiveSource.looksLikeAudio(path: source) {
                printError(
                    """
                    \(source) is a recording, not a folder or a manifest: to score one call, use 'yusu score \
                    \(source)'
                    """
                )
                throw ExitCode.validationFailure
            }
            let manifest = ArchiveSource.manifest(source)
            try reportingDatabaseErrors { try manifest.validate() }
            return manifest
        }
        do {
            return .directory(source, try PathPatterns(agent: agentIdPattern, call: callIdPattern, date: datePattern))
        } catch let error as PathPatterns.PatternError {
            printError(error.description)
            throw ExitCode(64)
        }
    }

    /// The shared queue on PostgreSQL: queue SOURCE (unless --worker), then work it.
    func runOnPostgres(_ rules: Standard, source: ArchiveSource?) throws {
        var options = PostgresBatch.Options(
            target: try postgresTarget(db), source: source,
            sourceDescription: self.source ?? "(worker)", standard: rules)
        options.limits = limits.inputLimits
        options.jobs = jobs
        options.rescore = rescore
        options.agentChannel = agentChannel
        options.requireStereo = !allowMono
        options.version = Yusu.configuration.version
        options.leaseSeconds = leaseSeconds
        options.reconnectSeconds = reconnectSeconds
        options.enqueueOnly = enqueueOnly
        let progress = TerminalProgress(quiet: quiet)
        // A terminal redraws the whole queue often; a log gets a queue line a minute.
        options.queuePollSeconds = isatty(STDERR_FILENO) == 1 ? 2 : 60
        let runner = PostgresBatch(options: options)
        let stop = StopSignals(
            message: "yusu batch: stopping: the files under way end now and are not recorded (again to abort)"
        ) { runner.requestStop() }
        defer { withExtendedLifetime(stop) {} }
        if let source {
            let survey = try reportingDatabaseErrors { try source.survey() }
            try refuseEmpty(survey)
            warnWithoutAgent(survey)
        }
        let counts = try reportingDatabaseErrors { try runner.run(progress: progress) }
        try exitStatus(counts, stopped: runner.wasStopped)
    }
}

/// Turns SIGINT and SIGTERM into a graceful stop of the batch.
final class StopSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    convenience init(runner: BatchRunner) {
        self.init(message: "yusu batch: stopping: the files under way end now and are not recorded (again to abort)") {
            runner.requestStop()
        }
    }
    init(message: String, stop: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("\n\(message)\n".utf8))
                stop()
                signal(sig, SIG_DFL)
            }
            source.resume()
            sources.append(source)
        }
    }
}
