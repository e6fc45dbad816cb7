import Foundation
import GRDB
import Testing
import YusuBatch
import YusuSignal
import YusuTestSupport

/// The review's list ([7]): bad samples, mono saved as stereo, bad manifest rows, an
/// interrupted night, read-only reports, a call page that plays the recording.
@Suite("hardening: bad samples, bad rows, interrupted nights", .serialized)
struct HardeningCLITests {
    /// Two parties taking turns, 6 s at 8 kHz, as float samples.
    static func call(seconds: Double = 6) -> [[Float]] {
        let rate = 8000
        let agent = Synth.mix(
            Synth.place(Synth.syllableTrain(count: 10, f0Hz: 180), atSeconds: 0.3, totalSeconds: seconds, rateHz: rate),
            Synth.noise(seconds: seconds, rateHz: rate, rmsDbov: -60, seed: 3))
        let customer = Synth.mix(
            Synth.place(Synth.syllableTrain(count: 6, f0Hz: 120), atSeconds: 3.6, totalSeconds: seconds, rateHz: rate),
            Synth.noise(seconds: seconds, rateHz: rate, rmsDbov: -60, seed: 4))
        return [agent, customer]
    }

    @Test("a non-finite sample refuses the file, naming it, in every format and in a batch; overs are clipped and said")
    func nonFiniteSamples() throws {
        let dir = TemporaryDirectory()
        var channels = Self.call()
        channels[0][12_345] = .infinity
        let inf = try writeRecording(dir.file("inf.wav"), channels: channels, rateHz: 8000, format: .wavFloat)
        for format in ["text", "json", "html"] {
            let r = try CLI.run(["score", inf, "--format", format])
            #expect(r.status == 1, "\(format): \(r.status)")
            #expect(r.stdout.isEmpty, "\(format) printed \(r.stdout.prefix(80))")
            #expect(
                r.stderr.contains("corrupt sample data: sample frame 12345 (1.543 s), channel 0 is inf"), "\(r.stderr)")
        }
        channels = Self.call()
        channels[1][20_000] = .nan
        _ = try writeRecording(dir.file("nan.wav"), channels: channels, rateHz: 8000, format: .wavFloat)
        let nan = try CLI.run(["score", dir.file("nan.wav"), "--format", "json"])
        #expect(nan.status == 1 && nan.stderr.contains("channel 1 is nan"), "\(nan.stderr)")

        // Garbage of 1e20 is clipped to full scale and the report says so; the level stays a level.
        channels = Self.call()
        for i in 8_000..<8_400 { channels[0][i] = 1e20 }
        _ = try writeRecording(dir.file("huge.wav"), channels: channels, rateHz: 8000, format: .wavFloat)
        let huge = try CLI.run(["score", dir.file("huge.wav"), "--format", "json"])
        #expect(huge.status == 0, "\(huge.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(huge.stdout.utf8)) as! [String: Any]
        let level =
            ((doc["speakers"] as! [String: Any])["agent"] as! [String: Any])["active_level_dbov"] as? Double ?? 99
        // Every sample within ±1: at most 0 dBov (a full-scale square wave).
        #expect(level <= 0.1, "level \(level) dBov")
        #expect((doc["warnings"] as! [String]).contains { $0.contains("400 samples beyond full scale were clipped") })
        #expect(huge.stderr.contains("warning: 400 samples beyond full scale"))

        // In a batch the corrupt file is one failure with its reason; the night's report still writes.
        try FileManager.default.createDirectory(atPath: dir.file("night/agent_A"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: inf, toPath: dir.file("night/agent_A/inf.wav"))
        _ = try writeRecording(dir.file("night/agent_A/good.wav"), channels: Self.call(), rateHz: 8000)
        let db = dir.file("r.sqlite")
        let batch = try CLI.run(["batch", dir.file("night"), "--db", db, "--quiet"])
        #expect(batch.status == 3, "\(batch.stderr)")
        let reason = try ResultsDatabase(path: db).read {
            try String.fetchOne($0, sql: "SELECT failure_reason FROM calls WHERE status = 'failed'")
        }
        #expect(reason?.contains("corrupt sample data") == true, "\(reason ?? "nil")")
        let site = dir.file("site")
        let report = try CLI.run(["report", "--db", db, "--format", "html", "--out", site])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(FileManager.default.fileExists(atPath: site + "/index.html"))
    }

