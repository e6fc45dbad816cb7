import Foundation
import GRDB
import Testing
@testable import YusuDelivery
import YusuTestSupport

@testable import YusuBatch

@Suite("Results database and nightly summary")
struct DatabaseTests {
    /// A call with chosen measures: rate, interruptions, sinking endings of measured.
    static func measures(rate: Double, interruptions: Int, falling: Int, endings: Int, duration: Double = 200)
        -> CallMeasures
    {
        var utterances: [Utterance] = []
        for i in 0..<endings {
            let sinks = i < falling
            let drop: Double = sinks ? 4 : 0
            let start = Double(i) * 5
            utterances.append(
                Utterance(
                    startSeconds: start, endSeconds: start + 3, syllables: 10,
                    finalDropSemitones: drop, endRelativeToMedianSemitones: -drop, endingSpan: nil))
        }
        let agent = SpeakerMeasures(
            party: .agent, channel: 0, syllables: 100, talkTimeSeconds: 60, phonationTimeSeconds: 50,
            speechRateCharactersPerMinute: rate, articulationRateCharactersPerMinute: rate * 1.2,
            activeLevelDbov: -26, medianF0Hz: 200, utterances: utterances, turns: [])
        let list = (0..<interruptions).map {
            Interruption(by: .agent, atSeconds: Double($0) * 10 + 1, overlapSeconds: 1)
        }
        return CallMeasures(
            file: "x.wav", durationSeconds: duration, sampleRateHz: 8000, channels: 2, formatName: "WAV",
            agent: agent, customer: nil, interruptions: list, backchannels: [], holds: [])
    }

    func record(
        _ db: ResultsDatabase, run: Int64, agent: String, call: String, date: String, _ m: CallMeasures?,
        standard: Standard = Standard()
    ) throws {
        let item = BatchItem(
            path: "/archive/\(agent)/\(call).wav", agentId: agent, callId: call, callDate: date, agentChannel: 0,
            metadata: ["campaign": "x"])
        let outcome: CallOutcome = m.map { .scored($0, standard.evaluate($0)) } ?? .failed("broken")
        try db.record(
            CallRecord(
                item: item, contentHash: "h-\(call)", standard: standard, analysisVersion: "v1", runId: run,
                outcome: outcome, analysisSeconds: 0.1))
    }

