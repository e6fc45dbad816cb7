import Foundation
import YusuDelivery

/// The one definition of the results schema, its migrations and its queries, for both
/// engines: SQLite (the embedded default, `ResultsDatabase`) and PostgreSQL
/// (`PostgresResults`).
///
/// Statements are written once, in the SQL both engines share, with `?` parameters and a
/// few tokens for the words they do not share. `SQLDialect.render` turns them into either.
/// What only one engine has (PostgreSQL's work queue) is a migration step with no SQLite
/// statements, so the schema version means the same on both.
public enum SQLDialect: Sendable, Equatable {
    case sqlite, postgres

    /// Replaces the tokens, and (PostgreSQL) numbers the `?` parameters `$1, $2, …`.
    ///
    /// - `{id}`: an auto-numbered primary key; `{ref}`: a column referring to one;
    /// - `{real}`: a double-precision number;
    /// - `{bin}`: byte-wise collation, so both engines sort text alike.
    public func render(_ sql: String) -> String {
        if self == .sqlite && !sql.contains("{") { return sql }
        let tokens: [(String, String)]
        switch self {
        case .sqlite:
            tokens = [
                ("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"), ("{ref}", "INTEGER"), ("{real}", "REAL"),
                ("{bin}", "COLLATE BINARY"),
            ]
        case .postgres:
            tokens = [
                ("{id}", "BIGSERIAL PRIMARY KEY"), ("{ref}", "BIGINT"), ("{real}", "DOUBLE PRECISION"),
                ("{bin}", "COLLATE \"C\""),
            ]
        }
        var text = sql
        for (token, word) in tokens { text = text.replacingOccurrences(of: token, with: word) }
        guard self == .postgres, text.contains("?") else { return text }
        // No statement here has a "?" inside a string literal; parameters are numbered in order.
        var numbered = ""
        var n = 0
        numbered.reserveCapacity(text.utf8.count + 16)
        for c in text {
            if c == "?" {
                n += 1
                numbered += "$\(n)"
            } else {
                numbered.append(c)
            }
        }
        return numbered
    }
}

/// The conditions on the calls (`calls c`) a query reads, with their arguments in order:
/// every query that filters calls builds its WHERE clause here, so a filter is written once.
public struct CallConditions: Sendable, CustomStringConvertible {
    public private(set) var terms: [String] = []
    public private(set) var arguments: [SQLValue] = []

    public init() {}

    /// Adds `term` with its one `?` bound to `argument`; a nil argument (a filter not set)
    /// leaves the term out.
    public mutating func add(_ term: String, _ argument: SQLValue?) {
        guard let argument else { return }
        terms.append(term)
        arguments.append(argument)
    }

    /// Adds a term without arguments.
    public mutating func require(_ term: String) { terms.append(term) }

    /// Calls scored under the standard `key` (nil: any standard).
    public mutating func standard(_ key: String?) { add("c.standard_key = ?", key.map { .text($0) }) }

    /// Calls of day `day` (yyyy-MM-dd) or later (nil: any day).
    public mutating func since(_ day: String?) { add("c.call_date >= ?", day.map { .text($0) }) }

    /// The WHERE clause: the terms joined by AND, "1 = 1" when there are none.
    public var clause: String { terms.isEmpty ? "1 = 1" : terms.joined(separator: " AND ") }

    /// The clause and its arguments (a cache key of the filtered result).
    public var description: String { "\(clause)|\(arguments)" }
}

/// One row of a query, engine-neutral.
public struct SQLRow: Sendable {
    public var columns: [String]
    public var values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ name: String) -> SQLValue {
        guard let i = columns.firstIndex(of: name) else { return .null }
        return values[i]
    }

    public func int(_ name: String) -> Int? {
        switch self[name] {
        case .integer(let i): return Int(i)
        case .real(let d): return Int(d)
        case .text(let t): return Int(t)
        case .null: return nil
        }
    }

    public func double(_ name: String) -> Double? {
        switch self[name] {
        case .integer(let i): return Double(i)
        case .real(let d): return d
        case .text(let t): return Double(t)
        case .null: return nil
        }
    }

    public func string(_ name: String) -> String? {
        switch self[name] {
        case .text(let t): return t
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .null: return nil
        }
    }
}

