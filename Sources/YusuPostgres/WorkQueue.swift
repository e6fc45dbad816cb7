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

/// The whole queue, across every worker.
public struct QueueCounts: Sendable, Equatable {
    public var waiting = 0, leased = 0, done = 0, failed = 0
    public var audioSecondsDone = 0.0
    public var total: Int { waiting + leased + done + failed }
    public var open: Int { waiting + leased }
}

extension PostgresResults {
    /// Queues a file unless the same path, content, standard and analysis is already queued
    /// or scored. With `rescore`, a finished row is queued again.
    /// - Returns: true when the file is (again) waiting.
    @discardableResult
    public func enqueue(_ item: BatchItem, contentHash: String, standard: Standard, analysisVersion: String, rescore: Bool) throws -> Bool {
        let itemJSON = String(decoding: try JSONEncoder().encode(item), as: UTF8.self)
        let conflict = rescore
            ? "ON CONFLICT (path, standard_key, content_hash, analysis_version) DO UPDATE SET state = 'waiting', leased_by = NULL, lease_until = NULL, item_json = EXCLUDED.item_json WHERE queue.state IN ('done', 'failed')"
            : "ON CONFLICT DO NOTHING"
        let rows = try query("""
            INSERT INTO queue (path, content_hash, standard_key, analysis_version, standard_json, item_json)
            VALUES ($1, $2, $3, $4, $5, $6) \(conflict) RETURNING id
            """, [.text(item.path), .text(contentHash), .text(standard.key), .text(analysisVersion), .text(standard.canonicalJSON), .text(itemJSON)])
        return !rows.isEmpty
    }

    /// Claims the next waiting file, or one whose lease ran out, for `leaseSeconds`.
    public func claim(worker: String, leaseSeconds: Double) throws -> QueueEntry? {
        let rows = try query("""
            UPDATE queue SET state = 'leased', leased_by = $1, lease_until = now() + make_interval(secs => $2), attempts = attempts + 1
            WHERE id = (SELECT id FROM queue
                        WHERE state = 'waiting' OR (state = 'leased' AND lease_until < now())
                        ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, item_json, content_hash, standard_json, analysis_version
            """, [.text(worker), .real(leaseSeconds)])
        guard let row = rows.first else { return nil }
        let (id, itemJSON, hash, standardJSON, version) = try row.decode((Int64, String, String, String, String).self)
        let item = try JSONDecoder().decode(BatchItem.self, from: Data(itemJSON.utf8))
        let standard = try Standard.decode(Data(standardJSON.utf8), path: "queued standard")
        return QueueEntry(id: id, item: item, contentHash: hash, standard: standard, analysisVersion: version)
    }

    /// Extends every lease this worker holds.
    public func renew(worker: String, leaseSeconds: Double) throws {
        try query("UPDATE queue SET lease_until = now() + make_interval(secs => $2) WHERE leased_by = $1 AND state = 'leased'",
                  [.text(worker), .real(leaseSeconds)])
    }

    /// Writes the result and marks the row done (or failed), in one transaction, only while
    /// this worker still holds the lease.
    /// - Returns: false when the lease was lost (another worker took the file): nothing written.
    @discardableResult
    public func complete(_ entry: QueueEntry, worker: String, record: CallRecord, audioSeconds: Double?) throws -> Bool {
        let rows = try record.rows(scoredAt: ResultsDatabase.timestamp())
        return try transaction {
            let held = try query("SELECT 1 FROM queue WHERE id = $1 AND leased_by = $2 AND state = 'leased' FOR UPDATE",
                                 [.integer(entry.id), .text(worker)])
            guard !held.isEmpty else { return false }
            try query("DELETE FROM calls WHERE path = $1 AND standard_key = $2", [.text(entry.item.path), .text(entry.standard.key)])
            let placeholders = rows.call.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
            let inserted = try query("INSERT INTO calls (\(rows.call.map(\.0).joined(separator: ", "))) VALUES (\(placeholders)) RETURNING id",
                                     rows.call.map(\.1))
            let callRow = try inserted[0].decode(Int64.self)
            for v in rows.verdicts {
                try query("INSERT INTO verdicts (call_row, rule, passed, value, weight) VALUES ($1, $2, $3, $4, $5)",
                          [.integer(callRow), .text(v.0), v.1, v.2, v.3])
            }
            for u in rows.utterances {
                try query("""
                    INSERT INTO utterances (call_row, party, start_s, end_s, syllables, falling_ending, final_drop_st, end_vs_median_st)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """, [.integer(callRow), .text(u.0), .real(u.1), .real(u.2), .integer(Int64(u.3)), u.4, u.5, u.6])
            }
            for e in rows.events {
                try query("INSERT INTO events (call_row, kind, party, start_s, end_s, detail) VALUES ($1, $2, $3, $4, $5, $6)",
                          [.integer(callRow), .text(e.0), e.1, .real(e.2), .real(e.3), e.4])
            }
            let state = record.outcome.isScored ? "done" : "failed"
            try query("UPDATE queue SET state = $2, finished_at = now(), audio_s = $3, leased_by = NULL, lease_until = NULL WHERE id = $1",
                      [.integer(entry.id), .text(state), audioSeconds.map { .real($0) } ?? .null])
            return true
        }
    }

    /// Where the whole queue stands.
    public func queueCounts() throws -> QueueCounts {
        var counts = QueueCounts()
        for row in try query("SELECT state, COUNT(*)::BIGINT, COALESCE(SUM(audio_s), 0)::DOUBLE PRECISION FROM queue GROUP BY state") {
            let (state, n, audio) = try row.decode((String, Int64, Double).self)
            switch state {
            case "waiting": counts.waiting = Int(n)
            case "leased": counts.leased = Int(n)
            case "done": counts.done = Int(n); counts.audioSecondsDone += audio
            case "failed": counts.failed = Int(n)
            default: break
            }
        }
        return counts
    }

    public func startRun(source: String, standard: Standard, jobs: Int, version: String, worker: String) throws -> Int64 {
        let rows = try query("""
            INSERT INTO runs (started_at, source, standard_key, standard_json, jobs, yusu_version, worker)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
            """, [.text(ResultsDatabase.timestamp()), .text(source), .text(standard.key), .text(standard.canonicalJSON),
                  .integer(Int64(jobs)), .text(version), .text(worker)])
        return try rows[0].decode(Int64.self)
    }

    public func finishRun(_ id: Int64, counts: BatchCounts, interrupted: Bool) throws {
        try query("""
            UPDATE runs SET finished_at = $1, files_seen = $2, files_scored = $3, files_skipped = $4, files_failed = $5,
            audio_seconds = $6, interrupted = $7 WHERE id = $8
            """, [.text(ResultsDatabase.timestamp()), .integer(Int64(counts.seen)), .integer(Int64(counts.scored)),
                  .integer(Int64(counts.skipped)), .integer(Int64(counts.failed)), .real(counts.audioSeconds),
                  .integer(interrupted ? 1 : 0), .integer(id)])
    }
}
