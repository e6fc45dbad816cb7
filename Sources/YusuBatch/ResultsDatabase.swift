import Foundation
import GRDB
import YusuDelivery

/// The nightly results: an SQLite file with one row per call, its utterances and events,
/// and one row per batch run. WAL mode while batches write; a batch that ends leaves a
/// complete file in rollback-journal mode, which a copy of the file alone carries whole
/// and a reader on a read-only mount can open.
///
/// Safe to interrupt: each call is written in its own transaction, with its run's counts,
/// so a kill loses at most the calls still being analysed and the run's record always
/// matches its rows. Safe to share: several batches may write the same file (SQLite's
/// locking, a 30 s busy timeout) and split its work through claims; a call is keyed by
/// (path, standard), so a file scored twice still has one row.
public final class ResultsDatabase: ResultsStore, @unchecked Sendable {
    public var dialect: SQLDialect { .sqlite }
    public var sharedAcrossThreads: Bool { true }
    public static var schemaVersion: Int { ResultsSQL.schemaVersion }
    public let path: String
    let pool: any DatabaseWriter
    /// What a reader should know about how the file was opened (read as it stands, WAL left out).
    public private(set) var warnings: [String] = []

    public struct DatabaseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Opens (creating and migrating when needed) a database to write results into.
    public convenience init(path: String) throws {
        try self.init(path: path, readOnly: false)
    }

    /// - Parameter readOnly: for reports. Opens an existing file without creating, migrating,
    ///   locking or writing anything (a read-only mount, a snapshot, a reviewer without
    ///   write access to the folder), and refuses one that is not a Yusu results database or
    ///   is of a newer schema than this Yusu knows.
    public init(path: String, readOnly: Bool) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.label = "yusu-results"
        if readOnly {
            configuration.readonly = true
            do {
                pool = try Self.openForReading(path: path, configuration: configuration, warnings: &warnings)
                try pool.read { try Self.checkOurs($0, path: path, emptyIsOurs: false) }
            } catch let error as DatabaseError {
                throw error
            } catch {
                throw DatabaseError(description: "\(path): cannot open the results database (\(Self.reason(error)))")
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
            throw DatabaseError(
                description:
                    """
                    \(path): cannot open the results database (cannot create \(lockPath): \
                    \(String(cString: strerror(errno))))
                    """
            )
        }
        defer { close(lockFile) }
        flock(lockFile, LOCK_EX)
        defer { flock(lockFile, LOCK_UN) }
        // Refuse what `report` refuses before a byte is written (opening for writing switches
        // the journal mode and migrating adds tables): another application's SQLite file,
        // or one of a newer schema. A new or empty file becomes a results database.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > 0 {
            var readConfiguration = configuration
            readConfiguration.readonly = true
            var ignored: [String] = []
            do {
                let existing = try Self.openForReading(path: path, configuration: readConfiguration, warnings: &ignored)
                defer { try? existing.close() }
                try existing.read { try Self.checkOurs($0, path: path, emptyIsOurs: true) }
            } catch let error as DatabaseError {
                throw error
            } catch {
                throw DatabaseError(description: "\(path): cannot open the results database (\(Self.reason(error)))")
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw DatabaseError(description: "\(path): cannot open the results database (\(Self.reason(error)))")
        }
    }