    @Test("a stereo file with the same signal on both channels is scored as mono, and says so")
    func identicalChannels() throws {
        let dir = TemporaryDirectory()
        let agent = Self.call()[0]
        let path = try writeRecording(dir.file("dup.wav"), channels: [agent, agent], rateHz: 8000)
        let r = try CLI.run(["score", path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect((doc["speakers"] as! [String: Any])["customer"] is NSNull)
        #expect(doc["interruptions"] is NSNull)
        #expect((doc["warnings"] as! [String]).first?.contains("the two channels carry the same signal") == true)
        let interruptions = (doc["verdicts"] as! [[String: Any]]).first {
            $0["rule"] as? String == "agent_interruptions"
        }!
        #expect(interruptions["passed"] is NSNull)
        // A real two-party call is not taken for one.
        let two = try writeRecording(dir.file("two.wav"), channels: Self.call(), rateHz: 8000)
        let r2 = try CLI.run(["score", two, "--format", "json"])
        let doc2 = try JSONSerialization.jsonObject(with: Data(r2.stdout.utf8)) as! [String: Any]
        #expect((doc2["speakers"] as! [String: Any])["customer"] is [String: Any])
        #expect((doc2["warnings"] as! [String]).isEmpty)
    }

    @Test("a bad manifest row is one failed file with its reason; the night goes on")
    func badManifestRows() throws {
        let dir = TemporaryDirectory()
        let good = try (1...3).map {
            try writeRecording(dir.file("good\($0).wav"), channels: Self.call(), rateHz: 8000)
        }
        let manifest = dir.file("m.csv")
        try Data(
            ("path,agent_id,call_id,agent_channel,date\n\(good[0]),a,C1,2,\n\(good[1]),a,C2,0,20/11/2026\n"
                + "\(good[2]),a,C3,0,2026-11-20\n").utf8
        )
        .write(to: URL(fileURLWithPath: manifest))
        let db = dir.file("r.sqlite")
        let r = try CLI.run(["batch", manifest, "--db", db, "--quiet"])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.contains("1 scored, 0 skipped, 2 failed"), "\(r.stderr)")
        let reasons = try ResultsDatabase(path: db).read {
            try String.fetchAll(
                $0, sql: "SELECT failure_reason FROM calls WHERE status = 'failed' ORDER BY failure_reason")
        }
        #expect(reasons.count == 2)
        #expect(reasons.contains { $0.contains("m.csv:2: agent_channel must be 0 or 1 (got '2')") })
        #expect(reasons.contains { $0.contains("m.csv:3: date must be a day") })
    }

    @Test(
        "Ctrl-C or SIGTERM stops after the calls under way, says INTERRUPTED with what was not visited, exits 130",
        arguments: [SIGINT, SIGTERM])
    func interrupted(_ sig: Int32) throws {
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 30, seconds: 12)
        let db = dir.file("r.sqlite")
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["batch", dir.file("archive"), "--db", db, "--jobs", "1"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            if ((try? countRows(db, "SELECT COUNT(*) FROM calls")) ?? 0) >= 2 { break }
        }
        kill(process.processIdentifier, sig)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(stderr.suffix(300))")
        let last = stderr.split(separator: "\n").last.map(String.init) ?? ""
        let scored = try countRows(db, "SELECT COUNT(*) FROM calls")
        #expect(scored < paths.count)
        #expect(last.hasPrefix("yusu batch: INTERRUPTED: \(scored) scored"), "\(last)")
        #expect(last.contains("\(paths.count - scored) of \(paths.count) files not visited"), "\(last)")
        #expect(try countRows(db, "SELECT interrupted FROM runs") == 1)
    }

