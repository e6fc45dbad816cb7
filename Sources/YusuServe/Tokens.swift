import Crypto
import Foundation
import YusuBatch

/// Bearer tokens of the service. A token is shown once, when it is made; the database
/// keeps its SHA-256 only, so neither a copy of the database nor a log line gives access.
/// A `read` token views calls, nights and pages; a `write` token may also upload
/// recordings and stream live calls.
public enum AccessTokens {
    public enum Scope: String, Sendable, CaseIterable, Codable { case read, write }

    public struct Info: Sendable, Codable, Equatable {
        public var id: Int64
        public var name: String
        public var scope: Scope
        public var createdAt: String
        public var revokedAt: String?
    }

    public struct TokenError: Error, CustomStringConvertible { public var description: String }

    /// "yusu_" and 32 random bytes in hex (the system's cryptographic generator).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return "yusu_"
            + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Makes a token; returns it (to print once) and its record.
    public static func create(in store: any ResultsStore, name: String, scope: Scope) throws -> (
        token: String, info: Info
    ) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, isLabel(trimmed) else {
            throw TokenError(description: "a token's name must be 1 to 200 bytes of text without control characters")
        }
        let token = newToken()
        let now = ResultsDatabase.timestamp()
        let rows = try store.execute(
            "INSERT INTO tokens (name, token_sha256, scope, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            [.text(trimmed), .text(hash(token)), .text(scope.rawValue), .text(now)])
        struct Inserted: Decodable { let id: Int64 }
        let id = try rows.first.map { try SQLRowDecoder().decode(Inserted.self, from: $0).id } ?? 0
        return (token, Info(id: id, name: trimmed, scope: scope, createdAt: now, revokedAt: nil))
    }

    /// A row of `tokens` (the hash never leaves the database).
    struct Row: Decodable {
        let id: Int64
        let name, scope, created_at: String
        let revoked_at: String?
    }

    public static func list(in store: any ResultsStore) throws -> [Info] {
        try store.fetch(Row.self, "SELECT id, name, scope, created_at, revoked_at FROM tokens ORDER BY id", []).map {
            Info(
                id: $0.id, name: $0.name, scope: Scope(rawValue: $0.scope) ?? .read, createdAt: $0.created_at,
                revokedAt: $0.revoked_at)
        }
    }

    /// Revokes the token with this id, or every live token of this name. Returns how many.
    public static func revoke(in store: any ResultsStore, idOrName: String) throws -> Int {
        let now = ResultsDatabase.timestamp()
        let rows: [SQLRow]
        if let id = Int64(idOrName) {
            rows = try store.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
                [.text(now), .integer(id)])
        } else {
            rows = try store.execute(
                "UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING id",
                [.text(now), .text(idOrName)])
        }
        return rows.count
    }

    /// The scope of a live token, nil for an unknown or revoked one.
    public static func scope(of token: String, in store: any ResultsStore) throws -> Scope? {
        guard token.hasPrefix("yusu_"), token.utf8.count == 69 else { return nil }
        struct Live: Decodable { let scope: String }
        let row = try store.fetch(
            Live.self, "SELECT scope FROM tokens WHERE token_sha256 = ? AND revoked_at IS NULL", [.text(hash(token))]
        ).first
        return row.flatMap { Scope(rawValue: $0.scope) }
    }
}

/// A name a client gives (an agent, a call, a token, an upload): at most 200 bytes of text
/// with no control characters, so that it prints on one line in every report.
func isLabel(_ text: String) -> Bool {
    text.utf8.count <= 200 && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
}

/// A query parameter that is such a name; nil when absent or empty, 400 when it is not one.
func label(_ query: [String: String], _ key: String) throws -> String? {
    guard let v = query[key], !v.isEmpty else { return nil }
    guard isLabel(v) else {
        throw APIError(
            status: .badRequest, message: "\(key) must be at most 200 bytes of text without control characters")
    }
    return v
}
