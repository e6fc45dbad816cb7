import Foundation
import PostgresNIO
import YusuBatch
import YusuDelivery

/// One claimed file.
public struct QueueEntry: Sendable {
    public var id: Int64
    public var item: BatchItem
    public var contentHash: String
    public var standard: Standard
    public var analysisVersion: String
}

extension PostgresResults {
    /// Queues a file unless the same path, content, standard and analysis is already queued
    /// or scored (in the queue, or in `calls`, e.g. copied from SQLite by `yusu db copy`).
    /// A file that failed before is queued again, as SQLite's batch tries it again; with
    /// `rescore`, a scored one too.
    /// - Returns: true when the file is (again) waiting.
    @discardableResult
    public func enqueue(
        _ item: BatchItem, contentHash: String, standard: Standard, analysisVersion: String, rescore: Bool
    ) throws -> Bool {
        let itemJSON = String(decoding: try JSONEncoder().encode(item), as: UTF8.self)
        let again = rescore ? "('done', 'failed')" : "('failed')"
        let unlessScored =
            rescore
            ? ""
            : """
            WHERE NOT EXISTS (SELECT 1 FROM calls WHERE path = $1 AND standard_key = $3 AND content_hash = $2
                              AND analysis_version = $4 AND status = 'scored')
            """
        return try retrying {
            !(try query(
                """
                INSERT INTO queue (path, content_hash, standard_key, analysis_version, standard_json, item_json)
                SELECT $1, $2, $3, $4, $5, $6 \(unlessScored)
                ON CONFLICT (path, standard_key, content_hash, analysis_version) DO UPDATE
                    SET state = 'waiting', leased_by = NULL, lease_until = NULL, item_json = EXCLUDED.item_json
                    WHERE queue.state IN \(again)
                RETURNING id
                """,
                [
                    .text(item.path), .text(contentHash), .text(standard.key), .text(analysisVersion),
                    .text(standard.canonicalJSON), .text(itemJSON),
                ]
            )
            .isEmpty)
        }
    }

    /// Claims the next waiting file, or one whose lease ran out, for `leaseSeconds`.
    ///
    /// If the server goes away after the claim commits but before its answer arrives, the
    /// retry claims another file; the first one's lease is never renewed (renewals name the
    /// files in hand) and runs out, and another claim takes it.
    public func claim(worker: String, leaseSeconds: Double) throws -> QueueEntry? {
        let statement = Self.claimStatement(worker: worker, leaseSeconds: leaseSeconds)
        return try Self.entry(try retrying { try query(statement.0, statement.1) })
    }

    static func claimStatement(worker: String, leaseSeconds: Double) -> (String, [SQLValue]) {
        (
            """
            UPDATE queue SET state = 'leased', leased_by = $1, lease_until = now() + make_interval(secs => $2), \
            attempts = attempts + 1
            WHERE id = (SELECT id FROM queue
                        WHERE state = 'waiting' OR (state = 'leased' AND lease_until < now())
                        ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, item_json, content_hash, standard_json, analysis_version
            """, [.text(worker), .real(leaseSeconds)]
        )
    }

    static func entry(_ rows: [PostgresRow]) throws -> QueueEntry? {
        guard let row = rows.first else { return nil }
        let (id, itemJSON, hash, standardJSON, version) = try row.decode((Int64, String, String, String, String).self)
        let item = try JSONDecoder().decode(BatchItem.self, from: Data(itemJSON.utf8))
        let standard = try Standard.decode(Data(standardJSON.utf8), path: "queued standard")
        return QueueEntry(id: id, item: item, contentHash: hash, standard: standard, analysisVersion: version)
    }

    /// Gives a claimed file back to the queue unscored (a worker stopping with one in hand).
    public func release(_ entry: QueueEntry, worker: String) throws {
        try retrying {
            try query(
                """
                UPDATE queue SET state = 'waiting', leased_by = NULL, lease_until = NULL WHERE id = $1 AND \
                leased_by = $2 AND state = 'leased'
                """,
                [.integer(entry.id), .text(worker)])
        }
    }

    /// Extends the leases of the files this worker has in hand.
    public func renew(_ ids: [Int64], worker: String, leaseSeconds: Double) throws {
        guard !ids.isEmpty else { return }
        let list = ids.map(String.init).joined(separator: ", ")
        try retrying {
            try query(
                """
                UPDATE queue SET lease_until = now() + make_interval(secs => $2) WHERE leased_by = $1 AND state = \
                'leased' AND id IN (\(list))
                """,
                [.text(worker), .real(leaseSeconds)])
        }
    }