    @Test("a result the database will not take stops the night with the database's reason, not 'could not be hashed'")
    func databaseWriteError() throws {
        let dir = TemporaryDirectory()
        let good = try writeRecording(dir.file("good.wav"), channels: Self.call(), rateHz: 8000)
        let db = dir.file("r.sqlite")
        // A migrated database whose utterances table has gone: every call's transaction fails.
        try ResultsDatabase(path: db).read { _ in }
        let queue = try DatabaseQueue(path: db)
        try queue.write { try $0.execute(sql: "DROP TABLE utterances") }
        try queue.close()
        let manifest = dir.file("m.csv")
        try Data("path\n\(good)\n".utf8).write(to: URL(fileURLWithPath: manifest))
        let m = try CLI.run(["batch", manifest, "--db", db])
        #expect(m.status == 1, "\(m.stderr)")
        #expect(
            m.stderr.contains(
                "yusu batch: STOPPED: the results database cannot be written (no such table: utterances)"),
            "\(m.stderr)")
        #expect(m.stderr.contains("1 of 1 file not visited"), "\(m.stderr)")
        #expect(!m.stderr.contains("hashed"))
    }

    @Test("progress survives files arriving during the run")
    func progressGrows() {
        final class Lines: @unchecked Sendable {
            var text = ""
            let lock = NSLock()
        }
        let lines = Lines()
        let progress = TerminalProgress(
            isTerminal: true,
            write: { s in
                lines.lock.lock()
                lines.text += s
                lines.lock.unlock()
            })
        progress.started(totalFiles: 2)
        var counts = BatchCounts()
        let item = BatchItem(
            path: "/a.wav", agentId: "a", callId: "a", callDate: "2026-11-20", agentChannel: 0, metadata: [:])
        for _ in 0..<4 {
            counts.seen += 1
            counts.scored += 1
            progress.finished(item: item, outcome: .scored(durationSeconds: 60, score: 80), counts: counts)
        }
        progress.done(counts: counts, elapsedSeconds: 1, ending: .complete, totalFiles: 2)
        #expect(lines.text.contains("4/4 files"), "\(lines.text)")
        #expect(lines.text.contains("yusu batch: 4 scored, 0 skipped, 0 failed of 4 looked at"))
    }

    @Test("yusu db: status and migrate on an SQLite file; copy refuses arguments the wrong way round")
    func dbCommands() throws {
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 2, seconds: 4)
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"]).status == 0)
        let status = try CLI.run(["db", "status", "--db", db])
        #expect(
            status.status == 0
                && status.stdout.contains("schema \(ResultsSQL.schemaVersion); calls: 2 scored, 0 failed"),
            "\(status.stdout)")
        let migrate = try CLI.run(["db", "migrate", "--db", db])
        #expect(migrate.status == 0 && migrate.stdout.contains("nothing to do"), "\(migrate.stdout)")
        let wrongWay = try CLI.run(["db", "copy", "--from", "postgres://u@h/d", "--to", db])
        #expect(
            wrongWay.status == 64 && wrongWay.stderr.contains("--to must be a postgres:// URL"), "\(wrongWay.stderr)")
        let missing = try CLI.run(["db", "status", "--db", dir.file("none.sqlite")])
        #expect(missing.status == 1 && missing.stderr.contains("no such results database"), "\(missing.stderr)")
    }

    @Test("a shared queue's progress: the whole queue, its pace over the last minutes, an ETA from it")
    func queueProgress() {
        final class Lines: @unchecked Sendable {
            var text = ""
            let lock = NSLock()
        }
        let lines = Lines()
        let progress = TerminalProgress(
            isTerminal: true,
            write: { s in
                lines.lock.lock()
                lines.text = s
                lines.lock.unlock()
            })
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        var q = QueueCounts()
        q.waiting = 190
        q.leased = 4
        q.leaseHolders = 2
        q.done = 6
        progress.queue(q, at: t0)
        #expect(
            lines.text.contains("6/200 files") && lines.text.contains("4 leased by 2 workers")
                && lines.text.contains("ETA --:--:--"), "\(lines.text)")
        // 60 more files in 120 s: 30 per minute; 134 open, so 4:28 to go.
        q.done = 66
        q.waiting = 130
        q.audioSecondsDone = 66 * 300
        progress.queue(q, at: t0.addingTimeInterval(120))
        #expect(
            lines.text.contains("66/200 files") && lines.text.contains("30.0 files/min")
                && lines.text.contains("ETA 0:04:28")
                && lines.text.contains("5.50 h audio"), "\(lines.text)")
        // Ten minutes on, twice the workers: the pace follows the last five minutes, not the start.
        q.done = 126
        q.waiting = 70
        progress.queue(q, at: t0.addingTimeInterval(420))
        q.done = 186
        q.waiting = 10
        q.failed = 0
        progress.queue(q, at: t0.addingTimeInterval(480))
        #expect(
            lines.text.contains("186/200 files") && lines.text.contains("60.0 files/min")
                && lines.text.contains("ETA 0:00:14"), "\(lines.text)")
        q.done = 200
        q.waiting = 0
        q.leased = 0
        progress.queue(q, at: t0.addingTimeInterval(500))
        #expect(lines.text.contains("200/200 files") && lines.text.contains("ETA 0:00:00"), "\(lines.text)")
    }

    @Test(
        """
        a damaged MP3: one line on stderr, naming where the stream ends, and none of libmpg123's own notes \
        (Note: Illegal Audio-MPEG-Header, Trying to resync, Xing, Whoa)
        """
    )
    func damagedMP3IsOneLine() throws {
        let dir = TemporaryDirectory()
        let good = dir.file("call.mp3")
        try writeRecording(good, channels: HardeningCLITests.call(), rateHz: 8000, format: .mp3)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        // Every 97th byte after the first frames overwritten: frame headers and side info broken.
        var state: UInt32 = 7
        for i in stride(from: 2_000, to: bytes.count - 2_000, by: 97) {
            state = state &* 1_103_515_245 &+ 12_345
            bytes[i] = UInt8(truncatingIfNeeded: state >> 16)
        }
        let damaged = dir.file("damaged.mp3")
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let cut = dir.file("cut.mp3")
        try Data(bytes[..<(bytes.count / 3)]).write(to: URL(fileURLWithPath: cut))
        for path in [damaged, cut] {
            let r = try CLI.run(["score", path, "--audio", "none"])
            #expect(r.status == 1, "\(path): \(r.status) \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(path): \(r.stderr)")
            #expect(
                r.stderr.contains("the MP3 stream ends") && r.stderr.contains("where its header announces"),
                "\(r.stderr)")
            for note in ["Note:", "Warning:", "resync", "Whoa", "libmpg123", "Illegal"] {
                #expect(!r.stderr.contains(note), "libmpg123's note reached stderr: \(r.stderr)")
            }
        }
    }

    @Test(
        "names with escape sequences and line breaks reach the terminal escaped: score's one-line error, report's text")
    func namesReachTheTerminalEscaped() throws {
        let dir = TemporaryDirectory()
        let hostile = "\u{1B}]0;pwned\u{07}\u{1B}[31mred\nsecond line.wav"
        let notAudio = dir.file(hostile)
        try Data("not audio at all".utf8).write(to: URL(fileURLWithPath: notAudio))
        let r = try CLI.run(["score", notAudio])
        #expect(r.status == 1)
        #expect(!r.stderr.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "raw escape bytes on stderr")
        #expect(
            r.stderr.split(separator: "\n").count == 1
                && r.stderr.contains("\\x1b]0;pwned\\x07\\x1b[31mred\\x0asecond line.wav"), "\(r.stderr)")
        // A night whose archive holds such a name: the text report shows it, escaped.
        let paths = try makeArchive(in: dir, calls: 2)
        let renamed = (paths[0] as NSString).deletingLastPathComponent + "/\u{1B}[2Jcall\u{1B}]0;x\u{07}.wav"
        try FileManager.default.moveItem(atPath: paths[0], toPath: renamed)
        try Data("not audio".utf8).write(
            to: URL(fileURLWithPath: (paths[1] as NSString).deletingLastPathComponent + "/\u{1B}[2Jbroken.wav"))
        let db = dir.file("r.sqlite")
        _ = try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"])
        let report = try CLI.run(["report", "--db", db, "--format", "text"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(
            !report.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" },
            "raw escape bytes in the text report")
        #expect(report.stdout.contains("\\x1b[2J"), "\(report.stdout)")
    }

    @Test("batch refuses what report refuses before writing a byte: another application's SQLite file, a newer schema")
    func writersRefuseForeignDatabases() throws {
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 1)
        let other = dir.file("crm.sqlite")
        let queue = try DatabaseQueue(path: other)
        try queue.write {
            try $0.execute(sql: "CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('王芳')")
        }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        let r = try CLI.run(["batch", dir.file("archive"), "--db", other, "--quiet"])
        #expect(r.status != 0 && r.stderr.contains("not a Yusu results database"), "\(r.status) \(r.stderr)")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: other)) == before, "the other application's file was written to")
        #expect(!FileManager.default.fileExists(atPath: other + "-wal"))
        // A results database of a newer Yusu: refused by batch as by report, and not scored into.
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"]).status == 0)
        let results = try DatabaseQueue(path: db)
        try results.write {
            try $0.execute(sql: "UPDATE meta SET value = '99' WHERE key = 'schema_version'; DELETE FROM calls")
        }
        try results.close()
        let newer = try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"])
        #expect(newer.status != 0 && newer.stderr.contains("written by a newer Yusu (schema 99"), "\(newer.stderr)")
        let count = try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM calls") }
        #expect(count == 0, "a call was scored into a newer schema's database")
        // An empty file (touch) becomes a results database, as a new path does.
        let empty = dir.file("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", empty, "--quiet"]).status == 0)
    }

    @Test("report opens the database read-only: another SQLite file is refused and left as it was")
    func readOnlyReport() throws {
        let dir = TemporaryDirectory()
        let other = dir.file("other.sqlite")
        let queue = try DatabaseQueue(path: other)
        try queue.write { try $0.execute(sql: "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine')") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        let r = try CLI.run(["report", "--db", other])
        #expect(r.status == 1 && r.stderr.contains("not a Yusu results database"), "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == before)
        #expect(!FileManager.default.fileExists(atPath: other + ".lock"))
        // A real results database reads the same as before, and is not written to.
        _ = try makeArchive(in: dir, calls: 2)
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"]).status == 0)
        try FileManager.default.removeItem(atPath: db + ".lock")
        let text = try CLI.run(["report", "--db", db])
        #expect(text.status == 0 && text.stdout.contains("语速适中"), "\(text.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db + ".lock"))
    }

    @Test(
        """
        a folder the batch cannot read, and a file it cannot open, are recorded with their reasons (as an \
        unprivileged user under root)
        """
    )
    func unreadableFolder() throws {
        if let why = Unprivileged.unavailable { try Test.cancel("as another user: \(why)") }
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 2)
        let locked = dir.file("archive/locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        let lockedFile = try writeRecording(dir.file("archive/agent_A/locked.wav"), channels: Self.call(), rateHz: 8000)
        Unprivileged.open(dir.path)
        chmod(dir.path, 0o777)  // the database is created by the unprivileged user
        chmod(locked, 0)
        chmod(lockedFile, 0)
        defer { chmod(locked, 0o755) }
        let db = dir.file("r.sqlite")
        let r = try Unprivileged.run(["batch", dir.file("archive"), "--db", db, "--quiet"])
        #expect(r.status == 3, "\(r.stderr)")
        let reasons = try ResultsDatabase(path: db).read {
            try String.fetchAll($0, sql: "SELECT failure_reason FROM calls WHERE status = 'failed' ORDER BY path")
        }
        #expect(reasons.contains { $0.contains("this folder cannot be read (Permission denied)") }, "\(reasons)")
        #expect(reasons.contains { $0 == "cannot be opened (Permission denied)" }, "\(reasons)")
        let score = try Unprivileged.run(["score", lockedFile])
        #expect(
            score.status == 1 && score.stderr.contains("locked.wav: cannot be opened (Permission denied)"),
            "\(score.stderr)")
    }

    @Test("the call page carries the recording and every time plays from there")
    func callPageAudio() throws {
        let r = try CLI.run(["score", fixturesDirectory() + "/demo_call.wav", "--format", "html"])
        #expect(r.status == 0)
        // μ-law is not playable in browsers: the page embeds it decoded to 16-bit PCM WAV.
        #expect(
            r.stdout.contains("<audio id=\"player\" controls preload=\"metadata\" src=\"data:audio/wav;base64,UklGR"))
        #expect(r.stdout.contains("data-t=\"") && r.stdout.contains("p.currentTime = parseFloat"))
        let linked = try CLI.run([
            "score", fixturesDirectory() + "/demo_call.wav", "--format", "html", "--audio", "link",
        ])
        #expect(linked.stdout.contains("src=\"file:///") && linked.stdout.contains("demo_call.wav\""))
        let none = try CLI.run(["score", fixturesDirectory() + "/demo_call.wav", "--format", "html", "--audio", "none"])
        #expect(!none.stdout.contains("<audio"))
    }

    @Test("bench measures the demo: every stage timed, ratios consistent with the times")
    func bench() throws {
        let r = try CLI.run(["bench", "--format", "json", "--repeat", "1", "--jobs", "2", "--live", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let duration = doc["duration_s"] as! Double
        #expect(abs(duration - (try CLITests.demoTruth()["duration_s"] as! Double)) < 0.01)
        // The tests' build is a debug one: no processor target of its own.
        #expect(doc["analysis_target"] as? String == "default")
        let stages = doc["stages_ms"] as! [String: Double]
        // Every stage of the one streaming analysis is timed inside the real run, and the
        // stages add up to the instrumented run (less the glue between them).
        for stage in [
            "decode (libsndfile)", "frames (resampling, FFT, YIN, P.56 hops)", "channel levels", "pitch tracking",
            "voice activity", "syllable nuclei", "utterances, fillers, endings", "turns, overlaps, holds", "verdicts",
        ] {
            #expect((stages[stage] ?? 0) > 0, "stage \(stage) not timed")
        }
        let sum = stages.values.reduce(0, +)
        let instrumented = doc["instrumented_ms"] as! Double
        #expect(
            abs((doc["stages_sum_ms"] as! Double) - sum) < 0.01 && sum <= instrumented * 1.001,
            "\(sum) of \(instrumented)")
        // FFTW alone ran the pitch transforms once per pitch search: some frames, not all (the
        // demo's silences are background, which the search skips).
        let searches = doc["pitch_searches"] as! Int
        let frames = (doc["frames_per_channel"] as! Int) * (doc["channels"] as! Int)
        #expect(searches > 0 && searches < frames, "\(searches) pitch searches of \(frames) frames")
        let whole = doc["whole_score_ms"] as! Double
        let ratio = doc["whole_score_x_realtime"] as! Double
        #expect(abs(ratio - duration / (whole / 1000)) / ratio < 0.01)
        #expect(doc["parallel_jobs"] as? Int == 2 && (doc["parallel_x_realtime"] as! Double) > 0)
        // Three live calls of the demo: each coached as `yusu live` coaches it (its lines
        // after "started"), and the aggregate ratio consistent with the wall time.
        let live = try LiveRun.run(["-"]) { h, _ in
            try h.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: fixturesDirectory() + "/demo_call.wav")))
            return true
        }
        #expect(
            doc["live_calls"] as? Int == 3 && doc["live_piece_ms"] as? Int == 20 && doc["live_step_ms"] as? Int == 40)
        // Each line was written within its 40 ms step, the frames' look-ahead (about 25 ms) and
        // the rounding of emitted_at_s (5 ms) of the analysis time it carries.
        let delay = doc["live_line_delay_max_ms"] as! Double
        #expect(delay >= 0 && delay <= 40 + 25 + 5 + 1e-6, "lines written up to \(delay) ms late")
        #expect(
            doc["live_lines"] as? Int == 3 * (live.lines.count - 1),
            "\(doc["live_lines"] ?? "-") lines for 3 calls; live wrote \(live.lines.count)")
        let liveRatio = doc["live_x_realtime"] as! Double
        let liveWall = doc["live_wall_s"] as! Double
        #expect(abs(liveRatio - 3 * duration / liveWall) / liveRatio < 0.01)
        let bad = try CLI.run(["bench", "--repeat", "0"])
        #expect(bad.status == 64)
    }
}
