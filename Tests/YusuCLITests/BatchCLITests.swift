import Foundation
import GRDB
import Testing
import YusuBatch
import YusuSignal
import YusuTestSupport

/// Builds a small archive of synthetic two-party calls: agent_X/yyyymmdd/call_N.wav.
func makeArchive(
    in dir: TemporaryDirectory, calls: Int, agents: [String] = ["agent_A", "agent_B"], seconds: Double = 6
) throws -> [String] {
    let rate = 8000
    var paths: [String] = []
    for n in 0..<calls {
        let agentName = agents[n % agents.count]
        let folder = dir.file("archive/\(agentName)/20261120")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let agent = Synth.mix(
            Synth.place(
                Synth.syllableTrain(count: 8 + n % 5, f0Hz: 180), atSeconds: 0.3, totalSeconds: seconds, rateHz: rate),
            Synth.noise(seconds: seconds, rateHz: rate, rmsDbov: -60, seed: UInt64(2 * n + 1)))
        let customer = Synth.mix(
            Synth.place(Synth.syllableTrain(count: 6, f0Hz: 120), atSeconds: 3.6, totalSeconds: seconds, rateHz: rate),
            Synth.noise(seconds: seconds, rateHz: rate, rmsDbov: -60, seed: UInt64(2 * n + 2)))
        paths.append(try writeRecording("\(folder)/call_\(n).wav", channels: [agent, customer], rateHz: rate))
    }
    return paths
}

func countRows(_ db: String, _ sql: String) throws -> Int {
    try ResultsDatabase(path: db).read { try Int.fetchOne($0, sql: sql) ?? -1 }
}

@Suite("yusu batch and yusu report", .serialized)
struct BatchCLITests {
    @Test("killed mid-batch and run again: every file scored exactly once, nothing lost")
    func resumeAfterKill() throws {
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 24, seconds: 12)
        let db = dir.file("r.sqlite")
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["batch", dir.file("archive"), "--db", db, "--jobs", "1", "--quiet"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until a few calls are in, then kill without warning.
        let deadline = Date().addingTimeInterval(60)
        var before = 0
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            before = (try? countRows(db, "SELECT COUNT(*) FROM calls")) ?? 0
            if before >= 3 { break }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        before = try countRows(db, "SELECT COUNT(*) FROM calls")
        #expect(before >= 3 && before < paths.count, "killed after \(before) of \(paths.count)")
        #expect(try countRows(db, "PRAGMA integrity_check") != -1)

        let again = try CLI.run(["batch", dir.file("archive"), "--db", db, "--jobs", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("\(paths.count - before) scored, \(before) skipped, 0 failed"), "\(again.stderr)")
        #expect(try countRows(db, "SELECT COUNT(*) FROM calls") == paths.count)
        #expect(try countRows(db, "SELECT COUNT(DISTINCT path) FROM calls") == paths.count)
        // The calls written before the kill kept their first run's row: not scored twice.
        #expect(try countRows(db, "SELECT COUNT(*) FROM calls WHERE run_id = 1") == before)
        let runs = try ResultsDatabase(path: db).read {
            try Row.fetchAll($0, sql: "SELECT interrupted, files_scored FROM runs ORDER BY id")
        }
        #expect(
            runs.count == 2 && (runs[1]["interrupted"] as Int) == 0
                && (runs[1]["files_scored"] as Int) == paths.count - before)
        // --rescore scores everything again, still one row per file.
        let rescored = try CLI.run(["batch", dir.file("archive"), "--db", db, "--rescore", "--quiet"])
        #expect(rescored.status == 0 && rescored.stderr.contains("\(paths.count) scored, 0 skipped"))
        #expect(try countRows(db, "SELECT COUNT(*) FROM calls") == paths.count)
    }

    @Test("two batches writing one database at once: no corruption, one row per file")
    func concurrentWriters() throws {
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 12)
        let db = dir.file("r.sqlite")
        var processes: [Process] = []
        for _ in 0..<2 {
            let p = Process()
            p.executableURL = CLI.executable
            p.arguments = ["batch", dir.file("archive"), "--db", db, "--jobs", "2", "--quiet"]
            p.standardError = FileHandle.nullDevice
            try p.run()
            processes.append(p)
        }
        for p in processes { p.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let check = try ResultsDatabase(path: db).read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")
        #expect(try countRows(db, "SELECT COUNT(*) FROM calls") == paths.count)
        #expect(try countRows(db, "SELECT COUNT(DISTINCT path) FROM calls") == paths.count)
        #expect(try countRows(db, "SELECT COUNT(*) FROM calls WHERE status = 'scored'") == paths.count)
    }

