import Foundation

/// Where the PostgreSQL results live, from `postgres://user@host:port/dbname` and the
/// usual libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGPASSFILE).
///
/// A password never comes from the command line: a URL that carries one is refused. It
/// comes from PGPASSWORD or from a password file (PGPASSFILE, else ~/.pgpass), whose lines
/// are `host:port:database:user:password` with `*` as a wildcard, as libpq reads them.
public struct PostgresTarget: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var password: String?
    /// A Unix-socket directory instead of TCP (host starting with "/").
    public var socketDirectory: String? { host.hasPrefix("/") ? host : nil }

    public struct ParseError: Error, CustomStringConvertible { public var description: String }

    /// True for arguments that name PostgreSQL rather than an SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isURL(text), let url = URLComponents(string: text) else {
            throw ParseError(description: "\(text): not a postgres:// URL (postgres://user@host:port/dbname)")
        }
        if url.password != nil
            || (url.queryItems ?? []).contains(where: { ["password", "sslpassword"].contains($0.name.lowercased()) })
        {
            throw ParseError(
                description:
                    """
                    the database URL carries a password; give it in PGPASSWORD or a password file (PGPASSFILE, \
                    ~/.pgpass) instead, so it never shows in a process list or a log
                    """
            )
        }
        host =
            url.host.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding } ?? environment["PGHOST"] ?? "localhost"
        port = url.port ?? environment["PGPORT"].flatMap(Int.init) ?? 5432
        user = url.user.flatMap { $0.isEmpty ? nil : $0 } ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? (environment["PGDATABASE"] ?? user) : path
        password =
            environment["PGPASSWORD"]
            ?? Self.passwordFromFile(host: host, port: port, database: database, user: user, environment: environment)
    }

    /// libpq's password file: the first matching line wins.
    static func passwordFromFile(host: String, port: Int, database: String, user: String, environment: [String: String])
        -> String?
    {
        let path = environment["PGPASSFILE"] ?? (environment["HOME"].map { $0 + "/.pgpass" } ?? "")
        guard !path.isEmpty, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let fileHost = host.hasPrefix("/") ? "localhost" : host
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            // Fields split on unescaped colons; \: and \\ are escapes.
            var fields: [String] = []
            var field = ""
            var escaped = false
            for c in line {
                if escaped {
                    field.append(c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == ":" {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(c)
                }
            }
            fields.append(field)
            guard fields.count == 5 else { continue }
            let wanted = [fileHost, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// For messages and logs: never the password.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}
