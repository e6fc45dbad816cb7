import Foundation
import Testing
import YusuBatch
import YusuDelivery
import YusuPostgres
import YusuTestSupport

enum RuleBookCount { static var value: Int { RuleBook.all.count } }

/// A real PostgreSQL server for the tests: Debian's binaries, `initdb` into a temporary
/// folder (as the `postgres` user when the tests run as root), `pg_ctl start` on a loopback
/// port with password authentication, stopped when the test ends.
final class TestPostgres: @unchecked Sendable {
    /// Where Debian keeps the server binaries (YUSU_POSTGRES_ROOT moves it: hiding them
    /// shows that the guard below fails).
    static let root = ProcessInfo.processInfo.environment["YUSU_POSTGRES_ROOT"] ?? "/usr/lib/postgresql"
    static let binaries: String? = findBinaries(under: root)
    static let required = ProcessInfo.processInfo.environment["YUSU_REQUIRE_POSTGRES"] == "1"

    static func findBinaries(under root: String) -> String? {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted {
            (Int($0) ?? 0) > (Int($1) ?? 0)
        }
        return versions.map { "\(root)/\($0)/bin" }.first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
        }
    }

    /// The guard: why the PostgreSQL tests cannot run where they are required, or nil.
    static func missing(required: Bool, binaries: String?) -> String? {
        required && binaries == nil
            ? """
            YUSU_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries (initdb) under \(root): install Debian's \
            postgresql
            """
            : nil
    }
    static let password = "yusu-test-secret"

    let dir: String
    private(set) var port: Int
    var url: String { "postgres://postgres@127.0.0.1:\(port)/yusu" }
    /// The environment a client needs (the password never on a command line).
    var environment: [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["PGPASSWORD"] = Self.password
        return e
    }

    init() throws {
        dir = NSTemporaryDirectory() + "yusu-pg-\(UUID().uuidString.prefix(8))"
        port = Self.freshPort()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data((Self.password + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/pw"))
        if getuid() == 0 {
            let chown = Process()
            chown.executableURL = URL(fileURLWithPath: "/bin/chown")
            chown.arguments = ["-R", "postgres:postgres", dir]
            try chown.run()
            chown.waitUntilExit()
        }
        try Self.asPostgres(
            """
            '\(Self.binaries!)/initdb' -D '\(dir)/data' -U postgres --pwfile='\(dir)/pw' --auth-local=trust \
            --auth-host=scram-sha-256 -E UTF8
            """
        )
        try start(movingIfTaken: true)
        try Self.asPostgres(
            "PGPASSWORD='\(Self.password)' '\(Self.binaries!)/createdb' -h 127.0.0.1 -p \(port) -U postgres yusu")
    }

    /// Starts the server on `port`. On its first start (`movingIfTaken`), when that port turns
    /// out to be taken (another test's server, or a connection's local port), on another one,
    /// up to five tries; a restart keeps its port, as its clients know it. A failure says what
    /// the server's log said.
    func start(movingIfTaken: Bool = false) throws {
        for attempt in 1...5 {
            do {
                try Self.asPostgres(
                    """
                    '\(Self.binaries!)/pg_ctl' -D '\(dir)/data' -l '\(dir)/log' -w -o \"-p \(port) -k '\(dir)' -c \
                    listen_addresses=127.0.0.1 -c fsync=off\" start
                    """
                )
                return
            } catch {
                let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
                let taken = log.contains("could not bind") || log.contains("already in use")
                guard movingIfTaken && taken && attempt < 5 else {
                    throw NSError(
                        domain: "postgres", code: 1,
                        userInfo: [NSLocalizedDescriptionKey: "\(error); server log: \(log.suffix(2000))"])
                }
                port = Self.freshPort()
            }
        }
    }

    /// A port for a test server: below the kernel's range for connections' local ports
    /// (ip_local_port_range, 32768–60999 by default), where the servers the tests start on
    /// port 0 and every client connection take theirs.
    static func freshPort() -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = range.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        return low > 12000 ? Int.random(in: 10000..<low) : 20000 + Int.random(in: 0..<20000)
    }

    func stop(mode: String = "fast") {
        _ = try? Self.asPostgres("'\(Self.binaries!)/pg_ctl' -D '\(dir)/data' -m \(mode) -w stop")
    }

    deinit {
        stop(mode: "immediate")
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The first row's columns as whole numbers (counts), through the product's own client.
    func ints(_ statement: String) throws -> [Int] {
        try PostgresResults(target: try PostgresTarget(url: url, environment: environment)).integers(statement)
    }

    func int(_ statement: String) throws -> Int { try ints(statement).first ?? -1 }

    func exec(_ statement: String) throws {
        try PostgresResults(target: try PostgresTarget(url: url, environment: environment)).query(statement)
    }

    /// Runs a shell script (as the `postgres` user when root) with no pipes attached: a
    /// server it starts must not hold our pipes open.
    static func asPostgres(_ script: String) throws {
        let file = NSTemporaryDirectory() + "yusu-pg-\(UUID().uuidString.prefix(8)).sh"
        try Data(("set -e\n" + script + "\n").utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        chmod(file, 0o755)
        // posix_spawn and waitpid, not Foundation's Process: the server this starts stays
        // behind as our grandchild, and Process's exit monitoring did not come back from it.
        let arguments =
            getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", "/bin/sh", file] : ["/bin/sh", file]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [Int32(0), 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ) == 0 else {
            throw NSError(
                domain: "postgres", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot start \(arguments[0])"])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0 && exitCode == 0 else {
            throw NSError(
                domain: "postgres", code: Int(exitCode), userInfo: [NSLocalizedDescriptionKey: "failed: \(script)"])
        }
    }
}

/// Runs yusu in the background with an environment (standard error into `stderrFile`).
func spawnYusu(_ arguments: [String], environment: [String: String], stderrFile: String? = nil) throws -> Process {
    let p = Process()
    p.executableURL = CLI.executable
    p.arguments = arguments
    p.environment = environment
    p.standardOutput = FileHandle.nullDevice
    if let stderrFile {
        #expect(FileManager.default.createFile(atPath: stderrFile, contents: nil))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrFile))
    } else {
        p.standardError = FileHandle.nullDevice
    }
    try p.run()
    return p
}

/// The guard lives outside the suite it guards: that suite is disabled when the binaries
/// are missing, and a guard inside it would be disabled with it.
@Suite("PostgreSQL is there when required")
struct PostgresGuardTests {
    @Test("PostgreSQL is there when CI requires it")
    func present() {
        if let problem = TestPostgres.missing(required: TestPostgres.required, binaries: TestPostgres.binaries) {
            Issue.record("\(problem)")
        }
    }

    @Test("the guard fails when the binaries are hidden and CI requires them")
    func guardCanFail() {
        let hidden = TestPostgres.findBinaries(under: "/nonexistent/postgresql")
        #expect(hidden == nil)
        #expect(TestPostgres.missing(required: true, binaries: hidden) != nil)
        #expect(TestPostgres.missing(required: false, binaries: hidden) == nil)
    }
}

@Suite(
    "the nightly batch on PostgreSQL", .serialized,
    .enabled(
        if: TestPostgres.binaries != nil, "no PostgreSQL server binaries (Debian: postgresql) under /usr/lib/postgresql"
    ))
struct PostgresTests {
    @Test("no password at all: the message says where one goes")
    func missingPassword() throws {
        let pg = try TestPostgres()
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "PGPASSWORD")
        environment["PGPASSFILE"] = "/nonexistent"
        let r = try CLI.run(["report", "--db", pg.url], environment: environment)
        #expect(
            r.status == 1
                && r.stderr.contains(
                    "asks for a password and none was given: set PGPASSWORD, or put it in a password file"),
            "\(r.stderr)")
    }

    @Test("four workers on one archive of 200 calls: every file scored exactly once, the work shared")
    func fourWorkers() throws {
        let pg = try TestPostgres()
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 200, seconds: 4)
        let first = try spawnYusu(
            ["batch", dir.file("archive"), "--db", pg.url, "--jobs", "1", "--quiet"], environment: pg.environment)
        // Once the queue is filled, three more workers join (as three more machines would).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            if (try? pg.int("SELECT COUNT(*) FROM queue")) == paths.count { break }
        }
        let others = try (0..<3).map { _ in
            try spawnYusu(["batch", "--worker", "--db", pg.url, "--jobs", "1", "--quiet"], environment: pg.environment)
        }
        for p in [first] + others { p.waitUntilExit() }
        #expect(
            ([first] + others).allSatisfy { $0.terminationStatus == 0 },
            "\(([first] + others).map(\.terminationStatus))")
        #expect(try pg.ints("SELECT COUNT(*), COUNT(DISTINCT path) FROM calls") == [paths.count, paths.count])
        #expect(try pg.int("SELECT COUNT(*) FROM queue WHERE state = 'done'") == paths.count)
        #expect(try pg.int("SELECT COUNT(*) FROM verdicts") == paths.count * RuleBookCount.value)
        // Every worker did a share (the first started earlier, so it did more).
        let db = try PostgresResults(target: try PostgresTarget(url: pg.url, environment: pg.environment))
        let shares = try db.column("SELECT COUNT(*) FROM calls c JOIN runs r ON r.id = c.run_id GROUP BY r.worker")
        #expect(shares.count == 4 && shares.allSatisfy { $0 >= paths.count / 20 }, "\(shares)")
        // Queued again: nothing to do, nothing scored twice.
        let again = try CLI.run(["batch", dir.file("archive"), "--db", pg.url, "--quiet"], environment: pg.environment)
        #expect(again.status == 0 && again.stderr.contains("0 of \(paths.count) files queued"), "\(again.stderr)")
        #expect(try pg.int("SELECT COUNT(*) FROM calls") == paths.count)
    }

    @Test("a worker killed -9 mid-file loses only its lease: the file is scored once, by another")
    func killedWorker() throws {
        let pg = try TestPostgres()
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 24, seconds: 20)
        let first = try spawnYusu(
            ["batch", dir.file("archive"), "--db", pg.url, "--jobs", "1", "--lease-seconds", "2", "--quiet"],
            environment: pg.environment)
        // Let it get going, then kill it without warning while it holds a lease.
        let deadline = Date().addingTimeInterval(120)
        var leased = false
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            let done = (try? pg.int("SELECT COUNT(*) FROM queue WHERE state = 'done'")) ?? 0
            let held = (try? pg.int("SELECT COUNT(*) FROM queue WHERE state = 'leased'")) ?? 0
            if done >= 2 && held == 1 {
                leased = true
                break
            }
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(leased)
        #expect(try pg.int("SELECT COUNT(*) FROM queue WHERE state = 'leased'") == 1)
        let second = try CLI.run(
            ["batch", "--worker", "--db", pg.url, "--jobs", "2", "--lease-seconds", "2", "--quiet"],
            environment: pg.environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try pg.ints("SELECT COUNT(*), COUNT(DISTINCT path) FROM calls") == [paths.count, paths.count])
        #expect(try pg.int("SELECT COUNT(*) FROM queue WHERE state = 'done'") == paths.count)
        // The killed worker's file was claimed twice and written once.
        #expect(try pg.int("SELECT COUNT(*) FROM queue WHERE attempts >= 2") == 1)
    }

    @Test("a wrong password, a password in the URL, an older schema: each stops with a message that says which")
    func refusals() throws {
        let pg = try TestPostgres()
        var wrong = pg.environment
        wrong["PGPASSWORD"] = "not-it"
        let r = try CLI.run(["batch", "--worker", "--db", pg.url], environment: wrong)
        #expect(r.status == 1 && r.stderr.contains("password authentication failed"), "\(r.stderr)")
        #expect(!r.stderr.contains("not-it"))
        let inURL = try CLI.run(
            ["batch", "--worker", "--db", "postgres://postgres:secret@127.0.0.1:\(pg.port)/yusu"],
            environment: pg.environment)
        #expect(
            inURL.status == 64 && inURL.stderr.contains("carries a password") && !inURL.stderr.contains("secret@"),
            "\(inURL.stderr)")
        // A password file works as libpq's does.
        let dir = TemporaryDirectory()
        try Data("127.0.0.1:\(pg.port):*:postgres:\(TestPostgres.password)\n".utf8).write(
            to: URL(fileURLWithPath: dir.file("pgpass")))
        var fileEnv = ProcessInfo.processInfo.environment
        fileEnv["PGPASSFILE"] = dir.file("pgpass")
        let ok = try CLI.run(["batch", "--worker", "--db", pg.url, "--quiet"], environment: fileEnv)
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test("an older schema: workers stop and say so; 'yusu db migrate' upgrades it; then they work")
    func olderSchema() throws {
        let pg = try TestPostgres()
        let older = ResultsSQL.schemaVersion - 1
        let applied = try PostgresResults(target: try PostgresTarget(url: pg.url, environment: pg.environment)).migrate(
            upTo: older)
        #expect(applied.count == older)
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 2, seconds: 4)
        let refused = try CLI.run(["batch", dir.file("archive"), "--db", pg.url], environment: pg.environment)
        #expect(
            refused.status == 1
                && refused.stderr.contains(
                    "the results schema is version \(older), this Yusu uses version \(ResultsSQL.schemaVersion)")
                && refused.stderr.contains("yusu db migrate"), "\(refused.stderr)")
        #expect(try pg.int("SELECT COUNT(*) FROM calls") == 0)
        let migrate = try CLI.run(["db", "migrate", "--db", pg.url], environment: pg.environment)
        #expect(
            migrate.status == 0 && migrate.stdout.contains("applied: \(ResultsSQL.migrations.last!.identifier)"),
            "\(migrate.stdout)\(migrate.stderr)")
        let again = try CLI.run(["db", "migrate", "--db", pg.url], environment: pg.environment)
        #expect(again.status == 0 && again.stdout.contains("nothing to do"), "\(again.stdout)")
        let works = try CLI.run(["batch", dir.file("archive"), "--db", pg.url, "--quiet"], environment: pg.environment)
        #expect(works.status == 0, "\(works.stderr)")
        #expect(try pg.int("SELECT COUNT(*) FROM calls") == 2)
        // A newer schema than this Yusu's is refused too, by workers and by reports.
        try pg.exec("UPDATE meta SET value = '\(ResultsSQL.schemaVersion + 1)' WHERE key = 'schema_version'")
        let newer = try CLI.run(["batch", "--worker", "--db", pg.url], environment: pg.environment)
        #expect(newer.status == 1 && newer.stderr.contains("written by a newer Yusu"), "\(newer.stderr)")
        let report = try CLI.run(["report", "--db", pg.url], environment: pg.environment)
        #expect(report.status == 1 && report.stderr.contains("written by a newer Yusu"), "\(report.stderr)")
    }

    @Test(
        """
        yusu serve on PostgreSQL: the same night as on SQLite, served with the numbers yusu report prints; an \
        upload kept there
        """
    )
    func serveOnPostgres() throws {
        let pg = try TestPostgres()
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 8, agents: ["王芳", "agent_B"], seconds: 5)
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: dir.file("archive/agent_B/20261120/call_bad.wav")))
        let sqlite = dir.file("night.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", sqlite, "--quiet"]).status == 3)
        #expect(
            try CLI.run(["batch", dir.file("archive"), "--db", pg.url, "--quiet"], environment: pg.environment).status
                == 3)
        let pgToken = try CLI.run(
            ["token", "create", "--db", pg.url, "--name", "qa", "--scope", "write"], environment: pg.environment)
        #expect(pgToken.status == 0, "\(pgToken.stderr)")
        let liteToken = try CLI.run(["token", "create", "--db", sqlite, "--name", "qa", "--scope", "write"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let recordings = dir.file("kept")
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        let onPostgres = try ServeProcess(
            ["--db", pg.url, "--recordings", recordings], in: dir, environment: pg.environment)
        defer { onPostgres.stop() }
        let onSQLite = try ServeProcess(["--db", sqlite], in: dir)
        defer { onSQLite.stop() }
        let t = pgToken.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let served = try curl(onPostgres.base + "/v1/report", token: t)
        let cli = try CLI.run(["report", "--db", pg.url, "--format", "json"], environment: pg.environment)
        #expect(served.status == 200 && served.text == cli.stdout, "PostgreSQL: served report differs from yusu report")
        let liteReport = try curl(onSQLite.base + "/v1/report", token: liteToken)
        // Across engines the same numbers, but for the last bit of a mean: AVG adds the rows
        // in the order each engine holds them, and the batch's two jobs wrote them in either order.
        #expect(sameJSON(served.body, liteReport.body), "the two engines serve different nights")
        // The trend of an agent the night holds (an unknown one is a 404 on both).
        let agents = try curl(onPostgres.base + "/v1/agents", token: t).json["agents"] as? [[String: Any]] ?? []
        let agent = agents.first?["agent_id"] as? String ?? "?"
        for path in ["/v1/agents", "/v1/agents/\(percent(agent))/trend?by=day"] {
            let a = try curl(onPostgres.base + path, token: t)
            let b = try curl(onSQLite.base + path, token: liteToken)
            #expect(a.status == 200 && sameJSON(a.body, b.body), "\(path) differs: \(a.status) \(a.text.prefix(300))")
        }
        let pgCalls = try curl(onPostgres.base + "/v1/calls?per_page=500", token: t).json
        let liteCalls = try curl(onSQLite.base + "/v1/calls?per_page=500", token: liteToken).json
        #expect(pgCalls["total"] as? Int == 9 && pgCalls["total"] as? Int == liteCalls["total"] as? Int)
        let failed = (try curl(onPostgres.base + "/v1/runs", token: t)).json["runs"] as? [[String: Any]] ?? []
        #expect((failed.first?["failed_files"] as? [Any])?.count == 1)
        // An upload kept on PostgreSQL.
        let kept = try curl(
            onPostgres.base + "/v1/score?store=true&agent_id=agent_B&date=2026-11-21", method: "POST", token: t,
            bodyFile: fixturesDirectory() + "/demo_call.wav")
        #expect(kept.status == 201, "\(kept.text)")
        #expect(
            try curl(onPostgres.base + (kept.header("Location") ?? "/none"), token: t).json["agent_id"] as? String
                == "agent_B")
        #expect(try pg.int("SELECT COUNT(*) FROM calls") == 10)
    }

    @Test(
        """
        db copy moves an SQLite night into PostgreSQL; report reads the same text, CSV, JSON and HTML from either; \
        nothing is scored again
        """
    )
    func copyAndReport() throws {
        let pg = try TestPostgres()
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 12, agents: ["agent_A", "agent_B", "agent_C"], seconds: 5)
        let sqlite = dir.file("night.sqlite")
        // A bad file among them: failures travel too.
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: dir.file("archive/agent_A/20261120/call_bad.wav")))
        let night = try CLI.run(["batch", dir.file("archive"), "--db", sqlite, "--quiet"])
        #expect(night.status == 3, "\(night.stderr)")
        let copy = try CLI.run(
            ["db", "copy", "--from", sqlite, "--to", pg.url, "--quiet"], environment: pg.environment)
        #expect(copy.status == 0 && copy.stderr.contains("\(paths.count + 1) calls copied"), "\(copy.stderr)")
        #expect(try pg.ints("SELECT COUNT(*), COUNT(DISTINCT path) FROM calls") == [paths.count + 1, paths.count + 1])
        #expect(try pg.int("SELECT COUNT(*) FROM verdicts") == countRows(sqlite, "SELECT COUNT(*) FROM verdicts"))
        #expect(try pg.int("SELECT COUNT(*) FROM utterances") == countRows(sqlite, "SELECT COUNT(*) FROM utterances"))
        #expect(try pg.int("SELECT COUNT(*) FROM events") == countRows(sqlite, "SELECT COUNT(*) FROM events"))
        #expect(try pg.int("SELECT COUNT(*) FROM calls c LEFT JOIN runs r ON r.id = c.run_id WHERE r.id IS NULL") == 0)
        for format in ["text", "csv", "json", "html"] {
            let fromSQLite = try CLI.run(["report", "--db", sqlite, "--format", format])
            let fromPostgres = try CLI.run(["report", "--db", pg.url, "--format", format], environment: pg.environment)
            #expect(fromSQLite.status == 0 && fromPostgres.status == 0, "\(fromPostgres.stderr)")
            #expect(!fromSQLite.stdout.isEmpty && fromSQLite.stdout == fromPostgres.stdout, "\(format) differs")
        }
        // Copying again adds nothing; the archive queued on PostgreSQL scores nothing again
        // but the file that failed.
        let twice = try CLI.run(
            ["db", "copy", "--from", sqlite, "--to", pg.url, "--quiet"], environment: pg.environment)
        #expect(
            twice.status == 0 && twice.stderr.contains("0 calls copied")
                && twice.stderr.contains("\(paths.count + 1) already there"), "\(twice.stderr)")
        let queued = try CLI.run(
            ["batch", dir.file("archive"), "--db", pg.url, "--quiet"], environment: pg.environment)
        #expect(queued.stderr.contains("1 of \(paths.count + 1) files queued"), "\(queued.stderr)")
        #expect(try pg.ints("SELECT COUNT(*), COUNT(DISTINCT path) FROM calls") == [paths.count + 1, paths.count + 1])
        #expect(try pg.int("SELECT COUNT(*) FROM runs") == countRows(sqlite, "SELECT COUNT(*) FROM runs") + 1)
    }

    @Test(
        "the server restarted in the middle of a run: workers wait, reconnect and finish; nothing lost or scored twice")
    func serverRestart() throws {
        let pg = try TestPostgres()
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 60, seconds: 8)
        let logs = [dir.file("w0.log"), dir.file("w1.log")]
        let first = try spawnYusu(
            ["batch", dir.file("archive"), "--db", pg.url, "--jobs", "1", "--lease-seconds", "5"],
            environment: pg.environment, stderrFile: logs[0])
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, ((try? pg.int("SELECT COUNT(*) FROM queue")) ?? 0) < paths.count {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let second = try spawnYusu(
            ["batch", "--worker", "--db", pg.url, "--jobs", "1", "--lease-seconds", "5"],
            environment: pg.environment, stderrFile: logs[1])
        while Date() < deadline, ((try? pg.int("SELECT COUNT(*) FROM queue WHERE state = 'done'")) ?? 0) < 10 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        // A restart as an operator does it: connections cut, the server down for a moment.
        pg.stop(mode: "fast")
        let doneBefore = try? pg.int("SELECT COUNT(*) FROM queue WHERE state = 'done'")
        #expect(doneBefore == nil)  // really down
        Thread.sleep(forTimeInterval: 2)
        try pg.start()
        for p in [first, second] { p.waitUntilExit() }
        let stderr = logs.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0, "\(stderr)")
        #expect(stderr.allSatisfy { $0.contains("lost the database") && $0.contains("reconnected") }, "\(stderr)")
        #expect(try pg.ints("SELECT COUNT(*), COUNT(DISTINCT path) FROM calls") == [paths.count, paths.count])
        #expect(try pg.int("SELECT COUNT(*) FROM queue WHERE state = 'done'") == paths.count)
        #expect(try pg.int("SELECT COUNT(*) FROM verdicts") == paths.count * RuleBookCount.value)
        #expect(try pg.int("SELECT COUNT(*) FROM runs WHERE interrupted = 0") == 2)
    }
}

/// Equal JSON documents, numbers equal to 1e-12 of their size.
func sameJSON(_ a: Data, _ b: Data) -> Bool {
    func same(_ x: Any, _ y: Any) -> Bool {
        switch (x, y) {
        case (let x as [String: Any], let y as [String: Any]):
            return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { same(x[$0]!, y[$0]!) }
        case (let x as [Any], let y as [Any]): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (let x as String, let y as String): return x == y
        case (let x as NSNumber, let y as NSNumber):
            return abs(x.doubleValue - y.doubleValue) <= 1e-12 * max(1, abs(x.doubleValue))
        case (is NSNull, is NSNull): return true
        default: return false
        }
    }
    guard let x = try? JSONSerialization.jsonObject(with: a), let y = try? JSONSerialization.jsonObject(with: b) else {
        return false
    }
    return same(x, y)
}
