import Foundation
import GRDB
import Testing
import YusuBatch
import YusuSignal
import YusuTestSupport

/// What runs a command as an unprivileged user when the tests run as root (CI does), so
/// that permission checks are tested there too: util-linux's setpriv, as `nobody`. The yusu
/// binary is copied where that user can run it.
enum Unprivileged {
    static let isRoot = getuid() == 0
    static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// yusu where `nobody` can execute it.
    static let executable: String = {
        guard isRoot else { return CLI.executable.path }
        let dir = "/tmp/yusu-unprivileged-\(getpid())"
        try? FileManager.default.createDirectory(
            atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = dir + "/yusu"
        try? FileManager.default.removeItem(atPath: path)
        // Copied by cp in a process of its own: a file this process held open for writing
        // would be inherited by whatever another test forks meanwhile, and exec of the copy
        // would fail with "Text file busy" until that child exits.
        _ = try? CLI.run(executable: URL(fileURLWithPath: "/bin/cp"), [CLI.executable.path, path])
        chmod(path, 0o755)
        return path
    }()

    /// Why commands cannot be run unprivileged here, or nil when they can.
    static var unavailable: String? {
        guard isRoot else { return nil }
        return setpriv == nil ? "setpriv (util-linux) is not installed" : nil
    }

    static func run(_ arguments: [String]) throws -> CLI.Result {
        guard isRoot else { return try CLI.run(arguments) }
        return try CLI.run(
            executable: URL(fileURLWithPath: setpriv!),
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", executable] + arguments)
    }

    /// Makes `dir` and its parents enterable by `nobody`.
    static func open(_ dir: String) {
        var path = dir
        while path != "/" && !path.isEmpty {
            var status = stat()
            if stat(path, &status) == 0 { chmod(path, status.st_mode & 0o7777 | 0o755) }
            path = (path as NSString).deletingLastPathComponent
        }
    }
}

/// Runs a shell script in a mount namespace of its own (a tmpfs, a read-only bind mount),
/// as root; nil when this machine does not allow it.
enum Namespaces {
    static let unavailable: String? = {
        guard getuid() == 0 else { return "mount namespaces need root here" }
        guard let r = try? CLI.run(executable: URL(fileURLWithPath: "/usr/bin/unshare"), ["-m", "true"]), r.status == 0
        else {
            return "unshare -m is not permitted on this machine"
        }
        return nil
    }()

    static func run(_ script: String) throws -> CLI.Result {
        try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/unshare"), ["-m", "/bin/sh", "-c", script])
    }
}

/// Runs yusu, killing it if it has not finished within `seconds`: a hang is a failure.
func runWithin(_ seconds: Double, _ arguments: [String]) throws -> (result: CLI.Result, elapsed: Double) {
    let process = Process()
    process.executableURL = CLI.executable
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let start = Date()
    try process.run()
    let timer = DispatchSource.makeTimerSource()
    timer.schedule(deadline: .now() + seconds)
    timer.setEventHandler { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    timer.resume()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    timer.cancel()
    return (
        CLI.Result(
            status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self)),
        Date().timeIntervalSince(start)
    )
}

/// [10]: what a new user and an operator meet in the first hour and the first bad night.
@Suite("the first hour: endless inputs, empty nights, read-only reports, shared databases", .serialized)
struct FirstHourTests {
    let demo = fixturesDirectory() + "/demo_call.wav"

    @Test("a FIFO, /dev/zero and /dev/urandom are refused at once as not regular files, never read")
    func specialFiles() throws {
        let dir = TemporaryDirectory()
        let fifo = dir.file("stream.wav")
        #expect(mkfifo(fifo, 0o644) == 0)
        for (path, kind) in [
            (fifo, "a FIFO (named pipe)"), ("/dev/zero", "a character device"), ("/dev/urandom", "a character device"),
        ] {
            let (r, elapsed) = try runWithin(20, ["score", path])
            #expect(r.status == 1, "\(path): \(r.status) \(r.stderr)")
            #expect(
                r.stderr.contains("\(path): not a regular file (\(kind))") && r.stderr.contains("yusu live"),
                "\(r.stderr)")
            #expect(!r.stderr.contains("empty"), "\(r.stderr)")
            #expect(elapsed < 10)
        }
        // In a batch: one failed entry each, with the reason, and the night goes on.
        let manifest = dir.file("m.csv")
        try Data("path,agent_id\n/dev/zero,a\n\(fifo),a\n\(demo),a\n".utf8).write(to: URL(fileURLWithPath: manifest))
        let (batch, elapsed) = try runWithin(60, ["batch", manifest, "--db", dir.file("r.sqlite")])
        #expect(batch.status == 3 && elapsed < 30, "\(batch.stderr)")
        #expect(batch.stderr.contains("1 scored, 0 skipped, 2 failed of 3 looked at"), "\(batch.stderr)")
        // The path is said once, beside its reason.
        #expect(batch.stderr.contains("/dev/zero: FAILED: not a regular file (a character device)"), "\(batch.stderr)")
        #expect(!batch.stderr.contains("/dev/zero: FAILED: /dev/zero"))
        #expect(batch.stderr.contains("yusu batch: 3 files to look at"))
    }

    @Test("a file's work is bounded: --max-file-mb and --max-duration-s refuse what is over them, with the flag named")
    func limits() throws {
        let big = try CLI.run(["score", demo, "--max-file-mb", "0.1"])
        #expect(big.status == 1 && big.stderr.contains("over the limit of 0.1 MB (--max-file-mb)"), "\(big.stderr)")
        let long = try CLI.run(["score", demo, "--max-duration-s", "30"])
        #expect(
            long.status == 1 && long.stderr.contains("s long, over the limit of 30.000 s (--max-duration-s)"),
            "\(long.stderr)")
        let ok = try CLI.run(["score", demo, "--max-duration-s", "60"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let bad = try CLI.run(["score", demo, "--max-file-mb", "0"])
        #expect(bad.status == 64)
    }

    @Test("a stop request interrupts the hashing of a huge file: SIGTERM ends the night within seconds, exit 130")
    func stopWhileHashing() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("night/agent_A"), withIntermediateDirectories: true)
        // 64 GB of sparse zeros: minutes of hashing, no disk used.
        let huge = dir.file("night/agent_A/huge.wav")
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, 64 << 30) == 0)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = [
            "batch", dir.file("night"), "--db", dir.file("r.sqlite"), "--jobs", "1", "--max-file-mb", "100000",
        ]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        let stopped = Date()
        kill(process.processIdentifier, SIGTERM)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(stopped) < 5, "took \(Date().timeIntervalSince(stopped)) s to stop")
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("INTERRUPTED: 0 scored") && stderr.contains("1 of 1 file not visited"), "\(stderr)")
    }

    @Test(
        """
        an empty archive, or one with nothing Yusu reads, is unmistakable: exit 4, a line that says what was \
        looked for and skipped, nothing created
        """
    )
    func emptyNight() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("empty/agent_A"), withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: dir.file("empty/agent_A/notes.txt")))
        let db = dir.file("r.sqlite")
        let r = try CLI.run(["batch", dir.file("empty"), "--db", db])
        #expect(r.status == 4, "\(r.stderr)")
        #expect(
            r.stderr.contains("yusu batch: NOTHING TO SCORE: no recordings in") && r.stderr.contains(".mp3")
                && r.stderr.contains("1 other file skipped (1 .txt)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db) && !FileManager.default.fileExists(atPath: db + ".lock"))
        // MP3 and Opus, which score reads, are walked too.
        let call = HardeningCLITests.call()
        try FileManager.default.createDirectory(atPath: dir.file("lossy/agent_B"), withIntermediateDirectories: true)
        try writeRecording(dir.file("lossy/agent_B/a.mp3"), channels: call, rateHz: 8000, format: .mp3)
        try writeRecording(dir.file("lossy/agent_B/b.opus"), channels: call, rateHz: 8000, format: .opus)
        let lossy = try CLI.run(["batch", dir.file("lossy"), "--db", db])
        #expect(
            lossy.status == 0 && lossy.stderr.contains("2 scored, 0 skipped, 0 failed of 2 looked at"),
            "\(lossy.stderr)")
    }

    @Test("batch given a recording says to use 'yusu score' and creates nothing; score -dash.wav and a bare yusu fail")
    func misuse() throws {
        let dir = TemporaryDirectory()
        let db = dir.file("r.sqlite")
        let r = try CLI.run(["batch", demo, "--db", db])
        #expect(
            r.status == 64
                && r.stderr.contains("is a recording, not a folder or a manifest: to score one call, use 'yusu score"),
            "\(r.stderr)")
        #expect(
            !r.stderr.contains("RIFF") && !FileManager.default.fileExists(atPath: db)
                && !FileManager.default.fileExists(atPath: db + ".lock"))
        // A WAV named .csv is still a recording.
        try FileManager.default.copyItem(atPath: demo, toPath: dir.file("calls.csv"))
        #expect(try CLI.run(["batch", dir.file("calls.csv"), "--db", db]).status == 64)
        // A manifest without a path column is refused before anything is created, its header printable.
        try Data("a\u{1}b,c\n".utf8).write(to: URL(fileURLWithPath: dir.file("m.csv")))
        let manifest = try CLI.run(["batch", dir.file("m.csv"), "--db", db])
        #expect(
            manifest.status == 1 && manifest.stderr.contains("must name a 'path' column")
                && manifest.stderr.contains("a\\x01b,c"), "\(manifest.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))

        let dash = try CLI.run(["score", "-dash.wav"])
        #expect(
            dash.status == 64 && dash.stderr.contains("unknown option '-dash.wav'")
                && dash.stderr.contains("./-dash.wav"), "\(dash.stderr)")
        #expect(dash.stdout.isEmpty)
        let bare = try CLI.run([])
        #expect(bare.status == 64 && bare.stderr.contains("USAGE: yusu <subcommand>") && bare.stdout.isEmpty)
        // A file that does start with a dash is still reachable.
        try FileManager.default.copyItem(atPath: demo, toPath: dir.file("-dash.wav"))
        let named = try CLI.run(["score", "--format", "json", "--", dir.file("-dash.wav")])
        #expect(named.status == 0, "\(named.stderr)")
    }

    @Test("help lists every rule with its limit, in paragraphs that do not break mid-sentence")
    func help() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        for rule in [
            "speech_rate", "falling_endings", "agent_interruptions", "call_duration", "agent_level", "holds",
            "long_utterances",
            "filled_pauses", "listening", "opening", "pitch_range", "level_vs_customer",
        ] {
            #expect(r.stdout.contains("  \(rule) "), "\(rule) missing from yusu --help")
        }
        // The discussion of every command wraps only at the terminal's width: a line short of
        // it is the end of a paragraph (a blank line follows), never a sentence broken early.
        for command in ["score", "frames", "batch", "report", "bench", "db"] {
            let help = try CLI.run(["help", command]).stdout
            guard let usage = help.range(of: "USAGE:") else {
                Issue.record("no USAGE in help \(command)")
                continue
            }
            let lines = help[..<usage.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(
                String.init)
            for (k, line) in lines.enumerated()
            where k + 1 < lines.count && !line.isEmpty && !line.hasPrefix("OVERVIEW") && !line.hasPrefix(" ") {
                #expect(
                    line.count >= 55 || lines[k + 1].isEmpty,
                    "yusu help \(command): a line broken early: '\(line)' / '\(lines[k + 1])'")
            }
        }
    }

    @Test("the database file alone is the whole night once the batch ends: copy it, report from the copy")
    func completeFile() throws {
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 3)
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"]).status == 0)
        let wal = (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0, "\(wal) bytes left in the WAL")
        try FileManager.default.createDirectory(atPath: dir.file("copy"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: db, toPath: dir.file("copy/r.sqlite"))
        let r = try CLI.run(["report", "--db", dir.file("copy/r.sqlite"), "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect((doc["groups"] as! [[String: Any]]).reduce(0) { $0 + ($1["calls"] as! Int) } == 3)
    }

    @Test("report reads a database it may not write: as an unprivileged user, and on a read-only mount")
    func readOnlyReport() throws {
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 2)
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"]).status == 0)
        if let why = Unprivileged.unavailable { try Test.cancel("as another user: \(why)") }
        Unprivileged.open(dir.path)
        chmod(db, 0o644)
        let asNobody = try Unprivileged.run(["report", "--db", db])
        #expect(asNobody.status == 0 && asNobody.stdout.contains("语速适中"), "\(asNobody.stderr)")
        #expect(!asNobody.stderr.contains("readonly"), "\(asNobody.stderr)")
        // A database a batch left in WAL mode (killed, or still running) reads too.
        let queue = try DatabaseQueue(path: db)
        _ = try queue.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode = WAL") }
        try queue.close()
        let walNobody = try Unprivileged.run(["report", "--db", db])
        #expect(walNobody.status == 0 && walNobody.stdout.contains("语速适中"), "\(walNobody.stderr)")
        if let why = Namespaces.unavailable { try Test.cancel("read-only mount: \(why)") }
        let mount = dir.file("ro")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let ro = try Namespaces.run(
            "mount --bind -o ro '\(dir.path)' '\(mount)' && '\(CLI.executable.path)' report --db '\(mount)/r.sqlite'")
        #expect(ro.status == 0 && ro.stdout.contains("语速适中"), "\(ro.stderr)")
        #expect(!ro.stderr.contains("unable to open"), "\(ro.stderr)")
    }

    @Test("a full disk stops the night with its reason, and the run's record matches the rows in the table")
    func diskFull() throws {
        if let why = Namespaces.unavailable { try Test.cancel("a small tmpfs: \(why)") }
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 40, seconds: 20)
        let mount = dir.file("small")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let r = try Namespaces.run(
            """
            mount -t tmpfs -o size=400k tmpfs '\(mount)' && '\(CLI.executable.path)' batch '\(dir.file("archive"))' \
            --db '\(mount)/r.sqlite' --jobs 1; \
            echo "exit=$?"; cp '\(mount)'/r.sqlite* '\(dir.path)/'
            """)
        #expect(r.stdout.contains("exit=1"), "\(r.stdout) \(r.stderr)")
        #expect(
            r.stderr.contains("yusu batch: STOPPED: the results database cannot be written (database or disk is full)"),
            "\(r.stderr)")
        #expect(r.stderr.contains("files not visited, run again when it is fixed"), "\(r.stderr)")
        let rows = try countRows(dir.file("r.sqlite"), "SELECT COUNT(*) FROM calls")
        #expect(rows > 0 && rows < 40)
        let recorded = try countRows(dir.file("r.sqlite"), "SELECT files_scored + files_failed FROM runs")
        #expect(recorded == rows, "the run says \(recorded), the table holds \(rows)")
        #expect(try countRows(dir.file("r.sqlite"), "SELECT interrupted FROM runs") == 1)
        #expect(!r.stderr.contains("FAILED"), "files were counted as failed: \(r.stderr)")
    }

    @Test("two batches on one SQLite database share the archive: each file scored once, the work split")
    func sharedDatabase() throws {
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 24, seconds: 10)
        let db = dir.file("r.sqlite")
        let logs = [dir.file("a.log"), dir.file("b.log")]
        let batches = try logs.map { log in
            try spawnYusu(
                ["batch", dir.file("archive"), "--db", db, "--jobs", "1", "--quiet"],
                environment: ProcessInfo.processInfo.environment, stderrFile: log)
        }
        for b in batches { b.waitUntilExit() }
        #expect(batches.allSatisfy { $0.terminationStatus == 0 })
        let lines = try logs.map { try String(contentsOfFile: $0, encoding: .utf8) }
        func count(_ pattern: String, _ text: String) -> Int {
            guard let r = text.range(of: #"(\d+) "# + pattern, options: .regularExpression) else { return 0 }
            return Int(text[r].split(separator: " ")[0]) ?? 0
        }
        let scored = lines.map { count("scored,", $0) }
        #expect(scored.reduce(0, +) == paths.count, "\(lines)")
        #expect(scored.allSatisfy { $0 > 0 }, "one batch did all the work: \(lines)")
        #expect(try countRows(db, "SELECT COUNT(*) FROM calls") == paths.count)
        #expect(try countRows(db, "SELECT COUNT(*) FROM claims") == 0)
        #expect(try countRows(db, "SELECT SUM(files_scored) FROM runs") == paths.count)
    }

    @Test("failed files and their reasons are in every report format; calls with a warning too")
    func failedFilesReported() throws {
        let dir = TemporaryDirectory()
        let good = try writeRecording(dir.file("good.wav"), channels: HardeningCLITests.call(), rateHz: 8000)
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: dir.file("notes.wav")))
        // The demo mixed to one channel: two voices share it.
        let stereo = try AudioFileReader(path: demo)
        var block = [Float](repeating: 0, count: 8192 * 2)
        var mixed: [Float] = []
        while case let got = try stereo.read(into: &block), got > 0 {
            for i in 0..<got { mixed.append((block[2 * i] + block[2 * i + 1]) / 2) }
        }
        let mono = try writeRecording(dir.file("mono.wav"), channels: [mixed], rateHz: 8000)
        let manifest = dir.file("m.csv")
        try Data(
            ("path,agent_id,date\n\(good),wang,2026-11-20\n\(dir.file("notes.wav")),wang,2026-11-20\n"
                + "\(mono),li,2026-11-20\n").utf8
        )
        .write(to: URL(fileURLWithPath: manifest))
        let db = dir.file("r.sqlite")
        let batch = try CLI.run(["batch", manifest, "--db", db, "--allow-mono"])
        #expect(batch.status == 3, "\(batch.stderr)")
        let reason = "not a readable audio file"
        let text = try CLI.run(["report", "--db", db])
        #expect(
            text.stdout.contains("Failed files (1): not scored, with the reason")
                && text.stdout.contains("notes.wav: \(reason)"), "\(text.stdout)")
        #expect(
            text.stdout.contains("Warnings (1)")
                && text.stdout.contains("mono.wav: two voices seem to share this mono recording"), "\(text.stdout)")
        let csv = try CLI.run(["report", "--db", db, "--format", "csv"])
        let failedRow = csv.stdout.split(separator: "\n").first { $0.hasPrefix("failed_file,2026-11-20,wang,") }
        #expect(failedRow?.contains("notes.wav") == true && failedRow?.contains(reason) == true, "\(csv.stdout)")
        #expect(csv.stdout.split(separator: "\n").contains { $0.hasPrefix("warning,2026-11-20,li,") })
        #expect(csv.stdout.hasSuffix("\n"))
        let json = try CLI.run(["report", "--db", db, "--format", "json"])
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let failed = doc["failed_files"] as! [[String: Any]]
        #expect(
            failed.count == 1 && (failed[0]["reason"] as! String).contains(reason)
                && (failed[0]["path"] as! String).hasSuffix("notes.wav"))
        #expect((doc["warnings"] as! [[String: Any]]).count == 1)
        // The score's names: _cpm, start_s.
        #expect(
            json.stdout.contains("\"mean_speech_rate_cpm\"") && !json.stdout.contains("characters_per_minute")
                && !json.stdout.contains("start_seconds"))
        let html = try CLI.run(["report", "--db", db, "--format", "html"])
        #expect(
            html.stdout.contains("id=\"failed-files\"") && html.stdout.contains("notes.wav</td><td>\(reason)"),
            "\(html.stdout.suffix(800))")
        #expect(html.stdout.contains("id=\"warning-calls\""))
    }

    @Test("a mono recording of both parties warns in every format; one voice alone does not")
    func twoVoices() throws {
        let dir = TemporaryDirectory()
        let stereo = try AudioFileReader(path: demo)
        var block = [Float](repeating: 0, count: 8192 * 2)
        var mixed: [Float] = []
        var agent: [Float] = []
        while case let got = try stereo.read(into: &block), got > 0 {
            for i in 0..<got {
                mixed.append((block[2 * i] + block[2 * i + 1]) / 2)
                agent.append(block[2 * i])
            }
        }
        let both = try writeRecording(dir.file("both.wav"), channels: [mixed], rateHz: 8000)
        let one = try writeRecording(dir.file("one.wav"), channels: [agent], rateHz: 8000)
        let json = try CLI.run(["score", both, "--format", "json"])
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        #expect(
            (doc["warnings"] as! [String]).contains { $0.hasPrefix("two voices seem to share this mono recording") },
            "\(doc["warnings"]!)")
        #expect(json.stderr.contains("warning: two voices"))
        #expect(try CLI.run(["score", both]).stdout.contains("Warning: two voices"))
        #expect(try CLI.run(["score", both, "--format", "html", "--audio", "none"]).stdout.contains("⚠ two voices"))
        let alone = try CLI.run(["score", one, "--format", "json"])
        #expect(!alone.stdout.contains("two voices") && alone.status == 0)
    }

    @Test("a password in the URL's query is refused like one in its user part, without echoing it")
    func passwordInQuery() throws {
        let r = try CLI.run(["report", "--db", "postgres://yusu@db.example/qa?password=hunter2"])
        #expect(
            r.status == 64 && r.stderr.contains("carries a password") && !r.stderr.contains("hunter2"), "\(r.stderr)")
    }
}