    /// Writes the result and marks the row done (or failed), in one transaction, only while
    /// this worker still holds the lease. Safe to repeat after a lost connection: a commit
    /// that did happen leaves the row no longer leased, and the repeat writes nothing.
    ///
    /// Four statements go out together and are waited for once (`pipeline`): BEGIN; the
    /// queue update with the removal of an earlier result, which raises `YU001` when the
    /// lease is gone; the call with its verdicts, utterances and events in one statement;
    /// COMMIT (which rolls back after an error).
    /// - Returns: false when the lease was lost (another worker took the file): nothing written.
    @discardableResult
    public func complete(_ entry: QueueEntry, worker: String, record: CallRecord, audioSeconds: Double?) throws -> Bool
    {
        try complete(
            entry, worker: worker, rows: try record.rows(scoredAt: ResultsDatabase.timestamp()),
            scored: record.outcome.isScored, audioSeconds: audioSeconds)
    }

    /// `complete` with the rows already built (`CallRecord.rows`).
    @discardableResult
    public func complete(_ entry: QueueEntry, worker: String, rows: CallRows, scored: Bool, audioSeconds: Double?)
        throws -> Bool
    {
        try complete(entry, worker: worker, rows: rows, scored: scored, audioSeconds: audioSeconds, thenClaimFor: nil)
            .kept
    }

    /// `complete`, and with `thenClaimFor` (lease seconds) the claim of the next file sent
    /// in the same pipeline, after the commit: a worker's turn costs one wait.
    /// - Returns: whether the result was kept, and the next file claimed (if asked and any).
    public func complete(
        _ entry: QueueEntry, worker: String, rows: CallRows, scored: Bool, audioSeconds: Double?,
        thenClaimFor leaseSeconds: Double?
    ) throws -> (kept: Bool, next: QueueEntry?) {
        let state = scored ? "done" : "failed"
        let mark = (
            """
            WITH mark AS (UPDATE queue SET state = $3, finished_at = now(), audio_s = $4, leased_by = NULL, \
            lease_until = NULL
                          WHERE id = $1 AND leased_by = $2 AND state = 'leased' RETURNING id),
                 gone AS (DELETE FROM calls WHERE path = $5 AND standard_key = $6 AND EXISTS (SELECT 1 FROM mark))
            SELECT CASE WHEN EXISTS (SELECT 1 FROM mark) THEN 1 ELSE yusu_lease_lost() END
            """,
            [
                SQLValue.integer(entry.id), .text(worker), .text(state), audioSeconds.map { .real($0) } ?? .null,
                .text(entry.item.path), .text(entry.standard.key),
            ]
        )
        let runId: Int64 =
            rows.call.first { $0.0 == "run_id" }.flatMap {
                if case .integer(let id) = $0.1 { return id } else { return nil }
            } ?? 0
        let count = (
            SQLDialect.postgres.render(ResultsSQL.countCallInRun),
            ResultsSQL.countCallInRunValues(runId, scored: scored, audioSeconds: audioSeconds)
        )
        var statements = [("BEGIN", [])] + [mark] + Self.insertCall(rows) + [count, ("COMMIT", [])]
        if let leaseSeconds { statements.append(Self.claimStatement(worker: worker, leaseSeconds: leaseSeconds)) }
        return try retrying {
            let answers = try pipeline(statements)
            let written = answers.prefix(statements.count - (leaseSeconds == nil ? 0 : 1))
            var kept = true
            for case .failure(let error) in written {
                if error.sqlState == "YU001" {
                    kept = false
                    break
                }
                _ = try? query("ROLLBACK")
                throw error
            }
            var next: QueueEntry? = nil
            if leaseSeconds != nil, let last = answers.last {
                next = try Self.entry(try last.get())
            }
            return (kept, next)
        }
    }

    /// `ResultsStore`: one call written outside the queue (an upload to `yusu serve`): the
    /// earlier row of its path and standard replaced, the call counted in its run, in one
    /// transaction.
    public func record(_ result: CallRecord) throws {
        let rows = try result.rows(scoredAt: ResultsDatabase.timestamp())
        let audio: Double? = if case .scored(let m, _) = result.outcome { m.durationSeconds } else { nil }
        let statements: [(String, [SQLValue])] =
            [
                ("BEGIN", []),
                (
                    "DELETE FROM calls WHERE path = $1 AND standard_key = $2",
                    [.text(result.item.path), .text(result.standard.key)]
                ),
            ]
            + Self.insertCall(rows)
            + [
                (
                    SQLDialect.postgres.render(ResultsSQL.countCallInRun),
                    ResultsSQL.countCallInRunValues(result.runId, scored: result.outcome.isScored, audioSeconds: audio)
                ), ("COMMIT", []),
            ]
        try retrying {
            for case .failure(let error) in try pipeline(statements) {
                _ = try? query("ROLLBACK")
                throw error
            }
        }
    }

