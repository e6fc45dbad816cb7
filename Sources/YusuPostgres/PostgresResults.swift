import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import YusuBatch
import YusuDelivery

/// The results database and the shared work queue on PostgreSQL.
///
/// The schema, its migrations and the queries are `ResultsSQL`'s, the same as SQLite's
/// (`ResultsDatabase`); the queue is PostgreSQL's own: one row per file, standard, content
/// and analysis; workers on any number of machines claim rows with `FOR UPDATE SKIP LOCKED`
/// under a lease they renew while they work. A worker that dies loses only its lease:
/// when it runs out, the row is claimed again. A result is written in the same transaction
/// that marks its row done, and only while this worker still holds the lease, so every
/// file ends with exactly one result row.
///
/// One `PostgresResults` is one connection, used by one thread at a time (blocking calls
/// on NIO futures); a worker opens one per parallel analysis and one for its heartbeat.
/// When the server goes away (a restart, a failover, a network cut), each operation waits
/// for it and runs again on a new connection, for up to `reconnectSeconds`.
public final class PostgresResults: ResultsStore, @unchecked Sendable {
    public static var schemaVersion: Int { ResultsSQL.schemaVersion }
    public let target: PostgresTarget
    public var dialect: SQLDialect { .postgres }
    public var sharedAcrossThreads: Bool { false }
    /// How long an operation waits for a lost server before it gives up.
    public var reconnectSeconds: Double
    /// Where "lost the server" and "reconnected" go (standard error by default).
    public var log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("yusu: " + $0 + "\n").utf8)) }
    private var connection: PostgresConnection
    private var configuration: PostgresConnection.Configuration
    let logger: Logger

    public struct DatabaseError: Error, CustomStringConvertible {
        public var description: String
        /// The server went away (closed connection, shutdown, refused): worth waiting for.
        public var connectionLost = false
        /// The server's SQLSTATE, when it said one.
        public var sqlState: String? = nil
    }

    public init(target: PostgresTarget, reconnectSeconds: Double = 300) throws {
        self.target = target
        self.reconnectSeconds = reconnectSeconds
        var logger = Logger(label: "yusu-postgres")
        logger.logLevel = .critical
        self.logger = logger
        if let socket = target.socketDirectory {
            configuration = .init(
                unixSocketPath: socket + "/.s.PGSQL.\(target.port)", username: target.user,
                password: target.password, database: target.database)
        } else {
            configuration = .init(
                host: target.host, port: target.port, username: target.user, password: target.password,
                database: target.database, tls: .disable)
        }
        // Commits do not wait for the server's disk (PostgreSQL's synchronous_commit = off,
        // per session): a result and its queue row change in one transaction, so a server
        // crash that loses the last commits loses both together, and the file's lease runs
        // out and it is scored again. Nothing is lost or doubled; a commit costs no flush.
        configuration.options.additionalStartupParameters = [
            ("synchronous_commit", "off"), ("application_name", "yusu"),
        ]
        connection = try Self.connect(configuration, target: target, logger: logger)
    }

    deinit {
        if !connection.isClosed { _ = try? Self.await(connection.close(), on: connection) }
    }

    static func connect(_ configuration: PostgresConnection.Configuration, target: PostgresTarget, logger: Logger)
        throws -> PostgresConnection
    {
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                id: 1, logger: logger
            ).wait()
        } catch {
            throw DatabaseError(
                description: "\(target): cannot connect (\(Self.reason(error)))",
                connectionLost: Self.isConnectionLost(error))
        }
    }

    /// The server's own words (e.g. "password authentication failed for user x").
    static func reason(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if e.code == .authMechanismRequiresPassword {
                return
                    """
                    the server asks for a password and none was given: set PGPASSWORD, or put it in a password \
                    file (PGPASSFILE, else ~/.pgpass, lines host:port:database:user:password, mode 0600)
                    """
            }
            if let message = e.serverInfo?[.message] { return message }
            if let underlying = e.underlying { return "\(e.code): \(underlying)" }
            return "\(e.code)"
        }
        return "\(error)"
    }

    /// Errors that mean the server or the network went away, not that a statement was wrong:
    /// a closed or refused connection, and SQLSTATE classes 08 (connection exception) and
    /// 57P (operator intervention: shutdown, restart, "starting up").
    static func isConnectionLost(_ error: Error) -> Bool {
        guard let e = error as? PSQLError else { return error is ChannelError || error is IOError }
        if [PSQLError.Code.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown]
            .contains(e.code)
        {
            return true
        }
        if e.code == .server, let state = e.serverInfo?[.sqlState] {
            return state.hasPrefix("08") || state.hasPrefix("57P")
        }
        return false
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

    /// Runs one statement with `$1…` parameters, once; returns its rows.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLValue] = []) throws -> [PostgresRow] {
        try pipeline([(sql, values)])[0].get()
    }

    /// Sends every statement at once and then waits for their answers, in order: one wait
    /// instead of one per statement (postgres-nio runs them one after another on the
    /// connection, from its event loop). Each statement's rows or error; a lost connection
    /// is thrown, as it is the whole pipeline's fate (to be run again).
    public func pipeline(_ statements: [(String, [SQLValue])]) throws -> [Result<[PostgresRow], DatabaseError>] {
        guard !connection.isClosed else {
            throw DatabaseError(description: "\(target): the connection is closed", connectionLost: true)
        }
        let futures = statements.map {
            connection.query(PostgresQuery(unsafeSQL: $0.0, binds: Self.bind($0.1)), logger: logger)
        }
        let results = futures.map { future -> Result<[PostgresRow], DatabaseError> in
            do {
                return .success(try Self.await(future, on: connection).rows)
            } catch let error as DatabaseError {
                return .failure(DatabaseError(description: "\(target): \(error.description)", connectionLost: true))
            } catch {
                return .failure(
                    DatabaseError(
                        description: "\(target): \(Self.reason(error))", connectionLost: Self.isConnectionLost(error),
                        sqlState: (error as? PSQLError)?.serverInfo?[.sqlState]))
            }
        }
        for case .failure(let error) in results where error.connectionLost { throw error }
        return results
    }

    /// Waits for `future`, but not for ever on a dead connection: postgres-nio 1.x can leave
    /// a query's future pending when the server closes the connection under it (a restart
    /// with `-m fast`). The wait looks at the connection every second instead.
    static func await<T: Sendable>(_ future: EventLoopFuture<T>, on connection: PostgresConnection) throws -> T {
        let finished = DispatchSemaphore(value: 0)
        future.whenComplete { _ in finished.signal() }
        while finished.wait(timeout: .now() + 1) == .timedOut {
            if connection.isClosed {
                // One more moment for a result already on its way.
                if finished.wait(timeout: .now() + 0.5) == .success { break }
                throw DatabaseError(description: "the server closed the connection", connectionLost: true)
            }
        }
        return try future.wait()
    }

    /// Runs `body`; when the server goes away under it, waits for the server, connects
    /// again and runs `body` again from the start, for up to `reconnectSeconds`. `body`
    /// must be safe to repeat: one transaction, or statements that are idempotent.
    @discardableResult
    public func retrying<T>(_ body: () throws -> T) throws -> T {
        var deadline: Date? = nil
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where error.connectionLost {
                let until = deadline ?? Date().addingTimeInterval(reconnectSeconds)
                deadline = until
                try reconnect(until: until, after: error)
            }
        }
    }

    private func reconnect(until deadline: Date, after error: DatabaseError) throws {
        log("lost the database (\(error.description)); waiting up to \(Int(reconnectSeconds)) s for it")
        var pause = 0.25
        while true {
            if Date() >= deadline {
                throw DatabaseError(
                    description:
                        """
                        \(target): the database did not come back within \(Int(reconnectSeconds)) s \
                        (\(error.description))
                        """
                )
            }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 5)
            do {
                let fresh = try Self.connect(configuration, target: target, logger: logger)
                let old = connection
                connection = fresh
                // Kept alive until closed (postgres-nio asserts a connection is closed before it goes).
                if !old.isClosed { old.close().whenComplete { _ in withExtendedLifetime(old) {} } }
                log("reconnected to \(target)")
                return
            } catch let e as DatabaseError where e.connectionLost {
                continue
            }
        }
    }

    /// `ResultsStore`: a statement written for `SQLDialect.render`, with its rows as values.
    public func fetch(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        let rendered = SQLDialect.postgres.render(sql)
        return try retrying { try query(rendered, values) }.map { row in
            var columns: [String] = []
            var cells: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                cells.append(try Self.value(cell))
            }
            return SQLRow(columns: columns, values: cells)
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
        try fetch(sql, values)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .numeric: return .real(Double(try cell.decode(String.self)) ?? .nan)
        default: return .text(try cell.decode(String.self))
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

    /// What `migrate` may do to a database whose schema is older than this Yusu's.
    public enum Upgrade: Sendable { case refuse, apply }

    /// Creates the schema on an empty database (`ResultsSQL.migrations`, as SQLite runs
    /// them) and checks the version of an existing one. An older schema is refused with a
    /// message (workers of two versions must not share a queue) unless `upgrade` is
    /// `.apply` (`yusu db migrate`). Several processes starting at once serialise on an
    /// advisory lock.
    /// - Parameter upTo: apply only this many migrations (tests build older schemas).
    /// - Returns: the migrations applied now.
    @discardableResult
    public func migrate(upgrade: Upgrade = .refuse, upTo: Int? = nil) throws -> [String] {
        try retrying {
            try query("SELECT pg_advisory_lock(7465)")
            defer { _ = try? query("SELECT pg_advisory_unlock(7465)") }
            let hasMeta =
                try query("SELECT to_regclass('meta') IS NOT NULL AND to_regclass('yusu_migrations') IS NOT NULL").first
                .map { try $0.decode(Bool.self) } ?? false
            let wanted = min(upTo ?? ResultsSQL.migrations.count, ResultsSQL.migrations.count)
            var applied: Set<String> = []
            if hasMeta {
                let version = try query("SELECT value FROM meta WHERE key = 'schema_version'").first.map {
                    try $0.decode(String.self)
                }
                guard let version, let number = Int(version) else {
                    throw DatabaseError(description: "\(target): not a Yusu results database (no schema version)")
                }
                if number > Self.schemaVersion {
                    throw DatabaseError(
                        description:
                            """
                            \(target): the results schema is version \(number), this Yusu uses version \
                            \(Self.schemaVersion) (written by a newer Yusu: upgrade this one)
                            """
                    )
                }
                if number < wanted && upgrade == .refuse {
                    throw DatabaseError(
                        description:
                            """
                            \(target): the results schema is version \(number), this Yusu uses version \
                            \(Self.schemaVersion) (an older schema: stop the workers of the older Yusu, then \
                            upgrade it once with 'yusu db migrate --db \(target)')
                            """
                    )
                }
                applied = Set(try query("SELECT identifier FROM yusu_migrations").map { try $0.decode(String.self) })
            } else {
                let foreign =
                    try query("SELECT to_regclass('calls') IS NOT NULL OR to_regclass('meta') IS NOT NULL").first.map {
                        try $0.decode(Bool.self)
                    } ?? false
                if foreign {
                    throw DatabaseError(
                        description:
                            """
                            \(target): has a calls or meta table but is not a Yusu results database (no \
                            yusu_migrations); point --db at a database of its own
                            """
                    )
                }
                try query(
                    """
                    CREATE TABLE IF NOT EXISTS yusu_migrations (identifier TEXT PRIMARY KEY, applied_at \
                    TIMESTAMPTZ NOT NULL DEFAULT now())
                    """
                )
            }
            var now: [String] = []
            for migration in ResultsSQL.migrations.prefix(wanted) where !applied.contains(migration.identifier) {
                try transaction {
                    for statement in migration.statements(.postgres) {
                        try query(SQLDialect.postgres.render(statement))
                    }
                    try query("INSERT INTO yusu_migrations (identifier) VALUES ($1)", [.text(migration.identifier)])
                }
                now.append(migration.identifier)
            }
            return now
        }
    }
}

extension PostgresResults {
    /// For readers (`yusu report`): a Yusu results database of this schema or an older one.
    public func checkReadable() throws {
        struct Check: Decodable { let ok: Int }
        struct Meta: Decodable { let value: String }
        let hasMeta =
            try fetch(
                Check.self,
                """
                SELECT CASE WHEN to_regclass('meta') IS NOT NULL AND to_regclass('calls') IS NOT NULL THEN 1 ELSE \
                0 END AS ok
                """,
                []
            )
            .first?.ok == 1
        guard hasMeta else {
            throw DatabaseError(description: "\(target): not a Yusu results database (no calls table)")
        }
        let version =
            try fetch(Meta.self, "SELECT value FROM meta WHERE key = 'schema_version'", []).first.flatMap {
                Int($0.value)
            } ?? 0
        guard version <= Self.schemaVersion else {
            throw DatabaseError(
                description:
                    "\(target): written by a newer Yusu (schema \(version); this one reads up to \(Self.schemaVersion))"
            )
        }
    }
}
