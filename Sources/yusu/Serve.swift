import ArgumentParser
import Foundation
import Logging
import YusuBatch
import YusuDelivery
import YusuPostgres
import YusuServe
import YusuSignal

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the QA team's service: the API (/v1), the dashboard, live calls, /metrics and /healthz.",
        discussion: """
            Serves the results database that 'yusu batch' writes (an SQLite file, or postgres://… shared by several \
            instances behind a load balancer). Every request but /healthz, /metrics and /login needs a token: 'yusu \
            token create --db …' makes one. The API is described in schema/openapi.v1.yaml. TLS belongs to a reverse \
            proxy (README: Run it as a service).

            SIGTERM or Ctrl-C stops accepting connections, finishes the requests under way (scoring included) and \
            exits 0.
            """
    )

    @Option(
        name: .long,
        help:
            """
            The results database: an SQLite file, or postgres://user@host:port/dbname (password from PGPASSWORD or \
            a password file).
            """
    )
    var db: String

    @Option(name: .long, help: "Address and port to listen on (port 0: any free port, printed at start).")
    var listen: String = "127.0.0.1:8080"

    @Option(
        name: .long,
        help:
            """
            A folder to keep uploaded recordings in (POST /v1/score?store=true); without it uploads are scored and \
            not kept.
            """
    )
    var recordings: String?

    @Option(name: .long, help: "Largest upload, MiB.")
    var maxUploadMb: Int = 256

    @Option(name: .long, help: "Uploads scored at once.")
    var jobs: Int = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    @Option(
        name: .long, help: "Uploads that may wait for a scoring slot; beyond that the answer is 503 with Retry-After.")
    var queue: Int = 16

    @Option(name: .long, help: "Longest time to answer a request, seconds (a recording's streamed body excepted).")
    var requestTimeoutS: Double = 120

    @Option(name: .long, help: "Live calls (WebSocket /v1/live) open at once.")
    var maxLiveCalls: Int = 500

    @Option(
        name: .long,
        help:
            """
            Connections open at once, live calls included; one more is answered 503 with Retry-After and closed \
            (default: what the process's file-handle limit allows, up to 10000).
            """)
    var maxConnections: Int?

    @Option(
        name: .long,
        help: "Seconds a client has, from connecting, to send its request's headers (else 408 and closed).")
    var headerTimeoutS: Double = 10

    @Option(
        name: .long,
        help:
            """
            Seconds a request body may stop arriving while the server reads it (else 408 and closed); a slow \
            upload that keeps moving goes on.
            """)
    var bodyTimeoutS: Double = 30

    @Option(
        name: .long,
        help:
            """
            Seconds an answer may wait for a client that has stopped reading it (else the connection is closed); \
            a live call's client that stops reading its lines is ended the same way.
            """)
    var sendTimeoutS: Double = 60

    @OptionGroup var standard: StandardOption

    @OptionGroup var duration: DurationLimitOption

    @OptionGroup var step: AnalysisStepOption

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard parseListen() != nil else {
            throw ValidationError("--listen must be host:port with a port from 0 to 65535 (got '\(listen)')")
        }
        guard (1...16_384).contains(maxUploadMb) else {
            throw ValidationError("--max-upload-mb must be from 1 to 16384 (got \(maxUploadMb))")
        }
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be from 1 to 256 (got \(jobs))") }
        guard (0...10_000).contains(queue) else {
            throw ValidationError("--queue must be from 0 to 10000 (got \(queue))")
        }
        guard requestTimeoutS >= 1 && requestTimeoutS <= 86_400 else {
            throw ValidationError("--request-timeout-s must be from 1 to 86400 (got \(requestTimeoutS))")
        }
        guard (1...100_000).contains(maxLiveCalls) else {
            throw ValidationError("--max-live-calls must be from 1 to 100000 (got \(maxLiveCalls))")
        }
        if let maxConnections {
            guard (2...1_000_000).contains(maxConnections) else {
                throw ValidationError("--max-connections must be from 2 to 1000000 (got \(maxConnections))")
            }
            guard maxConnections > maxLiveCalls else {
                throw ValidationError(
                    """
                    --max-connections (\(maxConnections)) must be above --max-live-calls (\(maxLiveCalls)): each live \
                    call holds a connection, and the pages and API need some too
                    """)
            }
        }
        for (flag, value) in [
            ("--header-timeout-s", headerTimeoutS), ("--body-timeout-s", bodyTimeoutS),
            ("--send-timeout-s", sendTimeoutS),
        ] {
            guard value >= 0.1 && value <= 3_600 else {
                throw ValidationError("\(flag) must be from 0.1 to 3600 seconds (got \(value))")
            }
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level must be one of trace, debug, info, notice, warning, error, critical (got '\(logLevel)')")
        }
    }

    /// Raises this process's open-file limit to its hard limit (as servers do at start), and
    /// returns the limit now in force: each connection holds a file handle.
    static func raiseFileHandleLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let wanted = min(limit.rlim_max, 65_536)
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, 1 << 30))
    }

    func parseListen() -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":") else { return nil }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty, let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port) else {
            return nil
        }
        return (host, port)
    }

    func run() throws {
        let engine: ServeDatabase.Engine =
            PostgresTarget.isURL(db) ? .postgres(try postgresTarget(db)) : .sqlite(path: db)
        var configuration = ServeConfiguration(database: engine)
        (configuration.host, configuration.port) = parseListen()!
        if let recordings {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: recordings, isDirectory: &isDirectory), isDirectory.boolValue,
                access(recordings, W_OK) == 0
            else {
                printError("\(recordings): --recordings must be a folder this user can write to")
                throw ExitCode(1)
            }
            configuration.recordingsDirectory = URL(fileURLWithPath: recordings).standardizedFileURL.path
        }
        configuration.maxUploadBytes = maxUploadMb << 20
        configuration.scoringJobs = jobs
        configuration.scoringQueue = queue
        configuration.requestTimeoutSeconds = requestTimeoutS
        configuration.maxLiveCalls = maxLiveCalls
        configuration.liveAnalysisStepSeconds = step.seconds(or: CallOptions.serviceAnalysisStepSeconds)
        let handles = Self.raiseFileHandleLimit()
        configuration.connections.maxConnections = maxConnections ?? max(maxLiveCalls + 16, min(10_000, handles - 64))
        configuration.connections.headerTimeoutSeconds = headerTimeoutS
        configuration.connections.bodyTimeoutSeconds = bodyTimeoutS
        configuration.connections.sendTimeoutSeconds = sendTimeoutS
        configuration.limits = InputLimits(
            maximumFileBytes: Int64(maxUploadMb) << 20, maximumDurationSeconds: duration.maxDurationS)
        configuration.version = Yusu.configuration.version
        if standard.standard != nil { configuration.standard = try standard.load() }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "yusu")
        logger.logLevel = Logger.Level(rawValue: logLevel)!
        let app: any ApplicationRunner
        do {
            app = try ServeRunner(configuration: configuration, logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task {
            do { try await app.run() } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error {
            let text = "\(error)"
            if text.contains("Address already in use") {
                printError(
                    """
                    cannot listen on \(listen): the address is in use (another yusu serve, or another program, \
                    holds it)
                    """
                )
            } else if text.contains("Cannot assign requested address") || text.contains("bind(") {
                printError("cannot listen on \(listen): \(text)")
            } else {
                printError("the service stopped: \(text)")
            }
            throw ExitCode(1)
        }
    }
}

final class FailureBox: @unchecked Sendable { var error: Error? }

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage the service's access tokens (stored hashed in the results database).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    enum ScopeOption: String, ExpressibleByArgument, CaseIterable { case read, write }

    static func open(_ db: String) throws -> ServeDatabase {
        try reportingErrors {
            if PostgresTarget.isURL(db) { return try ServeDatabase(.postgres(try postgresTarget(db)), connections: 1) }
            if !FileManager.default.fileExists(atPath: db) { _ = try ResultsDatabase(path: db) }
            return try ServeDatabase(.sqlite(path: db), connections: 1)
        }
    }

    /// Runs `body`; any error but an exit code already decided is printed, and exits 1.
    static func reportingErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ExitCode {
            throw error
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Make a token and print it (once: only its hash is kept).")
        @Option(name: .long, help: "The results database (created when an SQLite file does not exist yet).") var db:
            String
        @Option(name: .long, help: "Who or what the token is for.") var name: String
        @Option(
            name: .long, help: "read (view calls and pages) or write (also upload recordings and stream live calls).")
        var scope: ScopeOption = .read

        func run() throws {
            let database = try Token.open(db)
            defer { database.close() }
            let made = try Token.reportingErrors {
                try database.now {
                    try AccessTokens.create(in: $0, name: name, scope: AccessTokens.Scope(rawValue: scope.rawValue)!)
                }
            }
            print(made.token)
            FileHandle.standardError.write(
                Data(
                    """
                    yusu token: made token \(made.info.id) '\(made.info.name)' (\(made.info.scope.rawValue)); it \
                    is shown only now\n
                    """
                    .utf8))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the tokens (never the tokens themselves).")
        @Option(name: .long, help: "The results database.") var db: String
        func run() throws {
            let database = try Token.open(db)
            defer { database.close() }
            let tokens = try reportingDatabaseErrors { try database.now { try AccessTokens.list(in: $0) } }
            print("id\tscope\tcreated_at\trevoked_at\tname")
            for t in tokens { print("\(t.id)\t\(t.scope.rawValue)\t\(t.createdAt)\t\(t.revokedAt ?? "-")\t\(t.name)") }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke a token by id, or every token of a name.")
        @Option(name: .long, help: "The results database.") var db: String
        @Argument(help: "The token's id (from 'yusu token list') or name.") var token: String
        func run() throws {
            let database = try Token.open(db)
            defer { database.close() }
            let n = try reportingDatabaseErrors {
                try database.now { try AccessTokens.revoke(in: $0, idOrName: token) }
            }
            guard n > 0 else {
                printError("no live token with id or name '\(token)'")
                throw ExitCode(1)
            }
            print("revoked \(n) token\(n == 1 ? "" : "s")")
        }
    }
}