/// A results database, whichever engine: what reports and copies read through.
public protocol ResultsStore: AnyObject {
    var dialect: SQLDialect { get }
    /// Whether any thread may use this store at any time (SQLite's pool), or only one caller
    /// at a time (a PostgreSQL connection).
    var sharedAcrossThreads: Bool { get }
    /// Runs one statement written for `SQLDialect.render` (with `?` parameters).
    func fetch(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow]
    /// Runs one writing statement written for `SQLDialect.render`; returns its rows (RETURNING).
    @discardableResult
    func execute(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow]
    /// Writes one call with its child rows and counts it in its run, in one transaction
    /// (replacing an earlier row of the same path and standard).
    func record(_ result: CallRecord) throws
    /// Starts a run (a night, or a service's uploads); returns its id.
    func startRun(source: String, standard: Standard, jobs: Int, version: String, worker: String?) throws -> Int64
    func finishRun(_ id: Int64, counts: BatchCounts, interrupted: Bool) throws
}

/// One step of the schema, the same on both engines.
public struct SchemaMigration: Sendable {
    /// GRDB's migration identifier on SQLite; a row of `yusu_migrations` on PostgreSQL.
    public var identifier: String
    /// Statements, one per entry, before rendering.
    public var statements: @Sendable (SQLDialect) -> [String]
}

public enum ResultsSQL {
    /// The number of migrations: the schema version both engines write into `meta`.
    public static var schemaVersion: Int { migrations.count }

