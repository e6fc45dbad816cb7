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
    public func enqueue(_ item: BatchItem, contentHash: String, standard: Standard, analysisVersion: String, rescore: Bool) throws -> Bool {
        let itemJSON = String(decoding: try JSONEncoder().encode(item), as: UTF8.self)
        let again = rescore ? "('done', 'failed')" : "('failed')"
        let unlessScored = rescore ? "" : """
            WHERE NOT EXISTS (SELECT 1 FROM calls WHERE path = $1 AND standard_key = $3 AND content_hash = $2
                              AND analysis_version = $4 AND status = 'scored')
            """
        return try retrying {
            !(try query("""
                INSERT INTO queue (path, content_hash, standard_key, analysis_version, standard_json, item_json)
                SELECT $1, $2, $3, $4, $5, $6 \(unlessScored)
                ON CONFLICT (path, standard_key, content_hash, analysis_version) DO UPDATE
                    SET state = 'waiting', leased_by = NULL, lease_until = NULL, item_json = EXCLUDED.item_json
                    WHERE queue.state IN \(again)
                RETURNING id
                """, [.text(item.path), .text(contentHash), .text(standard.key), .text(analysisVersion), .text(standard.canonicalJSON), .text(itemJSON)])
              .isEmpty)
        }
    }

    /// Claims the next waiting file, or one whose lease ran out, for `leaseSeconds`.
    ///
    /// If the server goes away after the claim commits but before its answer arrives, the
    /// retry claims another file; the first one's lease is never renewed (renewals name the
    /// files in hand) and runs out, and another claim takes it.
    public func claim(worker: String, leaseSeconds: Double) throws -> QueueEntry? {
        let rows = try retrying {
            try query("""
                UPDATE queue SET state = 'leased', leased_by = $1, lease_until = now() + make_interval(secs => $2), attempts = attempts + 1
                WHERE id = (SELECT id FROM queue
                            WHERE state = 'waiting' OR (state = 'leased' AND lease_until < now())
                            ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING id, item_json, content_hash, standard_json, analysis_version
                """, [.text(worker), .real(leaseSeconds)])
        }
        guard let row = rows.first else { return nil }
        let (id, itemJSON, hash, standardJSON, version) = try row.decode((Int64, String, String, String, String).self)
        let item = try JSONDecoder().decode(BatchItem.self, from: Data(itemJSON.utf8))
        let standard = try Standard.decode(Data(standardJSON.utf8), path: "queued standard")
        return QueueEntry(id: id, item: item, contentHash: hash, standard: standard, analysisVersion: version)
    }

    /// Extends the leases of the files this worker has in hand.
    public func renew(_ ids: [Int64], worker: String, leaseSeconds: Double) throws {
        guard !ids.isEmpty else { return }
        let list = ids.map(String.init).joined(separator: ", ")
        try retrying {
            try query("UPDATE queue SET lease_until = now() + make_interval(secs => $2) WHERE leased_by = $1 AND state = 'leased' AND id IN (\(list))",
                      [.text(worker), .real(leaseSeconds)])
        }
    }

    /// Writes the result and marks the row done (or failed), in one transaction, only while
    /// this worker still holds the lease. Safe to repeat after a lost connection: a commit
    /// that did happen leaves the row no longer leased, and the repeat writes nothing.
    /// - Returns: false when the lease was lost (another worker took the file): nothing written.
    @discardableResult
    public func complete(_ entry: QueueEntry, worker: String, record: CallRecord, audioSeconds: Double?) throws -> Bool {
        let rows = try record.rows(scoredAt: ResultsDatabase.timestamp())
        let render = SQLDialect.postgres.render
        return try retrying {
            try transaction {
                let held = try query("SELECT 1 FROM queue WHERE id = $1 AND leased_by = $2 AND state = 'leased' FOR UPDATE",
                                     [.integer(entry.id), .text(worker)])
                guard !held.isEmpty else { return false }
                try query(render(ResultsSQL.deleteCall), [.text(entry.item.path), .text(entry.standard.key)])
                let inserted = try query(render(ResultsSQL.insertCall(columns: rows.call.map(\.0))), rows.call.map(\.1))
                let callRow = try inserted[0].decode(Int64.self)
                for (sql, values) in ResultsSQL.childInserts(rows, callRow: callRow) {
                    try query(render(sql), values)
                }
                let state = record.outcome.isScored ? "done" : "failed"
                try query("UPDATE queue SET state = $2, finished_at = now(), audio_s = $3, leased_by = NULL, lease_until = NULL WHERE id = $1",
                          [.integer(entry.id), .text(state), audioSeconds.map { .real($0) } ?? .null])
                return true
            }
        }
    }

    /// Where the whole queue stands.
    public func queueCounts() throws -> QueueCounts {
        var counts = QueueCounts()
        let rows = try retrying {
            try query("""
                SELECT state, COUNT(*)::BIGINT, COALESCE(SUM(audio_s), 0)::DOUBLE PRECISION, COUNT(DISTINCT leased_by)::BIGINT
                FROM queue GROUP BY state
                """)
        }
        for row in rows {
            let (state, n, audio, workers) = try row.decode((String, Int64, Double, Int64).self)
            switch state {
            case "waiting": counts.waiting = Int(n)
            case "leased": counts.leased = Int(n); counts.leaseHolders = Int(workers)
            case "done": counts.done = Int(n); counts.audioSecondsDone += audio
            case "failed": counts.failed = Int(n)
            default: break
            }
        }
        return counts
    }

    public func startRun(source: String, standard: Standard, jobs: Int, version: String, worker: String) throws -> Int64 {
        let rows = try retrying {
            try query(SQLDialect.postgres.render(ResultsSQL.startRun),
                      [.text(ResultsDatabase.timestamp()), .text(source), .text(standard.key), .text(standard.canonicalJSON),
                       .integer(Int64(jobs)), .text(version), .text(worker)])
        }
        return try rows[0].decode(Int64.self)
    }

    public func finishRun(_ id: Int64, counts: BatchCounts, interrupted: Bool) throws {
        try retrying {
            try query(SQLDialect.postgres.render(ResultsSQL.finishRun),
                      ResultsSQL.finishRunValues(id, counts: counts, interrupted: interrupted, at: ResultsDatabase.timestamp()))
        }
    }
}
