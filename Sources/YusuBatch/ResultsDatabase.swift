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
public final class ResultsDatabase: ResultsStore, @unchecked Sendable {
    public var dialect: SQLDialect { .sqlite }
    public static var schemaVersion: Int { ResultsSQL.schemaVersion }
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
                for statement in migration.statements(.sqlite) { try db.execute(sql: SQLDialect.sqlite.render(statement)) }
            }
        }
        return migrator
    }

    // MARK: Runs

    public func startRun(source: String, standard: Standard, jobs: Int, version: String) throws -> Int64 {
        try pool.write { db in
            try Int64.fetchOne(db, sql: ResultsSQL.startRun, arguments: Self.arguments([
                .text(Self.timestamp()), .text(source), .text(standard.key), .text(standard.canonicalJSON),
                .integer(Int64(jobs)), .text(version), .null])) ?? db.lastInsertedRowID
        }
    }

    public func finishRun(_ id: Int64, counts: BatchCounts, interrupted: Bool) throws {
        try pool.write { db in
            try db.execute(sql: ResultsSQL.finishRun, arguments: Self.arguments(ResultsSQL.finishRunValues(id, counts: counts, interrupted: interrupted, at: Self.timestamp())))
        }
    }

    // MARK: Calls

    /// True when `path` is already scored with this content, standard and analysis.
    public func isScored(path: String, contentHash: String, standardKey: String, analysisVersion: String) throws -> Bool {
        try pool.read { db in
            try Int.fetchOne(db, sql: ResultsSQL.isScored, arguments: Self.arguments([.text(path), .text(standardKey), .text(contentHash), .text(analysisVersion)])) ?? 0 > 0
        }
    }

    /// Writes one call (replacing an earlier row for the same path and standard) with its
    /// utterances and events, in one transaction.
    public func record(_ result: CallRecord) throws {
        let rows = try result.rows(scoredAt: Self.timestamp())
        try pool.write { db in
            try db.execute(sql: ResultsSQL.deleteCall, arguments: [result.item.path, result.standard.key])
            let callRow = try Int64.fetchOne(db, sql: ResultsSQL.insertCall(columns: rows.call.map(\.0)), arguments: Self.arguments(rows.call.map(\.1)))
                ?? db.lastInsertedRowID
            for (sql, values) in ResultsSQL.childInserts(rows, callRow: callRow) {
                try db.execute(sql: sql, arguments: Self.arguments(values))
            }
        }
    }

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { v -> DatabaseValueConvertible? in
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

    public func fetch(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: SQLDialect.sqlite.render(sql), arguments: Self.arguments(values)).map { row in
                SQLRow(columns: Array(row.columnNames), values: row.databaseValues.map { value in
                    switch value.storage {
                    case .null: return .null
                    case .int64(let i): return .integer(i)
                    case .double(let d): return .real(d)
                    case .string(let s): return .text(s)
                    case .blob(let b): return .text(String(decoding: b, as: UTF8.self))
                    }
                })
            }
        }
    }

    /// Now, as ISO 8601 UTC with milliseconds ("2026-11-24T08:05:12.345Z"). Formatted by
    /// hand: a formatter per call cost more than writing the call's rows.
    public static func timestamp(_ date: Date = Date()) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        let millis = min(999, Int((seconds - Double(whole)) * 1000))
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
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