    public static let migrations: [SchemaMigration] = [
        SchemaMigration(identifier: "v1: calls, utterances, events, runs") { _ in
            [
                "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
                "INSERT INTO meta (key, value) VALUES ('schema_version', '1')",
                """
                CREATE TABLE runs (
                    id {id},
                    started_at TEXT NOT NULL, finished_at TEXT,
                    source TEXT NOT NULL, standard_key TEXT NOT NULL, standard_json TEXT NOT NULL,
                    jobs INTEGER NOT NULL, yusu_version TEXT NOT NULL,
                    files_seen INTEGER NOT NULL DEFAULT 0, files_scored INTEGER NOT NULL DEFAULT 0,
                    files_skipped INTEGER NOT NULL DEFAULT 0, files_failed INTEGER NOT NULL DEFAULT 0,
                    audio_seconds {real} NOT NULL DEFAULT 0, interrupted INTEGER NOT NULL DEFAULT 1)
                """,
                """
                CREATE TABLE calls (
                    id {id},
                    path TEXT NOT NULL, content_hash TEXT NOT NULL, standard_key TEXT NOT NULL,
                    standard_name TEXT NOT NULL, standard_version INTEGER NOT NULL,
                    run_id {ref} REFERENCES runs(id), scored_at TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('scored', 'failed')), failure_reason TEXT,
                    agent_id TEXT NOT NULL, call_id TEXT NOT NULL, call_date TEXT NOT NULL,
                    agent_channel INTEGER NOT NULL, metadata_json TEXT NOT NULL DEFAULT '{}',
                    duration_s {real}, sample_rate_hz INTEGER, channels INTEGER, format TEXT, analysis_s {real},
                    agent_syllables INTEGER, agent_talk_time_s {real}, agent_phonation_time_s {real},
                    agent_speech_rate_cpm {real}, agent_articulation_rate_cpm {real}, agent_level_dbov {real},
                    agent_median_f0_hz {real}, agent_utterances INTEGER,
                    agent_falling_endings INTEGER, agent_measured_endings INTEGER,
                    customer_syllables INTEGER, customer_speech_rate_cpm {real}, customer_level_dbov {real},
                    agent_interruptions INTEGER, customer_interruptions INTEGER, backchannels INTEGER,
                    holds INTEGER, longest_hold_s {real}, long_utterances INTEGER,
                    score {real},
                    verdict_speech_rate INTEGER, verdict_falling_endings INTEGER, verdict_agent_interruptions INTEGER,
                    verdict_call_duration INTEGER, verdict_agent_level INTEGER, verdict_holds INTEGER,
                    verdict_long_utterances INTEGER,
                    verdicts_json TEXT,
                    UNIQUE (path, standard_key))
                """,
                "CREATE INDEX calls_agent_date ON calls (agent_id, call_date)",
                "CREATE INDEX calls_date ON calls (call_date)",
                "CREATE INDEX calls_score ON calls (call_date, score)",
                """
                CREATE TABLE utterances (
                    call_row {ref} NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    party TEXT NOT NULL, start_s {real} NOT NULL, end_s {real} NOT NULL, syllables INTEGER NOT NULL,
                    falling_ending INTEGER, final_drop_st {real}, end_vs_median_st {real})
                """,
                "CREATE INDEX utterances_call ON utterances (call_row)",
                """
                CREATE TABLE events (
                    call_row {ref} NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL, party TEXT, start_s {real} NOT NULL, end_s {real} NOT NULL, detail TEXT)
                """,
                "CREATE INDEX events_call ON events (call_row)",
            ]
        },
        SchemaMigration(identifier: "v2: analysis version") { _ in
            // Rows from before have no version: they count as another analysis and are
            // scored again on the next run, as a changed Yusu should be.
            [
                "ALTER TABLE calls ADD COLUMN analysis_version TEXT",
                "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
            ]
        },
        SchemaMigration(identifier: "v3: one verdict row per call and rule") { _ in
            // Rules are handled alike: a row per call and rule, whatever rules there are. The
            // per-rule columns of v1 stay (old readers) but are no longer written; their
            // values move here, so old nights keep their pass rates.
            let old: [(String, String?)] = [
                ("speech_rate", "agent_speech_rate_cpm"), ("falling_endings", nil),
                ("agent_interruptions", "agent_interruptions"),
                ("call_duration", "duration_s"), ("agent_level", "agent_level_dbov"), ("holds", "longest_hold_s"),
                ("long_utterances", "long_utterances"),
            ]
            return [
                """
                CREATE TABLE verdicts (
                    call_row {ref} NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    rule TEXT NOT NULL, passed INTEGER, value {real}, weight {real},
                    PRIMARY KEY (call_row, rule))
                """,
                "CREATE INDEX verdicts_rule ON verdicts (rule, passed)",
            ]
                + old.map { rule, valueColumn in
                    """
                    INSERT INTO verdicts (call_row, rule, passed, value)
                    SELECT id, '\(rule)', verdict_\(rule), \
                    \(valueColumn ?? Self.fallingEndingShare)
                    FROM calls WHERE status = 'scored'
                    """
                } + ["UPDATE meta SET value = '3' WHERE key = 'schema_version'"]
        },
        SchemaMigration(identifier: "v4: worker of a run, the shared work queue") { dialect in
            // The queue is PostgreSQL's (claims need FOR UPDATE SKIP LOCKED); an SQLite
            // batch is one machine and needs none. The version still moves on both.
            var statements = ["ALTER TABLE runs ADD COLUMN worker TEXT"]
            if dialect == .postgres {
                statements += [
                    """
                    CREATE TABLE queue (
                        id BIGSERIAL PRIMARY KEY,
                        path TEXT NOT NULL, content_hash TEXT NOT NULL, standard_key TEXT NOT NULL, analysis_version \
                    TEXT NOT NULL,
                        standard_json TEXT NOT NULL, item_json TEXT NOT NULL,
                        state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'leased', 'done', 'failed')),
                        leased_by TEXT, lease_until TIMESTAMPTZ, attempts INTEGER NOT NULL DEFAULT 0,
                        audio_s DOUBLE PRECISION, enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now(), finished_at \
                    TIMESTAMPTZ,
                        UNIQUE (path, standard_key, content_hash, analysis_version))
                    """,
                    "CREATE INDEX queue_claim ON queue (state, id)",
                    // Raised inside a result's transaction when its lease is no longer held,
                    // so the transaction's statements can go out together and still commit
                    // nothing in that case.
                    """
                    CREATE FUNCTION yusu_lease_lost() RETURNS INTEGER LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'the lease on this file was lost' USING ERRCODE = 'YU001'; END $$
                    """,
                ]
            }
            return statements + ["UPDATE meta SET value = '4' WHERE key = 'schema_version'"]
        },
        SchemaMigration(identifier: "v5: call warnings; claims, so that batches sharing an SQLite file share its work")
        { dialect in
            // Two `yusu batch` runs on one SQLite file split the archive: a batch claims a
            // file (path, standard) under a lease before it reads it, renews the lease while
            // it works and drops the claim in the transaction that writes the result. The
            // PostgreSQL queue does this job there; the version moves on both.
            // Also: what a reader must know about how a call's recording was read (two voices
            // in a mono file, clipped samples), for every report to show.
            var statements = ["ALTER TABLE calls ADD COLUMN warnings_json TEXT"]
            if dialect == .sqlite {
                statements.append(
                    """
                    CREATE TABLE claims (
                        path TEXT NOT NULL, standard_key TEXT NOT NULL, holder TEXT NOT NULL, lease_until {real} NOT \
                    NULL,
                        PRIMARY KEY (path, standard_key))
                    """)
            }
            return statements + ["UPDATE meta SET value = '5' WHERE key = 'schema_version'"]
        },
        SchemaMigration(identifier: "v6: the service's access tokens and live board; indexes for its call lists") { _ in
            // `yusu serve` checks bearer tokens against this table: only a SHA-256 of each
            // token is kept, so a copy of the database gives nobody access.
            // Its call lists are newest first under one standard, optionally of one agent: the
            // two indexes give them in order, a page without sorting the night.
            [
                """
                CREATE TABLE tokens (
                    id {id}, name TEXT NOT NULL, token_sha256 TEXT NOT NULL UNIQUE,
                    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
                    created_at TEXT NOT NULL, revoked_at TEXT)
                """,
                // The live board: calls in progress on any instance of the service, so that
                // several instances behind a load balancer keep no state of their own.
                """
                CREATE TABLE live_calls (
                    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, call_id TEXT NOT NULL, started_at TEXT NOT NULL,
                    updated_at {real} NOT NULL, heard_s {real} NOT NULL, utterances INTEGER NOT NULL,
                    last_rate_cpm {real}, alerts_json TEXT NOT NULL)
                """,
                "CREATE INDEX calls_standard_date ON calls (standard_key, call_date, id)",
                "CREATE INDEX calls_standard_agent_date ON calls (standard_key, agent_id, call_date, id)",
                "UPDATE meta SET value = '6' WHERE key = 'schema_version'",
            ]
        },
        SchemaMigration(identifier: "v7: the live board shows a hold in progress") { _ in
            // A silence of hold length going on now in a live call: since when, and how long so far.
            [
                "ALTER TABLE live_calls ADD COLUMN silence_from_s {real}",
                "ALTER TABLE live_calls ADD COLUMN silence_s {real}",
                "UPDATE meta SET value = '7' WHERE key = 'schema_version'",
            ]
        },
        SchemaMigration(identifier: "v8: the live board shows the coach's verdict on the running rate") { _ in
            // "fast" or "slow" from the coach's too_fast / too_slow alert until its rate_ok.
            [
                "ALTER TABLE live_calls ADD COLUMN rate_state TEXT CHECK (rate_state IN ('fast', 'slow'))",
                "UPDATE meta SET value = '8' WHERE key = 'schema_version'",
            ]
        },
    ]

