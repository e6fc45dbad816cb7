import ArgumentParser
import Foundation
import YusuBatch
import YusuDelivery
import YusuPostgres

/// Opens a results database to read, whichever engine `db` names.
func openResults(_ db: String) throws -> any ResultsStore {
    if PostgresTarget.isURL(db) {
        let target = try postgresTarget(db)
        let results = try PostgresResults(target: target, reconnectSeconds: 0)
        try results.checkReadable()
        return results
    }
    guard FileManager.default.fileExists(atPath: db) else {
        printError("\(db): no such results database")
        throw ExitCode(1)
    }
    let database = try ResultsDatabase(path: db, readOnly: true)
    for warning in database.warnings { printError("warning: \(warning)") }
    return database
}

func postgresTarget(_ url: String) throws -> PostgresTarget {
    do { return try PostgresTarget(url: url) } catch let error as PostgresTarget.ParseError {
        printError(error.description)
        throw ExitCode(64)
    }
}

/// Runs `body`, turning either engine's database errors (and a manifest that cannot be
/// read) into one line and exit 1.
func reportingDatabaseErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ResultsDatabase.DatabaseError {
        printError(error.description)
        throw ExitCode(1)
    } catch let error as PostgresResults.DatabaseError {
        printError(error.description)
        throw ExitCode(1)
    } catch let error as ArchiveSource.ManifestError {
        printError(error.description)
        throw ExitCode(1)
    } catch let error as Standard.LoadError {
        printError(error.description)
        throw ExitCode(1)
    }
}

struct Db: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract:
            "Look after a results database: copy SQLite to PostgreSQL, upgrade its schema, see where the queue stands.",
        subcommands: [Copy.self, Migrate.self, Status.self]
    )

    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy every result of an SQLite results file into PostgreSQL, without scoring anything again.",
            discussion: """
                Runs, calls, verdicts, utterances and events are copied as they are, a page of calls per transaction. \
                Copying again is safe: runs are copied once, and a call already in the target (same path and standard) \
                is kept unless --replace. Files copied this way are not queued again by 'yusu batch --db postgres://…'.
                """
        )

        @Option(name: .long, help: "The SQLite results file written by 'yusu batch' (read only).")
        var from: String

        @Option(
            name: .long,
            help:
                """
                postgres://user@host:port/dbname (password from PGPASSWORD or a password file). Created schema if \
                empty.
                """
        )
        var to: String

        @Flag(name: .long, help: "Replace calls the target already has (same path and standard) with the copied ones.")
        var replace = false

        @Flag(name: .long, help: "Only the final line.")
        var quiet = false

        func validate() throws {
            guard PostgresTarget.isURL(to) else {
                throw ValidationError("--to must be a postgres:// URL (got '\(to)')")
            }
            guard !PostgresTarget.isURL(from) else {
                throw ValidationError("--from is the SQLite results file (got a URL)")
            }
        }

        func run() throws {
            guard FileManager.default.fileExists(atPath: from) else {
                printError("\(from): no such results database")
                throw ExitCode(1)
            }
            let target = try postgresTarget(to)
            let counts = try reportingDatabaseErrors {
                var copy = ResultsCopy(
                    source: try ResultsDatabase(path: from, readOnly: true), target: try PostgresResults(target: target)
                )
                copy.replace = replace
                let quiet = self.quiet
                return try copy.run { looked, total in
                    if !quiet { FileHandle.standardError.write(Data("yusu db copy: \(looked)/\(total) calls\n".utf8)) }
                }
            }
            FileHandle.standardError.write(
                Data(
                    """
                    yusu db copy: \(counts.calls) calls copied, \(counts.replaced) of them replacing, \
                    \(counts.kept) already there and kept, \(counts.runs) runs, into \(target)\n
                    """
                    .utf8))
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract:
                "Create or upgrade the results schema (PostgreSQL: workers refuse an older schema until this has run).",
            discussion:
                """
                Stop the workers of the older Yusu first. SQLite files are upgraded by 'yusu batch' itself; this \
                does it without a batch.
                """
        )

        @Option(name: .long, help: "An SQLite results file or postgres://user@host:port/dbname.")
        var db: String

        func run() throws {
            let applied: [String] = try reportingDatabaseErrors {
                if PostgresTarget.isURL(db) {
                    return try PostgresResults(target: try postgresTarget(db)).migrate(upgrade: .apply)
                }
                return try ResultsDatabase.upgrade(path: db)
            }
            print(
                applied.isEmpty
                    ? "\(db): schema \(ResultsSQL.schemaVersion), nothing to do"
                    : "\(db): schema \(ResultsSQL.schemaVersion); applied: " + applied.joined(separator: "; "))
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Where a results database stands: schema, calls, and (PostgreSQL) the shared queue.")

        @Option(name: .long, help: "An SQLite results file or postgres://user@host:port/dbname.")
        var db: String

        func run() throws {
            try reportingDatabaseErrors {
                let store = try openResults(db)
                struct Meta: Decodable { let value: String }
                struct Calls: Decodable {
                    let scored, failed: Int?
                    let audio: Double?
                }
                let version =
                    try store.fetch(Meta.self, "SELECT value FROM meta WHERE key = 'schema_version'", []).first?.value
                    ?? "?"
                let calls = try store.fetch(
                    Calls.self,
                    """
                    SELECT SUM(CASE WHEN status = 'scored' THEN 1 ELSE 0 END) AS scored, SUM(CASE WHEN status = \
                    'failed' THEN 1 ELSE 0 END) AS failed,
                           CAST(SUM(duration_s) AS {real}) AS audio FROM calls
                    """, []
                ).first
                print(
                    """
                    schema \(version); calls: \(calls?.scored ?? 0) scored, \(calls?.failed ?? 0) \
                    failed, 
                    """
                        + String(format: "%.2f h of audio", (calls?.audio ?? 0) / 3600))
                if let pg = store as? PostgresResults {
                    print("queue: " + TerminalProgress.queueStatus(try pg.queueCounts(), samples: []))
                }
            }
        }
    }
}
