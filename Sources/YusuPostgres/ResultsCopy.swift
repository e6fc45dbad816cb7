import Foundation
import YusuBatch

/// `yusu db copy`: moves a site's results from the embedded SQLite file to PostgreSQL
/// without scoring anything again. Runs, calls, verdicts, utterances and events are copied
/// as they are (new row ids, the links between them kept), a page of calls per
/// transaction. Copying again is safe: a run is copied once (its `worker` records where it
/// came from), and a call already in the target under the same path and standard is left
/// alone unless `replace`. The queue learns nothing: it checks `calls` before it queues a
/// file, so copied calls are not scored again.
public struct ResultsCopy {
    public struct Counts: Sendable, Equatable {
        public var calls = 0, kept = 0, replaced = 0, runs = 0
    }

    public var source: ResultsDatabase
    public var target: PostgresResults
    public var replace = false
    public var callsPerTransaction = 500

    public init(source: ResultsDatabase, target: PostgresResults) {
        self.source = source
        self.target = target
    }

    /// - Parameter progress: (calls looked at, calls in the source), after each page.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> Counts {
        try target.migrate()
        var counts = Counts()
        let render = SQLDialect.postgres.render
        // Columns both sides have (an older SQLite file lacks later ones; they stay NULL).
        func columns(_ table: String) throws -> [String] {
            let here = Set(
                try target.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [.text(table)]
                )
                .compactMap { $0.string("column_name") })
            return try source.fetch("SELECT * FROM \(table) LIMIT 1", []).first?.columns.filter {
                here.contains($0) && $0 != "id"
            } ?? []
        }
        let origin = "copied from \(source.path)"
        var runIds: [Int64: Int64] = [:]
        let runColumns = try columns("runs").filter { $0 != "worker" }
        for run in try source.fetch("SELECT * FROM runs ORDER BY id", []) {
            guard let old = run.int("id").map(Int64.init) else { continue }
            let mark = SQLValue.text("\(origin) run \(old)")
            if let existing = try target.fetch("SELECT id FROM runs WHERE worker = ?", [mark]).first?.int("id") {
                runIds[old] = Int64(existing)
                continue
            }
            let names = runColumns + ["worker"]
            let inserted = try target.retrying {
                try target.query(
                    render(ResultsSQL.insertRows(table: "runs", columns: names, rows: 1) + " RETURNING id"),
                    runColumns.map { run[$0] } + [mark])
            }
            runIds[old] = try inserted[0].decode(Int64.self)
            counts.runs += 1
        }
        let callColumns = try columns("calls")
        let childColumns = try ["verdicts", "utterances", "events"].map {
            ($0, try columns($0).filter { $0 != "call_row" })
        }
        let total = try source.fetch("SELECT COUNT(*) AS n FROM calls", []).first?.int("n") ?? 0
        var after: Int64 = 0
        var looked = 0
        while true {
            let page = try source.fetch(
                "SELECT * FROM calls WHERE id > ? ORDER BY id LIMIT ?",
                [.integer(after), .integer(Int64(callsPerTransaction))])
            guard let last = page.last?.int("id") else { break }
            after = Int64(last)
            let ids = page.compactMap { $0.int("id") }.map(String.init).joined(separator: ", ")
            var children: [String: [Int64: [SQLRow]]] = [:]
            for table in ["verdicts", "utterances", "events"] {
                for row in try source.fetch("SELECT * FROM \(table) WHERE call_row IN (\(ids))", []) {
                    children[table, default: [:]][Int64(row.int("call_row") ?? 0), default: []].append(row)
                }
            }
            let pageCounts = try target.retrying {
                try target.transaction { () -> Counts in
                    var c = Counts()
                    for call in page {
                        let path = call["path"]
                        let key = call["standard_key"]
                        let existing = try target.query(
                            "SELECT id FROM calls WHERE path = $1 AND standard_key = $2", [path, key])
                        if !existing.isEmpty {
                            guard replace else {
                                c.kept += 1
                                continue
                            }
                            try target.query(render(ResultsSQL.deleteCall), [path, key])
                            c.replaced += 1
                        }
                        var values = callColumns.map { call[$0] }
                        if let i = callColumns.firstIndex(of: "run_id"), case .integer(let old) = values[i] {
                            values[i] = runIds[old].map { .integer($0) } ?? .null
                        }
                        let inserted = try target.query(render(ResultsSQL.insertCall(columns: callColumns)), values)
                        let newId = SQLValue.integer(try inserted[0].decode(Int64.self))
                        let oldId = Int64(call.int("id") ?? 0)
                        for (table, names) in childColumns {
                            let rows = (children[table]?[oldId] ?? []).map { row in [newId] + names.map { row[$0] } }
                            for (sql, binds) in ResultsSQL.chunked(table: table, columns: ["call_row"] + names, rows) {
                                try target.query(render(sql), binds)
                            }
                        }
                        c.calls += 1
                    }
                    return c
                }
            }
            counts.calls += pageCounts.calls
            counts.kept += pageCounts.kept
            counts.replaced += pageCounts.replaced
            looked += page.count
            progress(looked, total)
        }
        return counts
    }
}