    /// Refuses a database that is not a Yusu results database (no `meta` and `calls`
    /// tables; with `emptyIsOurs`, a file with no tables at all is taken as new) or is of a
    /// newer schema than this Yusu knows.
    static func checkOurs(_ db: Database, path: String, emptyIsOurs: Bool) throws {
        if emptyIsOurs, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") == 0 { return }
        guard try db.tableExists("meta") && db.tableExists("calls") else {
            throw DatabaseError(description: "\(path): not a Yusu results database (no calls table)")
        }
        guard
            let version = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema_version'").flatMap({
                Int($0)
            })
        else {
            throw DatabaseError(description: "\(path): not a Yusu results database (no schema version)")
        }
        guard version <= Self.schemaVersion else {
            throw DatabaseError(
                description:
                    "\(path): written by a newer Yusu (schema \(version); this one reads up to \(Self.schemaVersion))")
        }
    }

    /// A read-only connection. A file in WAL mode needs its `-shm` index, which SQLite
    /// creates beside it; where it cannot (a read-only mount, a folder the reader may not
    /// write), the file is read as it stands, without its WAL, and the reader is told so
    /// when a WAL with content is there.
    static func openForReading(path: String, configuration: Configuration, warnings: inout [String]) throws
        -> DatabaseQueue
    {
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.read { _ = try Row.fetchOne($0, sql: "SELECT * FROM sqlite_master LIMIT 1") }
            return queue
        } catch let error as GRDB.DatabaseError where [.SQLITE_CANTOPEN, .SQLITE_READONLY].contains(error.resultCode) {
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "?#%")
            let uri = "file:" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + "?immutable=1"
            let immutable = try DatabaseQueue(path: uri, configuration: configuration)
            try immutable.read { _ = try Row.fetchOne($0, sql: "SELECT * FROM sqlite_master LIMIT 1") }
            let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            if walBytes > 0 {
                warnings.append(
                    """
                    \(path): a batch is writing this database, or ended without closing it: read as it stands, \
                    without the \(walBytes / 1024) KiB of its write-ahead log that cannot be opened read-only here
                    """
                )
            }
            return immutable
        }
    }

    /// SQLite's own words for an error ("database or disk is full").
    static func reason(_ error: Error) -> String {
        if let e = error as? GRDB.DatabaseError { return e.message ?? "\(e)" }
        return "\(error)"
    }

    /// Ends this process's use of the file for writing: moves everything out of the WAL into
    /// the file and, when no other batch has it open, switches it to rollback-journal mode,
    /// so the file alone is the whole database. Another batch still writing keeps WAL mode;
    /// the last to finish does this.
    /// - Returns: true when the file is left complete on its own.
    @discardableResult
    public func closeForCopying() -> Bool {
        guard let pool = pool as? DatabasePool else { return false }
        _ = try? pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try? pool.close()
        guard let queue = try? DatabaseQueue(path: path) else { return false }
        defer { try? queue.close() }
        let mode = try? queue.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode = DELETE") }
        return mode == "delete"
    }

    /// Creates or upgrades the file's schema (`yusu db migrate`).
    /// - Returns: the migrations applied now.
    public static func upgrade(path: String) throws -> [String] {
        let before: Set<String>
        do {
            before = try DatabaseQueue(path: path).read { try migrator.appliedIdentifiers($0) }
        } catch {
            throw DatabaseError(description: "\(path): cannot open the results database (\(error))")
        }
        _ = try ResultsDatabase(path: path)
        return ResultsSQL.migrations.map(\.identifier).filter { !before.contains($0) }
    }

    /// `ResultsSQL.migrations`, as GRDB runs them: each once, in order, in a transaction.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in ResultsSQL.migrations {
            migrator.registerMigration(migration.identifier) { db in
                for statement in migration.statements(.sqlite) {
                    try db.execute(sql: SQLDialect.sqlite.render(statement))
                }
            }
        }
        return migrator
    }

    // MARK: Runs

    public func startRun(source: String, standard: Standard, jobs: Int, version: String) throws -> Int64 {
        try startRun(source: source, standard: standard, jobs: jobs, version: version, worker: nil)
    }

    public func startRun(source: String, standard: Standard, jobs: Int, version: String, worker: String?) throws
        -> Int64
    {
        try pool.write { db in
            try Int64.fetchOne(
                db, sql: ResultsSQL.startRun,
                arguments: Self.arguments([
                    .text(Self.timestamp()), .text(source), .text(standard.key), .text(standard.canonicalJSON),
                    .integer(Int64(jobs)), .text(version), worker.map { .text($0) } ?? .null,
                ])) ?? db.lastInsertedRowID
        }
    }

    public func finishRun(_ id: Int64, counts: BatchCounts, interrupted: Bool) throws {
        try pool.write { db in
            try db.execute(
                sql: ResultsSQL.finishRun,
                arguments: Self.arguments(
                    ResultsSQL.finishRunValues(id, counts: counts, interrupted: interrupted, at: Self.timestamp())))
        }
    }

    // MARK: Calls

    /// True when `path` is already scored with this content, standard and analysis.
    public func isScored(path: String, contentHash: String, standardKey: String, analysisVersion: String) throws -> Bool
    {
        try pool.read { db in
            try Int.fetchOne(
                db, sql: ResultsSQL.isScored,
                arguments: Self.arguments([.text(path), .text(standardKey), .text(contentHash), .text(analysisVersion)])
            ) ?? 0 > 0
        }
    }

    /// Writes one call (replacing an earlier row for the same path and standard) with its
    /// utterances and events, counts it in its run and drops this batch's claim on the file,
    /// in one transaction.
    public func record(_ result: CallRecord) throws {
        let rows = try result.rows(scoredAt: Self.timestamp())
        let audio: Double? = if case .scored(let m, _) = result.outcome { m.durationSeconds } else { nil }
        try pool.write { db in
            try db.execute(sql: ResultsSQL.deleteCall, arguments: [result.item.path, result.standard.key])
            let callRow =
                try Int64.fetchOne(
                    db, sql: ResultsSQL.insertCall(columns: rows.call.map(\.0)),
                    arguments: Self.arguments(rows.call.map(\.1)))
                ?? db.lastInsertedRowID
            for (sql, values) in ResultsSQL.childInserts(rows, callRow: callRow) {
                try db.execute(sql: sql, arguments: Self.arguments(values))
            }
            try db.execute(
                sql: ResultsSQL.countCallInRun,
                arguments: Self.arguments(
                    ResultsSQL.countCallInRunValues(result.runId, scored: result.outcome.isScored, audioSeconds: audio))
            )
            try db.execute(
                sql: "DELETE FROM claims WHERE path = ? AND standard_key = ?",
                arguments: [result.item.path, result.standard.key])
        }
    }

    // MARK: Claims (batches sharing the file)

    /// Claims `path` under `standardKey` for `holder` until `leaseSeconds` from now, unless
    /// another holder's lease on it is still running.
    /// - Returns: true when this holder has the file now.
    public func claim(path: String, standardKey: String, holder: String, leaseSeconds: Double) throws -> Bool {
        let now = Date().timeIntervalSince1970
        return try pool.writeWithoutTransaction { db in
            var mine = false
            try db.inTransaction(.immediate) {
                let row = try Row.fetchOne(
                    db, sql: "SELECT holder, lease_until FROM claims WHERE path = ? AND standard_key = ?",
                    arguments: [path, standardKey])
                if let row, (row["holder"] as String) != holder, (row["lease_until"] as Double) > now { return .commit }
                try db.execute(
                    sql: "INSERT OR REPLACE INTO claims (path, standard_key, holder, lease_until) VALUES (?, ?, ?, ?)",
                    arguments: [path, standardKey, holder, now + leaseSeconds])
                mine = true
                return .commit
            }
            return mine
        }
    }

    /// Extends this holder's leases.
    public func renewClaims(holder: String, leaseSeconds: Double) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE claims SET lease_until = ? WHERE holder = ?",
                arguments: [Date().timeIntervalSince1970 + leaseSeconds, holder])
        }
    }

    /// Drops a claim without a result (the file was already scored, or the batch stopped).
    public func releaseClaim(path: String, standardKey: String, holder: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "DELETE FROM claims WHERE path = ? AND standard_key = ? AND holder = ?",
                arguments: [path, standardKey, holder])
        }
    }

    /// Whether another holder's lease on `path` is running now.
    public func isClaimedByOther(path: String, standardKey: String, holder: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db,
                sql:
                    """
                    SELECT COUNT(*) > 0 FROM claims WHERE path = ? AND standard_key = ? AND holder != ? AND \
                    lease_until > ?
                    """,
                arguments: [path, standardKey, holder, Date().timeIntervalSince1970]) ?? false
        }
    }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { v -> DatabaseValueConvertible? in
                switch v {
                case .null: return nil
                case .integer(let i): return i
                case .real(let d): return d
                case .text(let t): return t
                }
            })
    }

    /// Runs a read-only query (for reports and tests).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// One statement on a reader connection, outside an explicit transaction: a statement
    /// reads one consistent state by itself, and the BEGIN/COMMIT around each read cost the
    /// service a seventh of its time. (Several fetches were never one snapshot: each was its
    /// own transaction before.)
    public func fetch(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try pool.unsafeReentrantRead { db in try Self.rows(db, sql, values) }
    }

    @discardableResult
    public func execute(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try pool.write { db in try Self.rows(db, sql, values) }
    }

    /// One statement's rows as engine-neutral values. The statement is prepared once per
    /// connection and reused (the service asks the same few questions many times a second).
    static func rows(_ db: Database, _ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: SQLDialect.sqlite.render(sql))
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(values))
        var out: [SQLRow] = []
        while let row = try cursor.next() {
            var cells: [SQLValue] = []
            cells.reserveCapacity(columns.count)
            for i in 0..<columns.count {
                let value: DatabaseValue = row[i]
                switch value.storage {
                case .null: cells.append(.null)
                case .int64(let v): cells.append(.integer(v))
                case .double(let v): cells.append(.real(v))
                case .string(let v): cells.append(.text(v))
                case .blob(let b): cells.append(.text(String(decoding: b, as: UTF8.self)))
                }
            }
            out.append(SQLRow(columns: columns, values: cells))
        }
        return out
    }

    /// Now, as ISO 8601 UTC with milliseconds ("2026-11-24T08:05:12.345Z"). Formatted by
    /// hand: a formatter per call cost more than writing the call's rows.
    public static func timestamp(_ date: Date = Date()) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        let millis = min(999, Int((seconds - Double(whole)) * 1000))
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }

    /// A stored JSON column (metadata, warnings): JSONEncoder with sorted keys, written as
    /// JSONSerialization wrote it before (slashes escaped), so rows compare across versions.
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Strings and maps of strings always encode.
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static func verdictsJSON(_ card: Scorecard) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(card.verdicts.map(StoredVerdict.init)), as: UTF8.self)
    }
}