    /// The call and its child rows. Up to `ResultsSQL.rowsPerInsert` rows per table, one
    /// statement (data-modifying WITH); longer calls, a statement per chunk.
    static func insertCall(_ rows: CallRows) -> [(String, [SQLValue])] {
        let render = SQLDialect.postgres.render
        let callSQL = render(ResultsSQL.insertCall(columns: rows.call.map(\.0)))
        let children = ResultsSQL.childInserts(rows, callRow: 0, callRowExpression: "currval('calls_id_seq')")
        let limit = ResultsSQL.rowsPerInsert
        guard rows.verdicts.count <= limit, rows.utterances.count <= limit, rows.events.count <= limit else {
            return [(callSQL, rows.call.map(\.1))] + children.map { (render($0.0), $0.1) }
        }
        var values = rows.call.map(\.1)
        var parts: [String] = []
        func table(_ name: String, _ columns: [String], _ types: [String], _ list: [[SQLValue]]) {
            guard !list.isEmpty else { return }
            let tuples = list.map { row -> String in
                "("
                    + zip(row, types).map { value, type in
                        values.append(value)
                        return "$\(values.count)::\(type)"
                    }.joined(separator: ", ") + ")"
            }
            parts.append(
                """
                \(name) AS (INSERT INTO \(name) (\(columns.joined(separator: ", "))) SELECT c.id, x.* FROM c CROSS \
                JOIN (VALUES \(tuples.joined(separator: ", "))) AS x)
                """
            )
        }
        table(
            "verdicts", ResultsSQL.verdictColumns, ["text", "integer", "float8", "float8"],
            rows.verdicts.map { [.text($0.0), $0.1, $0.2, $0.3] })
        table(
            "utterances", ResultsSQL.utteranceColumns,
            ["text", "float8", "float8", "integer", "integer", "float8", "float8"],
            rows.utterances.map { [.text($0.0), .real($0.1), .real($0.2), .integer(Int64($0.3)), $0.4, $0.5, $0.6] })
        table(
            "events", ResultsSQL.eventColumns, ["text", "text", "float8", "float8", "text"],
            rows.events.map { [.text($0.0), $0.1, .real($0.2), .real($0.3), $0.4] })
        let call = "c AS (" + callSQL + ")"
        return [("WITH " + ([call] + parts).joined(separator: ",\n     ") + "\nSELECT id FROM c", values)]
    }

    /// Where the whole queue stands.
    public func queueCounts() throws -> QueueCounts {
        var counts = QueueCounts()
        let rows = try retrying {
            try query(
                """
                SELECT state, COUNT(*)::BIGINT, COALESCE(SUM(audio_s), 0)::DOUBLE PRECISION, COUNT(DISTINCT \
                leased_by)::BIGINT
                FROM queue GROUP BY state
                """)
        }
        for row in rows {
            let (state, n, audio, workers) = try row.decode((String, Int64, Double, Int64).self)
            switch state {
            case "waiting": counts.waiting = Int(n)
            case "leased":
                counts.leased = Int(n)
                counts.leaseHolders = Int(workers)
            case "done":
                counts.done = Int(n)
                counts.audioSecondsDone += audio
            case "failed": counts.failed = Int(n)
            default: break
            }
        }
        return counts
    }

    public func startRun(source: String, standard: Standard, jobs: Int, version: String, worker: String?) throws
        -> Int64
    {
        let rows = try retrying {
            try query(
                SQLDialect.postgres.render(ResultsSQL.startRun),
                [
                    .text(ResultsDatabase.timestamp()), .text(source), .text(standard.key),
                    .text(standard.canonicalJSON),
                    .integer(Int64(jobs)), .text(version), worker.map { .text($0) } ?? .null,
                ])
        }
        return try rows[0].decode(Int64.self)
    }

    public func finishRun(_ id: Int64, counts: BatchCounts, interrupted: Bool) throws {
        try retrying {
            try query(
                SQLDialect.postgres.render(ResultsSQL.finishRun),
                ResultsSQL.finishRunValues(
                    id, counts: counts, interrupted: interrupted, at: ResultsDatabase.timestamp()))
        }
    }
}
