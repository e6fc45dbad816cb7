import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import YusuBatch
import YusuDelivery

/// The results database and the shared work queue on PostgreSQL.
///
/// The result tables are SQLite's (`ResultsDatabase`), column for column, written from the
/// same `CallRows`. The queue is PostgreSQL's own: one row per file, standard, content and
/// analysis; workers on any number of machines claim rows with `FOR UPDATE SKIP LOCKED`
/// under a lease they renew while they work. A worker that dies loses only its lease:
/// when it runs out, the row is claimed again. A result is written in the same transaction
/// that marks its row done, and only while this worker still holds the lease, so every
/// file ends with exactly one result row.
///
/// One `PostgresResults` is one connection, used by one thread at a time (blocking calls
/// on NIO futures); a worker opens one per parallel analysis and one for its heartbeat.
public final class PostgresResults: @unchecked Sendable {
    public static let schemaVersion = 3
    public let target: PostgresTarget
    let connection: PostgresConnection
    let logger: Logger

    public struct DatabaseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(target: PostgresTarget) throws {
        self.target = target
        var logger = Logger(label: "yusu-postgres")
        logger.logLevel = .critical
        self.logger = logger
        let configuration: PostgresConnection.Configuration
        if let socket = target.socketDirectory {
            configuration = .init(unixSocketPath: socket + "/.s.PGSQL.\(target.port)", username: target.user,
                                  password: target.password, database: target.database)
        } else {
            configuration = .init(host: target.host, port: target.port, username: target.user, password: target.password,
                                  database: target.database, tls: .disable)
        }
        do {
            connection = try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                        id: 1, logger: logger).wait()
        } catch {
            throw DatabaseError(description: "\(target): cannot connect (\(Self.reason(error)))")
        }
    }

    deinit { try? connection.close().wait() }

    /// The server's own words (e.g. "password authentication failed for user x").
    static func reason(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return message }
            return "\(e.code)"
        }
        return "\(error)"
    }

    // MARK: Queries

    static func bind(_ values: [SQLValue]) -> PostgresBindings {
        var b = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .null: b.appendNull()
            case .integer(let i): b.append(i)
            case .real(let d): b.append(d)
            case .text(let t): b.append(t)
            }
        }
        return b
    }

    /// Runs one statement with `$1…` parameters; returns its rows.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLValue] = []) throws -> [PostgresRow] {
        do {
            return try connection.query(PostgresQuery(unsafeSQL: sql, binds: Self.bind(values)), logger: logger).wait().rows
        } catch {
            throw DatabaseError(description: "\(target): \(Self.reason(error))")
        }
    }

    /// The first row's columns as whole numbers (counts), for checks and tests.
    public func integers(_ sql: String, _ values: [SQLValue] = []) throws -> [Int] {
        guard let row = try query(sql, values).first else { return [] }
        let cells = row.makeRandomAccess()
        do {
            return try (0..<cells.count).map { Int(try cells[$0].decode(Int64.self)) }
        } catch {
            throw DatabaseError(description: "\(target): \(sql): not whole numbers (\(error))")
        }
    }

    /// One whole number per row (the first column), for checks and tests.
    public func column(_ sql: String, _ values: [SQLValue] = []) throws -> [Int] {
        try query(sql, values).map { Int(try $0.decode(Int64.self)) }
    }

    /// Runs `body` in a transaction, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let result = try body()
            try query("COMMIT")
            return result
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    // MARK: Schema

    /// Creates the schema on an empty database; checks the version of an existing one.
    /// Several workers starting at once serialise on an advisory lock.
    public func migrate() throws {
        try query("SELECT pg_advisory_lock(7465)")
        defer { _ = try? query("SELECT pg_advisory_unlock(7465)") }
        let exists = try query("SELECT to_regclass('yusu_meta') IS NOT NULL").first.map { try $0.decode(Bool.self) } ?? false
        if exists {
            let version = try query("SELECT value FROM yusu_meta WHERE key = 'schema_version'").first.map { try $0.decode(String.self) }
            guard let version, let number = Int(version) else {
                throw DatabaseError(description: "\(target): not a Yusu results database (no schema version)")
            }
            guard number == Self.schemaVersion else {
                throw DatabaseError(description: "\(target): the results schema is version \(number), this Yusu uses version \(Self.schemaVersion)"
                                    + (number < Self.schemaVersion ? " (an older schema: upgrade it with a matching Yusu, or point at a new database)" : " (written by a newer Yusu)"))
            }
            return
        }
        try transaction {
            for statement in Self.schema { try query(statement) }
            try query("INSERT INTO yusu_meta (key, value) VALUES ('schema_version', $1)", [.text(String(Self.schemaVersion))])
        }
    }

    /// SQLite's schema (ResultsDatabase migrations v1–v3) in PostgreSQL's words, plus the queue.
    static let schema: [String] = [
        "CREATE TABLE yusu_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """
        CREATE TABLE runs (
            id BIGSERIAL PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
            source TEXT NOT NULL, standard_key TEXT NOT NULL, standard_json TEXT NOT NULL,
            jobs INTEGER NOT NULL, yusu_version TEXT NOT NULL, worker TEXT,
            files_seen INTEGER NOT NULL DEFAULT 0, files_scored INTEGER NOT NULL DEFAULT 0,
            files_skipped INTEGER NOT NULL DEFAULT 0, files_failed INTEGER NOT NULL DEFAULT 0,
            audio_seconds DOUBLE PRECISION NOT NULL DEFAULT 0, interrupted INTEGER NOT NULL DEFAULT 1)
        """,
        """
        CREATE TABLE calls (
            id BIGSERIAL PRIMARY KEY,
            path TEXT NOT NULL, content_hash TEXT NOT NULL, standard_key TEXT NOT NULL,
            standard_name TEXT NOT NULL, standard_version INTEGER NOT NULL,
            run_id BIGINT REFERENCES runs(id), scored_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('scored', 'failed')), failure_reason TEXT,
            agent_id TEXT NOT NULL, call_id TEXT NOT NULL, call_date TEXT NOT NULL,
            agent_channel INTEGER NOT NULL, metadata_json TEXT NOT NULL DEFAULT '{}',
            duration_s DOUBLE PRECISION, sample_rate_hz INTEGER, channels INTEGER, format TEXT, analysis_s DOUBLE PRECISION,
            agent_syllables INTEGER, agent_talk_time_s DOUBLE PRECISION, agent_phonation_time_s DOUBLE PRECISION,
            agent_speech_rate_cpm DOUBLE PRECISION, agent_articulation_rate_cpm DOUBLE PRECISION, agent_level_dbov DOUBLE PRECISION,
            agent_median_f0_hz DOUBLE PRECISION, agent_utterances INTEGER,
            agent_falling_endings INTEGER, agent_measured_endings INTEGER,
            customer_syllables INTEGER, customer_speech_rate_cpm DOUBLE PRECISION, customer_level_dbov DOUBLE PRECISION,
            agent_interruptions INTEGER, customer_interruptions INTEGER, backchannels INTEGER,
            holds INTEGER, longest_hold_s DOUBLE PRECISION, long_utterances INTEGER,
            score DOUBLE PRECISION, verdicts_json TEXT, analysis_version TEXT,
            UNIQUE (path, standard_key))
        """,
        "CREATE INDEX calls_agent_date ON calls (agent_id, call_date)",
        "CREATE INDEX calls_date ON calls (call_date)",
        "CREATE INDEX calls_score ON calls (call_date, score)",
        """
        CREATE TABLE verdicts (
            call_row BIGINT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            rule TEXT NOT NULL, passed INTEGER, value DOUBLE PRECISION, weight DOUBLE PRECISION,
            PRIMARY KEY (call_row, rule))
        """,
        "CREATE INDEX verdicts_rule ON verdicts (rule, passed)",
        """
        CREATE TABLE utterances (
            call_row BIGINT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            party TEXT NOT NULL, start_s DOUBLE PRECISION NOT NULL, end_s DOUBLE PRECISION NOT NULL, syllables INTEGER NOT NULL,
            falling_ending INTEGER, final_drop_st DOUBLE PRECISION, end_vs_median_st DOUBLE PRECISION)
        """,
        "CREATE INDEX utterances_call ON utterances (call_row)",
        """
        CREATE TABLE events (
            call_row BIGINT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            kind TEXT NOT NULL, party TEXT, start_s DOUBLE PRECISION NOT NULL, end_s DOUBLE PRECISION NOT NULL, detail TEXT)
        """,
        "CREATE INDEX events_call ON events (call_row)",
        """
        CREATE TABLE queue (
            id BIGSERIAL PRIMARY KEY,
            path TEXT NOT NULL, content_hash TEXT NOT NULL, standard_key TEXT NOT NULL, analysis_version TEXT NOT NULL,
            standard_json TEXT NOT NULL, item_json TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'leased', 'done', 'failed')),
            leased_by TEXT, lease_until TIMESTAMPTZ, attempts INTEGER NOT NULL DEFAULT 0,
            audio_s DOUBLE PRECISION, enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now(), finished_at TIMESTAMPTZ,
            UNIQUE (path, standard_key, content_hash, analysis_version))
        """,
        "CREATE INDEX queue_claim ON queue (state, id)",
    ]
}