    // MARK: Writing a call

    /// Removes the earlier result of a path under a standard (a call has one row).
    /// The falling-ending rule's value, from the columns of a row stored before verdicts had a table.
    static let fallingEndingShare =
        "CASE WHEN agent_measured_endings > 0 THEN CAST(agent_falling_endings AS {real}) / agent_measured_endings END"

    public static let deleteCall = "DELETE FROM calls WHERE path = ? AND standard_key = ?"

    /// Inserts a `calls` row with these columns; returns its id (RETURNING works on both
    /// engines: SQLite ≥ 3.35).
    public static func insertCall(columns: [String]) -> String {
        """
        INSERT INTO calls (\(columns.joined(separator: ", "))) VALUES \
        (\(columns.map { _ in "?" }.joined(separator: ", "))) RETURNING id
        """
    }

    /// Child rows go in with multi-row inserts, this many rows per statement (a round trip
    /// per statement on PostgreSQL; under both engines' parameter limits).
    public static let rowsPerInsert = 200

    public static func insertRows(table: String, columns: [String], rows: Int) -> String {
        let one = "(" + columns.map { _ in "?" }.joined(separator: ", ") + ")"
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
            + Array(repeating: one, count: rows).joined(separator: ", ")
    }

    public static let verdictColumns = ["call_row", "rule", "passed", "value", "weight"]
    public static let utteranceColumns = [
        "call_row", "party", "start_s", "end_s", "syllables", "falling_ending", "final_drop_st", "end_vs_median_st",
    ]
    public static let eventColumns = ["call_row", "kind", "party", "start_s", "end_s", "detail"]