/// A verdict as a results database keeps it (`calls.verdicts_json`): what the reports and
/// the API read back, its evidence cut at 20 moments. Absent values are written as null.
public struct StoredVerdict: Codable, Sendable, Equatable {
    public struct Moment: Codable, Sendable, Equatable {
        public var start_s: Double
        public var end_s: Double
        public var note: String
    }
    public var rule: String
    public var passed: Bool?
    public var value: Double?
    public var unit: String
    public var value_text: String
    public var limit_text: String
    public var near_limit: Bool
    public var evidence: [Moment]

    init(_ v: Verdict) {
        (rule, passed, value, unit) = (v.rule, v.passed, v.value, v.unit)
        (value_text, limit_text, near_limit) = (v.valueText, v.limitText, v.nearLimit)
        evidence = v.evidence.prefix(20).map { Moment(start_s: $0.startSeconds, end_s: $0.endSeconds, note: $0.note) }
    }

    enum CodingKeys: String, CodingKey {
        case rule, passed, value, unit, value_text, limit_text, near_limit, evidence
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule, forKey: .rule)
        try c.encode(passed, forKey: .passed)
        try c.encode(value, forKey: .value)
        try c.encode(unit, forKey: .unit)
        try c.encode(value_text, forKey: .value_text)
        try c.encode(limit_text, forKey: .limit_text)
        try c.encode(near_limit, forKey: .near_limit)
        try c.encode(evidence, forKey: .evidence)
    }

    /// The verdicts stored in `json`; none when it is not such a list.
    public static func list(_ json: String?) -> [StoredVerdict] {
        guard let json else { return [] }
        return (try? JSONDecoder().decode([StoredVerdict].self, from: Data(json.utf8))) ?? []
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

    public init(
        item: BatchItem, contentHash: String, standard: Standard, analysisVersion: String, runId: Int64,
        outcome: CallOutcome, analysisSeconds: Double
    ) {
        self.item = item
        self.contentHash = contentHash
        self.standard = standard
        self.analysisVersion = analysisVersion
        self.runId = runId
        self.outcome = outcome
        self.analysisSeconds = analysisSeconds
    }
}

