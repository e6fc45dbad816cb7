import Foundation
import GRDB
import YusuDelivery

/// The nightly results: an SQLite file (WAL mode) with one row per call, its utterances
/// and events, and one row per batch run.
///
/// Safe to interrupt: each call is written in its own transaction, so a kill loses at most
/// the calls still being analysed. Safe to share: several batches may write the same file
/// (SQLite's locking, a 30 s busy timeout); a call is keyed by (path, standard), so a file
/// scored twice still has one row.
public final class ResultsDatabase: @unchecked Sendable {
    public static let schemaVersion = 3
    public let path: String
    let pool: any DatabaseWriter

    public struct DatabaseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens (creating and migrating when needed) a database to write results into.
    public convenience init(path: String) throws {
        try self.init(path: path, readOnly: false)
    }

    /// - Parameter readOnly: for reports. Opens an existing file without creating, migrating
    ///   or locking anything, and refuses one that is not a Yusu results database or is of
    ///   a newer schema than this Yusu knows.
    public init(path: String, readOnly: Bool) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.label = "yusu-results"
        if readOnly {
            configuration.readonly = true
            do {
                // A queue, not a pool: a read-only pool needs WAL files it may not create.
                pool = try DatabaseQueue(path: path, configuration: configuration)
                let version = try pool.read { db -> Int? in
                    guard try db.tableExists("meta") && db.tableExists("calls") else { return nil }
                    return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema_version'").flatMap { Int($0) }
                }
                guard let version else {
                    throw DatabaseError(description: "\(path): not a Yusu results database (no calls table)")
                }
                guard version <= Self.schemaVersion else {
                    throw DatabaseError(description: "\(path): written by a newer Yusu (schema \(version); this one reads up to \(Self.schemaVersion))")
                }
            } catch let error as DatabaseError {
                throw error
            } catch {
                throw DatabaseError(description: "\(path): cannot open the results database (\(error))")
            }
            return
        }
        // Opening switches the file to WAL and may migrate it: two batches starting at once
        // on a new file would race there (SQLite's busy handler does not cover the journal
        // mode change, and both would try to create the tables). An advisory lock on a
        // sidecar file serialises just that step between processes.
        let lockPath = path + ".lock"
        let lockFile = open(lockPath, O_CREAT | O_RDWR, 0o644)
        guard lockFile >= 0 else {
            throw DatabaseError(description: "\(path): cannot open the results database (cannot create \(lockPath): \(String(cString: strerror(errno))))")
        }
        defer { close(lockFile) }
        flock(lockFile, LOCK_EX)
        defer { flock(lockFile, LOCK_UN) }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw DatabaseError(description: "\(path): cannot open the results database (\(error))")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: calls, utterances, events, runs") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                INSERT INTO meta (key, value) VALUES ('schema_version', '1');
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    started_at TEXT NOT NULL, finished_at TEXT,
                    source TEXT NOT NULL, standard_key TEXT NOT NULL, standard_json TEXT NOT NULL,
                    jobs INTEGER NOT NULL, yusu_version TEXT NOT NULL,
                    files_seen INTEGER NOT NULL DEFAULT 0, files_scored INTEGER NOT NULL DEFAULT 0,
                    files_skipped INTEGER NOT NULL DEFAULT 0, files_failed INTEGER NOT NULL DEFAULT 0,
                    audio_seconds REAL NOT NULL DEFAULT 0, interrupted INTEGER NOT NULL DEFAULT 1);
                CREATE TABLE calls (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    path TEXT NOT NULL, content_hash TEXT NOT NULL, standard_key TEXT NOT NULL,
                    standard_name TEXT NOT NULL, standard_version INTEGER NOT NULL,
                    run_id INTEGER REFERENCES runs(id), scored_at TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('scored', 'failed')), failure_reason TEXT,
                    agent_id TEXT NOT NULL, call_id TEXT NOT NULL, call_date TEXT NOT NULL,
                    agent_channel INTEGER NOT NULL, metadata_json TEXT NOT NULL DEFAULT '{}',
                    duration_s REAL, sample_rate_hz INTEGER, channels INTEGER, format TEXT, analysis_s REAL,
                    agent_syllables INTEGER, agent_talk_time_s REAL, agent_phonation_time_s REAL,
                    agent_speech_rate_cpm REAL, agent_articulation_rate_cpm REAL, agent_level_dbov REAL,
                    agent_median_f0_hz REAL, agent_utterances INTEGER,
                    agent_falling_endings INTEGER, agent_measured_endings INTEGER,
                    customer_syllables INTEGER, customer_speech_rate_cpm REAL, customer_level_dbov REAL,
                    agent_interruptions INTEGER, customer_interruptions INTEGER, backchannels INTEGER,
                    holds INTEGER, longest_hold_s REAL, long_utterances INTEGER,
                    score REAL,
                    verdict_speech_rate INTEGER, verdict_falling_endings INTEGER, verdict_agent_interruptions INTEGER,
                    verdict_call_duration INTEGER, verdict_agent_level INTEGER, verdict_holds INTEGER,
                    verdict_long_utterances INTEGER,
                    verdicts_json TEXT,
                    UNIQUE (path, standard_key));
                CREATE INDEX calls_agent_date ON calls (agent_id, call_date);
                CREATE INDEX calls_date ON calls (call_date);
                CREATE INDEX calls_score ON calls (call_date, score);
                CREATE TABLE utterances (
                    call_row INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    party TEXT NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL, syllables INTEGER NOT NULL,
                    falling_ending INTEGER, final_drop_st REAL, end_vs_median_st REAL);
                CREATE INDEX utterances_call ON utterances (call_row);
                CREATE TABLE events (
                    call_row INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL, party TEXT, start_s REAL NOT NULL, end_s REAL NOT NULL, detail TEXT);
                CREATE INDEX events_call ON events (call_row);
                """)
        }
        migrator.registerMigration("v2: analysis version") { db in
            // Rows from before have no version: they count as another analysis and are
            // scored again on the next run, as a changed Yusu should be.
            try db.execute(sql: "ALTER TABLE calls ADD COLUMN analysis_version TEXT")
            try db.execute(sql: "UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        }
        migrator.registerMigration("v3: one verdict row per call and rule") { db in
            // Rules are handled alike: a row per call and rule, whatever rules there are. The
            // per-rule columns of v1 stay (old readers) but are no longer written; their
            // values move here, so old nights keep their pass rates.
            try db.execute(sql: """
                CREATE TABLE verdicts (
                    call_row INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    rule TEXT NOT NULL, passed INTEGER, value REAL, weight REAL,
                    PRIMARY KEY (call_row, rule));
                CREATE INDEX verdicts_rule ON verdicts (rule, passed);
                """)
            let old: [(String, String?)] = [
                ("speech_rate", "agent_speech_rate_cpm"), ("falling_endings", nil), ("agent_interruptions", "agent_interruptions"),
                ("call_duration", "duration_s"), ("agent_level", "agent_level_dbov"), ("holds", "longest_hold_s"),
                ("long_utterances", "long_utterances"),
            ]
            for (rule, valueColumn) in old {
                try db.execute(sql: """
                    INSERT INTO verdicts (call_row, rule, passed, value)
                    SELECT id, '\(rule)', verdict_\(rule), \(valueColumn ?? "CASE WHEN agent_measured_endings > 0 THEN CAST(agent_falling_endings AS REAL) / agent_measured_endings END")
                    FROM calls WHERE status = 'scored'
                    """)
            }
            try db.execute(sql: "UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        }
        return migrator
    }

    // MARK: Runs

    public func startRun(source: String, standard: Standard, jobs: Int, version: String) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO runs (started_at, source, standard_key, standard_json, jobs, yusu_version)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [Self.timestamp(), source, standard.key, standard.canonicalJSON, jobs, version])
            return db.lastInsertedRowID
        }
    }

    public func finishRun(_ id: Int64, counts: BatchCounts, interrupted: Bool) throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE runs SET finished_at = ?, files_seen = ?, files_scored = ?, files_skipped = ?, files_failed = ?,
                audio_seconds = ?, interrupted = ? WHERE id = ?
                """, arguments: [Self.timestamp(), counts.seen, counts.scored, counts.skipped, counts.failed,
                                 counts.audioSeconds, interrupted ? 1 : 0, id])
        }
    }

    // MARK: Calls

    /// True when `path` is already scored with this content, standard and analysis.
    public func isScored(path: String, contentHash: String, standardKey: String, analysisVersion: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM calls WHERE path = ? AND standard_key = ? AND content_hash = ?
                               AND analysis_version = ? AND status = 'scored')
                """, arguments: [path, standardKey, contentHash, analysisVersion]) ?? false
        }
    }

    /// Writes one call (replacing an earlier row for the same path and standard) with its
    /// utterances and events, in one transaction.
    public func record(_ result: CallRecord) throws {
        let rows = try result.rows(scoredAt: Self.timestamp())
        func value(_ v: SQLValue) -> DatabaseValueConvertible? {
            switch v {
            case .null: return nil
            case .integer(let i): return i
            case .real(let d): return d
            case .text(let t): return t
            }
        }
        try pool.write { db in
            try db.execute(sql: "DELETE FROM calls WHERE path = ? AND standard_key = ?", arguments: [result.item.path, result.standard.key])
            let sql = "INSERT INTO calls (\(rows.call.map(\.0).joined(separator: ", "))) VALUES (\(rows.call.map { _ in "?" }.joined(separator: ", ")))"
            try db.execute(sql: sql, arguments: StatementArguments(rows.call.map { value($0.1) }))
            let row = db.lastInsertedRowID
            for u in rows.utterances {
                try db.execute(sql: """
                    INSERT INTO utterances (call_row, party, start_s, end_s, syllables, falling_ending, final_drop_st, end_vs_median_st)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [row, u.0, u.1, u.2, u.3, value(u.4), value(u.5), value(u.6)])
            }
            for e in rows.events {
                try db.execute(sql: "INSERT INTO events (call_row, kind, party, start_s, end_s, detail) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [row, e.0, value(e.1), e.2, e.3, value(e.4)])
            }
            for v in rows.verdicts {
                try db.execute(sql: "INSERT INTO verdicts (call_row, rule, passed, value, weight) VALUES (?, ?, ?, ?, ?)",
                               arguments: [row, v.0, value(v.1), value(v.2), value(v.3)])
            }
        }
    }

    /// Runs a read-only query (for reports and tests).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    public static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    static func json(_ object: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func verdictsJSON(_ card: Scorecard) throws -> String {
        let list: [[String: Any]] = card.verdicts.map { v in
            var d: [String: Any] = ["rule": v.rule, "passed": v.passed.map { $0 as Any } ?? NSNull(),
                                    "value": v.value.map { $0 as Any } ?? NSNull(), "unit": v.unit]
            d["evidence"] = v.evidence.prefix(20).map { ["start_s": $0.startSeconds, "end_s": $0.endSeconds, "note": $0.note] }
            return d
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: list, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// What became of one file.
public enum CallOutcome: Sendable {
    case scored(CallMeasures, Scorecard)
    case failed(String)
    public var isScored: Bool { if case .scored = self { return true } else { return false } }
}

/// One file's result, ready to write.
public struct CallRecord: Sendable {
    public var item: BatchItem
    public var contentHash: String
    public var standard: Standard
    /// `BatchOptions.analysisVersion` of the analysis that produced it.
    public var analysisVersion: String
    public var runId: Int64
    public var outcome: CallOutcome
    public var analysisSeconds: Double

    public init(item: BatchItem, contentHash: String, standard: Standard, analysisVersion: String, runId: Int64,
                outcome: CallOutcome, analysisSeconds: Double) {
        self.item = item
        self.contentHash = contentHash
        self.standard = standard
        self.analysisVersion = analysisVersion
        self.runId = runId
        self.outcome = outcome
        self.analysisSeconds = analysisSeconds
    }
}

/// Running totals of a batch.
public struct BatchCounts: Sendable, Equatable {
    public var seen = 0
    public var scored = 0
    public var skipped = 0
    public var failed = 0
    public var audioSeconds = 0.0
    public init() {}

    /// Counts one file's outcome.
    public mutating func add(_ outcome: BatchFileOutcome) {
        seen += 1
        switch outcome {
        case .scored(let duration, _): scored += 1; audioSeconds += duration
        case .skipped: skipped += 1
        case .failed: failed += 1
        }
    }
}

extension Standard {
    /// The standard's JSON with sorted keys: what is stored with each run.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Name, version and a fingerprint of every setting: calls scored under a different
    /// key are scored again.
    public var key: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a fingerprint, not security
        for byte in canonicalJSON.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "\(name)@\(version)#\(String(hash, radix: 16))"
    }
}