    /// The child rows of a call as (statement, parameters), chunked.
    /// - Parameter callRowExpression: SQL for the call's id in place of a parameter (e.g.
    ///   PostgreSQL's `currval('calls_id_seq')`, so the rows can be sent before the id is back).
    public static func childInserts(_ rows: CallRows, callRow: Int64, callRowExpression: String? = nil) -> [(
        String, [SQLValue]
    )] {
        let first = callRowExpression == nil ? [SQLValue.integer(callRow)] : []
        let verdicts = rows.verdicts.map { first + [.text($0.0), $0.1, $0.2, $0.3] }
        let utterances = rows.utterances.map {
            first + [.text($0.0), .real($0.1), .real($0.2), .integer(Int64($0.3)), $0.4, $0.5, $0.6]
        }
        let events = rows.events.map { first + [.text($0.0), $0.1, .real($0.2), .real($0.3), $0.4] }
        return chunked(table: "verdicts", columns: verdictColumns, verdicts, firstValue: callRowExpression)
            + chunked(table: "utterances", columns: utteranceColumns, utterances, firstValue: callRowExpression)
            + chunked(table: "events", columns: eventColumns, events, firstValue: callRowExpression)
    }

    /// - Parameter firstValue: SQL standing for the first column in every row (its value
    ///   is then not among the parameters).
    public static func chunked(table: String, columns: [String], _ rows: [[SQLValue]], firstValue: String? = nil) -> [(
        String, [SQLValue]
    )] {
        stride(from: 0, to: rows.count, by: rowsPerInsert).map { start in
            let slice = rows[start..<min(rows.count, start + rowsPerInsert)]
            var sql = insertRows(table: table, columns: columns, rows: slice.count)
            if let firstValue { sql = sql.replacingOccurrences(of: "(?", with: "(" + firstValue) }
            return (sql, slice.flatMap { $0 })
        }
    }

    // MARK: Runs

    public static let startRun = """
        INSERT INTO runs (started_at, source, standard_key, standard_json, jobs, yusu_version, worker)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
        """

    /// Counts one written call in its run, in the transaction that writes it: the run's
    /// counts of scored and failed files are always those of its rows in `calls`, whatever
    /// stops the batch (a kill, a full disk).
    public static let countCallInRun = """
        UPDATE runs SET files_seen = files_seen + 1, files_scored = files_scored + ?, files_failed = files_failed + ?,
        audio_seconds = audio_seconds + ? WHERE id = ?
        """

    public static func countCallInRunValues(_ runId: Int64, scored: Bool, audioSeconds: Double?) -> [SQLValue] {
        [.integer(scored ? 1 : 0), .integer(scored ? 0 : 1), .real(audioSeconds ?? 0), .integer(runId)]
    }

    /// Closes a run: when it ended, the files it skipped (already scored), and whether it
    /// was cut short. Scored and failed were counted call by call.
    public static let finishRun = """
        UPDATE runs SET finished_at = ?, files_skipped = ?, files_seen = files_scored + files_failed + ?, interrupted \
        = ? WHERE id = ?
        """

    public static func finishRunValues(_ id: Int64, counts: BatchCounts, interrupted: Bool, at time: String)
        -> [SQLValue]
    {
        [
            .text(time), .integer(Int64(counts.skipped)), .integer(Int64(counts.skipped)),
            .integer(interrupted ? 1 : 0), .integer(id),
        ]
    }

    /// True when the path is scored with this content, standard and analysis.
    public static let isScored = """
        SELECT COUNT(*) AS n FROM calls WHERE path = ? AND standard_key = ? AND content_hash = ?
        AND analysis_version = ? AND status = 'scored'
        """
}