    @Test("timestamps are ISO 8601 UTC with milliseconds, and sort as the times do")
    func timestamps() {
        #expect(
            ResultsDatabase.timestamp(Date(timeIntervalSince1970: 1_795_000_000.1234)) == "2026-11-18T11:06:40.123Z")
        #expect(ResultsDatabase.timestamp(Date(timeIntervalSince1970: 0.9999)) == "1970-01-01T00:00:00.999Z")
        let a = ResultsDatabase.timestamp(Date(timeIntervalSince1970: 1_795_000_059.9995))
        let b = ResultsDatabase.timestamp(Date(timeIntervalSince1970: 1_795_000_060.0))
        #expect(a < b, "\(a) \(b)")
    }

    @Test("call conditions: unset filters are left out, arguments follow their terms, on a real SQLite file")
    func callConditions() throws {
        var none = CallConditions()
        none.standard(nil)
        none.since(nil)
        none.add("c.agent_id = ?", nil)
        #expect(none.clause == "1 = 1" && none.arguments.isEmpty)

        let dir = TemporaryDirectory()
        let db = try ResultsDatabase(path: dir.file("r.sqlite"))
        let run = try db.startRun(source: "test", standard: Standard(), jobs: 1, version: "t")
        for (agent, call, date) in [("A", "a1", "2026-11-19"), ("A", "a2", "2026-11-20"), ("B", "b1", "2026-11-21")] {
            try record(
                db, run: run, agent: agent, call: call, date: date,
                Self.measures(rate: 110, interruptions: 0, falling: 0, endings: 2))
        }
        try record(db, run: run, agent: "A", call: "a3", date: "2026-11-21", nil)
        func ids(_ c: CallConditions) throws -> [String] {
            try db.fetch("SELECT c.call_id FROM calls c WHERE \(c.clause) ORDER BY c.call_id", c.arguments)
                .compactMap { $0.string("call_id") }
        }
        #expect(try ids(none) == ["a1", "a2", "a3", "b1"])
        var c = CallConditions()
        c.add("c.agent_id = ?", .text("A"))
        c.since("2026-11-20")
        #expect(c.clause == "c.agent_id = ? AND c.call_date >= ?")
        #expect(try ids(c) == ["a2", "a3"])
        c.require("c.status = 'scored'")
        #expect(try ids(c) == ["a2"])
        c.standard(Standard().key)
        #expect(try ids(c) == ["a2"], "the default standard's key")
        var other = CallConditions()
        other.standard("no such standard")
        #expect(try ids(other).isEmpty)
    }

    @Test("the summary's numbers are the ones worked out by hand")
    func summaryNumbers() throws {
        let dir = TemporaryDirectory()
        let db = try ResultsDatabase(path: dir.file("r.sqlite"))
        let run = try db.startRun(source: "test", standard: Standard(), jobs: 1, version: "t")
        // Agent A on 2026-11-20: rates 110 (pass) and 130 (fail); interruptions 0 and 2;
        // sinking endings 2 of 4 and 0 of 2. One failed file.
        try record(
            db, run: run, agent: "A", call: "a1", date: "2026-11-20",
            Self.measures(rate: 110, interruptions: 0, falling: 2, endings: 4))
        try record(
            db, run: run, agent: "A", call: "a2", date: "2026-11-20",
            Self.measures(rate: 130, interruptions: 2, falling: 0, endings: 2))
        try record(db, run: run, agent: "A", call: "a3", date: "2026-11-20", nil)
        // Agent B on 2026-11-21: one call, rate 100 (pass), no interruptions, 3 of 3 sinking.
        try record(
            db, run: run, agent: "B", call: "b1", date: "2026-11-21",
            Self.measures(rate: 100, interruptions: 0, falling: 3, endings: 3))
        // Before --since: left out.
        try record(
            db, run: run, agent: "B", call: "b0", date: "2026-11-01",
            Self.measures(rate: 100, interruptions: 5, falling: 0, endings: 1))

        let s = try NightlySummary.load(from: db, since: "2026-11-15")
        #expect(s.groups.map(\.agentId) == ["A", "B"])
        let a = s.groups[0]
        let b = s.groups[1]
        #expect(a.calls == 2 && a.failed == 1 && a.date == "2026-11-20")
        #expect(a.meanSpeechRateCharactersPerMinute == 120)
        #expect(a.interruptionsPerCall == 1.0)
        #expect(abs((a.fallingEndingShare ?? 0) - 2.0 / 6.0) < 1e-12)
        #expect(a.passRate["speech_rate"] == 0.5)
        #expect(a.passRate["agent_interruptions"] == 0.5)
        #expect(a.passRate["falling_endings"] == 0.5)  // a1: half its endings sink (at most 30% may), a2 none
        #expect(a.passRate["call_duration"] == 1.0)
        // Worst call first: a2 fails speech rate, interruptions, endings? (0 of 2 sinking: passes)
        // a1 fails endings only. Measurable weights: 95 of 100 (listening needs a customer).
        // Scores: a1 = (95 - 15) / 95, a2 = (95 - 20 - 15) / 95.
        #expect(a.worstCalls.map(\.callId) == ["a2", "a1"])
        #expect(
            abs((a.worstCalls[0].score ?? 0) - 60.0 / 95 * 100) < 1e-9, "\(String(describing: a.worstCalls[0].score))")
        #expect(
            abs((a.worstCalls[1].score ?? 0) - 80.0 / 95 * 100) < 1e-9, "\(String(describing: a.worstCalls[1].score))")
        #expect(Set(a.worstCalls[0].failures.map(\.rule)) == ["speech_rate", "agent_interruptions"])
        // Sure failures first: 130 字/分钟 on 100 syllables is 119–141 at 90%, the 120 limit
        // inside it; two interruptions are two interruptions.
        #expect(a.worstCalls[0].failures.map(\.rule) == ["agent_interruptions", "speech_rate"])
        #expect(a.worstCalls[0].failures.map(\.nearLimit) == [false, true])
        #expect(
            a.worstCalls[0].failures.first { $0.rule == "agent_interruptions" }?.evidence.map(\.startSeconds) == [
                1, 11,
            ])
        #expect(
            b.calls == 1 && b.interruptionsPerCall == 0 && b.fallingEndingShare == 1.0
                && b.passRate["speech_rate"] == 1.0)
        // Without --since the November 1st call appears as its own group.
        #expect(try NightlySummary.load(from: db, since: nil).groups.count == 3)
    }

    @Test("a path scored again replaces its row; utterances and events follow it")
    func replace() throws {
        let dir = TemporaryDirectory()
        let db = try ResultsDatabase(path: dir.file("r.sqlite"))
        let run = try db.startRun(source: "test", standard: Standard(), jobs: 1, version: "t")
        try record(
            db, run: run, agent: "A", call: "a1", date: "2026-11-20",
            Self.measures(rate: 110, interruptions: 1, falling: 1, endings: 2))
        #expect(
            try db.isScored(
                path: "/archive/A/a1.wav", contentHash: "h-a1", standardKey: Standard().key, analysisVersion: "v1"))
        #expect(
            try db.isScored(
                path: "/archive/A/a1.wav", contentHash: "other", standardKey: Standard().key, analysisVersion: "v1")
                == false)
        // Another analysis (a newer Yusu) scores the file again.
        #expect(
            try db.isScored(
                path: "/archive/A/a1.wav", contentHash: "h-a1", standardKey: Standard().key, analysisVersion: "v2")
                == false)
        try record(
            db, run: run, agent: "A", call: "a1", date: "2026-11-20",
            Self.measures(rate: 115, interruptions: 2, falling: 0, endings: 3))
        func one<T: DatabaseValueConvertible & StatementColumnConvertible>(_ sql: String, as: T.Type = T.self) throws
            -> T?
        {
            try db.read { d in try T.fetchOne(d, sql: sql) }
        }
        #expect(try one("SELECT COUNT(*) FROM calls", as: Int.self) == 1)
        #expect(try one("SELECT agent_speech_rate_cpm FROM calls", as: Double.self) == 115)
        #expect(try one("SELECT COUNT(*) FROM utterances", as: Int.self) == 3)
        #expect(try one("SELECT COUNT(*) FROM events WHERE kind = 'interruption'", as: Int.self) == 2)
        #expect(
            try one("SELECT value FROM meta WHERE key = 'schema_version'", as: String.self)
                == String(ResultsSQL.schemaVersion))
        #expect(try one("SELECT metadata_json FROM calls", as: String.self) == #"{"campaign":"x"}"#)
        // Another standard is another row.
        var strict = Standard()
        strict.name = "strict"
        try record(
            db, run: run, agent: "A", call: "a1", date: "2026-11-20",
            Self.measures(rate: 115, interruptions: 2, falling: 0, endings: 3), standard: strict)
        #expect(try one("SELECT COUNT(*) FROM calls", as: Int.self) == 2)
    }

    @Test("manifest and path patterns give agent, call, date and channel")
    func sources() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: dir.file("team1/agent_7/20261120"), withIntermediateDirectories: true)
        #expect(
            FileManager.default.createFile(atPath: dir.file("team1/agent_7/20261120/call-42.WAV"), contents: Data()))
        #expect(FileManager.default.createFile(atPath: dir.file("team1/agent_7/20261120/notes.txt"), contents: Data()))
        #expect(
            FileManager.default.createFile(atPath: dir.file("team1/agent_7/20261120/call-43.flac"), contents: Data()))
        let patterns = try PathPatterns(agent: #"(?<agent>agent_\d+)"#, call: #"call-(?<call>\d+)"#)
        var items: [BatchItem] = []
        try ArchiveSource.directory(dir.path, patterns).forEach(defaultAgentChannel: 0) {
            items.append($0)
            return true
        }
        #expect(items.count == 2)
        #expect(Set(items.map(\.callId)) == ["42", "43"])
        #expect(items.allSatisfy { $0.agentId == "agent_7" && $0.callDate == "2026-11-20" })
        // Defaults: the folder holding the file is the agent, the stem is the call.
        var plain: [BatchItem] = []
        try ArchiveSource.directory(dir.path, try PathPatterns()).forEach(defaultAgentChannel: 1) {
            plain.append($0)
            return true
        }
        #expect(
            Set(plain.map(\.agentId)) == ["20261120"] && Set(plain.map(\.callId)) == ["call-42", "call-43"]
                && plain.allSatisfy { $0.agentChannel == 1 })

        let manifest = dir.file("m.csv")
        try Data(
            ("path,agent_id,call_id,agent_channel,campaign,date\n"
                + "team1/agent_7/20261120/call-42.WAV,zhang,C1,1,retail,2026-11-19T10:00\n/abs/x.wav,li,C2,,loans,\n")
                .utf8
        )
        .write(to: URL(fileURLWithPath: manifest))
        var rows: [BatchItem] = []
        try ArchiveSource.manifest(manifest).forEach(defaultAgentChannel: 0) {
            rows.append($0)
            return true
        }
        #expect(rows.count == 2, "\(rows.map { $0.problem ?? $0.path })")
        #expect(rows[0].path == dir.file("team1/agent_7/20261120/call-42.WAV"))
        #expect(
            rows[0].agentId == "zhang" && rows[0].callId == "C1" && rows[0].agentChannel == 1
                && rows[0].callDate == "2026-11-19")
        #expect(rows[0].metadata == ["campaign": "retail", "date": "2026-11-19T10:00"])
        #expect(rows[1].agentChannel == 0 && rows[1].path == "/abs/x.wav")
        #expect(rows.allSatisfy { $0.problem == nil })
        // Bad rows are entries with a reason, and the rows after them still come.
        let mixed = dir.file("mixed.csv")
        try Data(
            ("path,agent_id,call_id,agent_channel,date\na.wav,z,C1,2,\nb.wav,z,C2,0,20/11/2026\n,z,C3,0,\n"
                + "c.wav,z,C4,1,20261121\nd.wav,z,C5,0,2026-02-30\n").utf8
        )
        .write(to: URL(fileURLWithPath: mixed))
        var mixedRows: [BatchItem] = []
        try ArchiveSource.manifest(mixed).forEach(defaultAgentChannel: 0) {
            mixedRows.append($0)
            return true
        }
        #expect(mixedRows.count == 5)
        #expect(mixedRows[0].problem?.contains("mixed.csv:2: agent_channel must be 0 or 1 (got '2')") == true)
        #expect(
            mixedRows[1].problem?.contains(
                "mixed.csv:3: date must be a day written yyyy-MM-dd or yyyyMMdd (got '20/11/2026')") == true)
        #expect(mixedRows[2].problem?.contains("mixed.csv:4: the row has no path") == true)
        #expect(mixedRows[3].problem == nil && mixedRows[3].callDate == "2026-11-21" && mixedRows[3].agentChannel == 1)
        #expect(mixedRows[4].problem?.contains("got '2026-02-30'") == true)
        #expect(PathPatterns.validDay("2026-11-19T10:00") == "2026-11-19" && PathPatterns.validDay("2026-13-01") == nil)
        // What users and clients type: a real day, written yyyy-MM-dd, nothing else.
        #expect(PathPatterns.calendarDay("2024-02-29") == "2024-02-29" && PathPatterns.calendarDay("2026-02-29") == nil)
        #expect(PathPatterns.calendarDay("2026-13-45") == nil && PathPatterns.calendarDay("20261128") == nil)
        #expect(PathPatterns.calendarDay("2026-11-28T08:00") == nil && PathPatterns.calendarDay("") == nil)
        // A manifest that cannot be read past a line (bad UTF-8): the rows before still come,
        // then one entry that says where reading stopped.
        let broken = dir.file("broken.csv")
        try
            (Data("path,agent_id\na.wav,z\n".utf8) + Data([0x62, 0xFF, 0xFE, 0x2E, 0x77, 0x61, 0x76, 0x2C, 0x7A, 0x0A]))
            .write(to: URL(fileURLWithPath: broken))
        var brokenRows: [BatchItem] = []
        try ArchiveSource.manifest(broken).forEach(defaultAgentChannel: 0) {
            brokenRows.append($0)
            return true
        }
        #expect(brokenRows.first?.problem == nil && brokenRows.first?.path.hasSuffix("a.wav") == true)
        #expect(
            brokenRows.last?.problem?.contains("the manifest cannot be read from this line on") == true,
            "\(brokenRows.map { $0.problem ?? $0.path })")
        #expect(throws: PathPatterns.PatternError.self) { try PathPatterns(agent: "[^/]+") }
        let bad = dir.file("bad.csv")
        try Data("file,agent\nx.wav,a\n".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(throws: ArchiveSource.ManifestError.self) {
            try ArchiveSource.manifest(bad).forEach(defaultAgentChannel: 0) { _ in true }
        }
    }

    @Test("a database written before verdict rows (schema 2) is carried over: its pass rates survive the migration")
    func migrateVerdictColumns() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        let queue = try DatabaseQueue(path: path)
        try ResultsDatabase.migrator.migrate(queue, upTo: "v2: analysis version")
        try queue.write { db in
            try db.execute(
                sql:
                    """
                    INSERT INTO runs (started_at, source, standard_key, standard_json, jobs, yusu_version) VALUES \
                    ('t', 's', 'k', '{}', 1, 'old')
                    """
            )
            for (call, rate, passed) in [("c1", 110.0, 1), ("c2", 150.0, 0)] {
                try db.execute(
                    sql: """
                        INSERT INTO calls (path, content_hash, standard_key, standard_name, standard_version, run_id, \
                        scored_at, status,
                                           agent_id, call_id, call_date, agent_channel, agent_speech_rate_cpm, \
                        agent_falling_endings,
                                           agent_measured_endings, verdict_speech_rate, verdict_falling_endings, score)
                        VALUES (?, 'h', 'k', 'default', 1, 1, 't', 'scored', 'A', ?, '2026-11-20', 0, ?, 1, 4, ?, 0, 50)
                        """, arguments: ["/a/\(call).wav", call, rate, passed])
            }
        }
        try queue.close()
        let db = try ResultsDatabase(path: path)  // migrates to the current schema
        let rows = try db.read {
            try Row.fetchAll($0, sql: "SELECT rule, passed, value FROM verdicts ORDER BY call_row, rule")
        }
        #expect(rows.count == 14)  // 7 rules of schema 2, for each of the 2 calls
        let rate = rows.filter { ($0["rule"] as String) == "speech_rate" }.map {
            ($0["passed"] as Int?, $0["value"] as Double?)
        }
        #expect(rate.map(\.0) == [1, 0] && rate.map(\.1) == [110, 150])
        let endings = rows.first { ($0["rule"] as String) == "falling_endings" }
        #expect((endings?["value"] as Double?) == 0.25)
        let summary = try NightlySummary.load(from: db, since: nil, standardKey: "k")
        #expect(
            summary.groups.first?.passRate["speech_rate"] == 0.5
                && summary.groups.first?.passRate["falling_endings"] == 0.0)
        let filled: Double?? = summary.groups.first?.passRate["filled_pauses"]
        #expect(filled.flatMap { $0 } == nil)  // not judged back then: no rate, not 0
    }
}
