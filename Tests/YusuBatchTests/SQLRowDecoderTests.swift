import Foundation
import Testing
import YusuTestSupport

@testable import YusuBatch

@Suite("Typed rows: a query's columns decoded into a struct")
struct SQLRowDecoderTests {
    struct Row: Decodable, Equatable {
        let name: String
        let calls: Int
        let id: Int64
        let mean: Double
        let level: Float
        let passed: Bool
        let note: String?
        let score: Double?
    }

    @Test("each column as its property's type, NULL as nil, the engines' spellings of numbers read alike")
    func decodes() throws {
        let decoder = SQLRowDecoder()
        // As SQLite hands them: integers, reals, NULL.
        let sqlite = SQLRow(
            columns: ["name", "calls", "id", "mean", "level", "passed", "note", "score"],
            values: [
                .text("li"), .integer(3), .integer(9_007_199_254_740_991), .integer(2), .real(-26.5), .integer(1),
                .null, .real(61.25),
            ])
        #expect(
            try decoder.decode(Row.self, from: sqlite)
                == Row(
                    name: "li", calls: 3, id: 9_007_199_254_740_991, mean: 2, level: -26.5, passed: true, note: nil,
                    score: 61.25))
        // As PostgreSQL hands a numeric sum (text), a column left out (an optional one), another order.
        let postgres = SQLRow(
            columns: ["score", "passed", "level", "mean", "id", "calls", "name"],
            values: [.null, .integer(0), .real(-30), .text("2.5"), .integer(7), .text("12"), .text("wang")])
        #expect(
            try decoder.decode(Row.self, from: postgres)
                == Row(name: "wang", calls: 12, id: 7, mean: 2.5, level: -30, passed: false, note: nil, score: nil))
    }

    @Test("a missing or NULL column of a required property is an error that names the column")
    func namesTheColumn() throws {
        let decoder = SQLRowDecoder()
        let missing = SQLRow(columns: ["name"], values: [.text("li")])
        #expect {
            try decoder.decode(Row.self, from: missing)
        } throws: { error in
            guard case DecodingError.keyNotFound(let key, let context) = error else { return false }
            return key.stringValue == "calls" && context.debugDescription == "no column calls"
        }
        let null = SQLRow(
            columns: ["name", "calls", "id", "mean", "level", "passed"],
            values: [.text("li"), .null, .integer(1), .real(1), .real(1), .integer(1)])
        #expect {
            try decoder.decode(Row.self, from: null)
        } throws: { error in
            guard case DecodingError.valueNotFound(_, let context) = error else { return false }
            return context.debugDescription.hasPrefix("column calls is NULL")
        }
    }

    @Test("rows of a real SQLite results file, typed")
    func fromAStore() throws {
        let dir = TemporaryDirectory()
        let db = try ResultsDatabase(path: dir.file("r.sqlite"))
        struct Meta: Decodable { let key, value: String }
        let rows = try db.fetch(Meta.self, "SELECT key, value FROM meta WHERE key = ?", [.text("schema_version")])
        #expect(
            rows.count == 1 && rows[0].key == "schema_version" && Int(rows[0].value) == ResultsDatabase.schemaVersion)
    }
}