    @Test("bad files in the middle are recorded with their reason; the rest are scored; exit 3")
    func badFiles() throws {
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 6)
        let folder = dir.file("archive/agent_A/20261120")
        #expect(FileManager.default.createFile(atPath: "\(folder)/call_2b.wav", contents: Data("not audio".utf8)))
        #expect(FileManager.default.createFile(atPath: "\(folder)/call_3b.WAV", contents: Data()))
        try writeRecording(
            "\(folder)/call_4b.wav",
            channels: [[Float](repeating: 0, count: 16000), [Float](repeating: 0, count: 16000)], rateHz: 8000)
        try writeRecording(
            "\(folder)/call_5b.flac", channels: [Synth.syllableTrain(count: 10)], rateHz: 8000, format: .flac)
        let good = try Data(contentsOf: URL(fileURLWithPath: paths[0]))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: "\(folder)/call_6b.wav"))
        let db = dir.file("r.sqlite")
        let r = try CLI.run(["batch", dir.file("archive"), "--db", db])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.contains("6 scored, 0 skipped, 5 failed"), "\(r.stderr)")
        let reasons = try ResultsDatabase(path: db).read {
            try Row.fetchAll($0, sql: "SELECT path, failure_reason FROM calls WHERE status = 'failed' ORDER BY path")
        }.map { ($0["path"] as String, $0["failure_reason"] as String) }
        #expect(reasons.count == 5)
        let byName = Dictionary(
            uniqueKeysWithValues: reasons.map { (URL(fileURLWithPath: $0.0).lastPathComponent, $0.1) })
        #expect(byName["call_2b.wav"]?.contains("not a readable audio file") == true)
        // libsndfile's own sentence without its full stop before our semicolon.
        #expect(byName["call_2b.wav"]?.contains(".;") == false, "\(byName["call_2b.wav"] ?? "")")
        #expect(byName["call_3b.WAV"]?.contains("empty") == true)
        #expect(byName["call_4b.wav"]?.contains("no speech") == true)
        #expect(byName["call_5b.flac"]?.contains("mono") == true)
        #expect(byName["call_6b.wav"]?.contains("truncated") == true)
        // Plain log lines when not on a terminal, one per file.
        #expect(r.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("[") }.count == 11)
    }

    @Test("a flat folder: calls without an agent folder are said to be scored as agent 'unknown' before the night")
    func flatFolderWarns() throws {
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 2)
        let flat = dir.file("flat")
        try FileManager.default.createDirectory(atPath: flat, withIntermediateDirectories: true)
        for (k, p) in paths.enumerated() {
            try FileManager.default.copyItem(atPath: p, toPath: flat + "/call_\(k).wav")
        }
        let r = try CLI.run(["batch", flat, "--db", dir.file("r.sqlite"), "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stderr.contains("warning: 2 of 2 recordings name no agent") && r.stderr.contains("agent 'unknown'"),
            "\(r.stderr)")
        // Laid out by agent, no warning.
        let ok = try CLI.run(["batch", dir.file("archive"), "--db", dir.file("s.sqlite"), "--quiet"])
        #expect(ok.status == 0 && !ok.stderr.contains("name no agent"), "\(ok.stderr)")
    }

    @Test(
        "a stored standard this Yusu cannot read stops the report with its reason; it is never replaced by the default")
    func undecodableStoredStandard() throws {
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 1)
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"]).status == 0)
        #expect(try CLI.run(["report", "--db", db]).status == 0)
        // As a newer Yusu with a rule this one does not know would have stored it.
        try DatabaseQueue(path: db).write {
            try $0.execute(sql: "UPDATE runs SET standard_json = '{\"rule_from_the_future\": {}}'")
        }
        for format in ["text", "json", "html"] {
            let r = try CLI.run(["report", "--db", db, "--format", format])
            #expect(r.status == 1, "\(format): \(r.status) \(r.stdout.prefix(200))")
            #expect(
                r.stderr.contains("the stored standard") && r.stderr.contains("rule_from_the_future"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test("a manifest gives ids, channel, date and metadata; the report reads them back")
    func manifestAndReport() throws {
        let dir = TemporaryDirectory()
        let paths = try makeArchive(in: dir, calls: 3)
        let manifest = dir.file("tonight.csv")
        var text = "path,agent_id,call_id,agent_channel,campaign,date\n"
        for (n, p) in paths.enumerated() { text += "\(p),zhang,C\(n),\(n == 2 ? 1 : 0),retail,2026-11-2\(n)\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: manifest))
        let db = dir.file("r.sqlite")
        let r = try CLI.run(["batch", manifest, "--db", db, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try ResultsDatabase(path: db).read {
            try Row.fetchAll(
                $0, sql: "SELECT agent_id, call_id, call_date, agent_channel, metadata_json FROM calls ORDER BY call_id"
            )
        }
        #expect(rows.map { $0["call_id"] as String } == ["C0", "C1", "C2"])
        #expect(
            rows.allSatisfy {
                ($0["agent_id"] as String) == "zhang"
                    && ($0["metadata_json"] as String).contains("\"campaign\":\"retail\"")
            })
        #expect(rows.map { $0["call_date"] as String } == ["2026-11-20", "2026-11-21", "2026-11-22"])
        #expect(rows.map { $0["agent_channel"] as Int } == [0, 0, 1])

        let csv = try CLI.run(["report", "--db", db, "--format", "csv", "--since", "2026-11-21"])
        let lines = csv.stdout.split(separator: "\n")
        #expect(csv.status == 0 && lines.count == 3, "\(csv.stdout)")
        #expect(lines.first?.hasPrefix("row,date,agent_id,calls,failed,mean_score,mean_speech_rate_cpm") == true)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("day,") && $0.contains(",zhang,1,0,") })
        #expect(csv.stdout.hasSuffix("\n"))
        let json = try CLI.run(["report", "--db", db, "--format", "json"])
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let groups = doc["groups"] as! [[String: Any]]
        #expect(groups.count == 3 && groups.allSatisfy { ($0["pass_rate"] as? [String: Any])?["speech_rate"] != nil })
        let textReport = try CLI.run(["report", "--db", db])
        #expect(textReport.stdout.contains("agent zhang") && textReport.stdout.contains("语速适中"))
        let missing = try CLI.run(["report", "--db", dir.file("none.sqlite")])
        #expect(missing.status == 1 && missing.stderr.contains("no such results database"))
    }
}