/// Where a shared queue stands, across every worker (PostgreSQL).
public struct QueueCounts: Sendable, Equatable {
    public var waiting = 0, leased = 0, done = 0, failed = 0
    /// Workers holding a lease now (one per process, whatever its `--jobs`).
    public var leaseHolders = 0
    public var audioSecondsDone = 0.0
    public var total: Int { waiting + leased + done + failed }
    public var open: Int { waiting + leased }
    public var finished: Int { done + failed }
    public init() {}
}

/// Running totals of a batch.
public struct BatchCounts: Sendable, Equatable {
    public var seen = 0
    public var scored = 0
    public var skipped = 0
    /// Scored by another batch sharing the results database while this one ran.
    public var elsewhere = 0
    public var failed = 0
    public var audioSeconds = 0.0
    /// Time spent in the database for the files counted (claims and writes; measured by
    /// the PostgreSQL batch), for the "per call" overhead in the last line.
    public var databaseSeconds = 0.0
    public init() {}

    /// Counts one file's outcome.
    public mutating func add(_ outcome: BatchFileOutcome) {
        seen += 1
        switch outcome {
        case .scored(let duration, _):
            scored += 1
            audioSeconds += duration
        case .skipped: skipped += 1
        case .elsewhere: elsewhere += 1
        case .failed: failed += 1
        }
    }
}
