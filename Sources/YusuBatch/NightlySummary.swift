import Foundation
import YusuDelivery

/// Per agent and day: what a QA team reads the morning after.
public struct NightlySummary: Sendable, Codable, Equatable {
    public struct Group: Sendable, Codable, Equatable {
        public var agentId: String
        public var date: String
        /// Calls scored.
        public var calls: Int
        /// Files that could not be scored.
        public var failed: Int
        public var meanScore: Double?
        /// Per rule id: passed / measurable calls, 0...1; nil when no call was measurable.
        public var passRate: [String: Double?]
        public var meanSpeechRateCharactersPerMinute: Double?
        /// Agent interruptions per call (calls where they were measurable).
        public var interruptionsPerCall: Double?
        /// Sinking endings / measured endings over the group's calls.
        public var fallingEndingShare: Double?
        public var worstCalls: [WorstCall]
    }

    public struct WorstCall: Sendable, Codable, Equatable {
        public var callId: String
        public var path: String
        public var agentChannel: Int
        public var score: Double?
        /// Failed rules with their first pieces of evidence.
        public var failures: [Failure]
    }

    public struct Failure: Sendable, Codable, Equatable {
        public var rule: String
        public var value: Double?
        /// The value as the rule says it ("235 字/分钟"); nil for rows written before it was kept.
        public var valueText: String?
        public var evidence: [Evidence]
        /// The limit lies inside the measure's 90% interval: a failure Yusu is not sure of.
        public var nearLimit: Bool = false
    }

    /// A file that could not be scored, and why.
    public struct FailedFile: Sendable, Codable, Equatable {
        public var path: String
        public var agentId: String
        public var callId: String
        public var date: String
        public var reason: String
    }

    public var standardKey: String?
    /// The standard as stored with its latest run (the default when no run names one).
    public var standard: Standard = Standard()
    public var since: String?
    public var groups: [Group]
    /// Every file of these days that could not be scored, with its reason.
    public var failedFiles: [FailedFile] = []
    /// Scored calls whose recording carries a warning (two voices in a mono file, clipping),
    /// one entry per warning, in `reason`.
    public var warnings: [FailedFile] = []

    /// Reads the summary from `database` (SQLite or PostgreSQL, the same queries): calls on
    /// or after `since` (yyyy-MM-dd), scored under `standardKey` (default: the standard of
    /// the latest run). Text sorts byte-wise on both engines, so both give the same report.
    public static func load(
        from database: any ResultsStore, since: String?, standardKey: String? = nil,
        worstPerGroup: Int = 3
    ) throws -> NightlySummary {
        let key = try standardKey ?? StoredStandard.latestKey(database)
        var conditions = CallConditions()
        conditions.standard(key)
        conditions.since(since)
        let whereClause = conditions.clause
        let arguments = conditions.arguments
        struct DayRow: Decodable {
            let agent_id, call_date: String
            let calls, failed: Int
            let mean_score, mean_rate, interruptions_per_call: Double?
            /// Sums over the scored calls: NULL for a day of failed files only.
            let falling, measured: Int?
        }
        let rows = try database.fetch(
            DayRow.self,
            """
            SELECT c.agent_id, c.call_date,
                   SUM(CASE WHEN c.status = 'scored' THEN 1 ELSE 0 END) AS calls,
                   SUM(CASE WHEN c.status = 'failed' THEN 1 ELSE 0 END) AS failed,
                   CAST(AVG(c.score) AS {real}) AS mean_score, CAST(AVG(c.agent_speech_rate_cpm) AS {real}) AS \
            mean_rate,
                   CAST(AVG(c.agent_interruptions) AS {real}) AS interruptions_per_call,
                   SUM(c.agent_falling_endings) AS falling, SUM(c.agent_measured_endings) AS measured
            FROM calls c WHERE \(whereClause)
            GROUP BY c.agent_id, c.call_date ORDER BY c.call_date {bin}, c.agent_id {bin}
            """, arguments)
        // Pass rates of every rule alike, from the verdict rows.
        struct RateRow: Decodable {
            let agent_id, call_date, rule: String
            let pass, n: Int
        }
        let rates = try database.fetch(
            RateRow.self,
            """
            SELECT c.agent_id, c.call_date, v.rule, SUM(CASE WHEN v.passed = 1 THEN 1 ELSE 0 END) AS pass, \
            COUNT(v.passed) AS n
            FROM calls c JOIN verdicts v ON v.call_row = c.id
            WHERE \(whereClause)
            GROUP BY c.agent_id, c.call_date, v.rule
            """, arguments)
        var passRates: [String: [String: Double?]] = [:]
        for r in rates {
            passRates[r.agent_id + "\u{1}" + r.call_date, default: [:]][r.rule] =
                r.n > 0 ? Double(r.pass) / Double(r.n) : nil
        }
        // The worst calls of every group in one query: numbered within their group by score
        // (no score first), then call id.
        var worst: [String: [WorstCall]] = [:]
        if worstPerGroup > 0 {
            struct WorstRow: Decodable {
                let agent_id, call_date, call_id, path: String
                let agent_channel: Int
                let score: Double?
                let verdicts_json: String?
            }
            let worstRows = try database.fetch(
                WorstRow.self,
                """
                SELECT agent_id, call_date, call_id, path, agent_channel, score, verdicts_json FROM (
                    SELECT c.agent_id, c.call_date, c.call_id, c.path, c.agent_channel, c.score, c.verdicts_json,
                           ROW_NUMBER() OVER (PARTITION BY c.agent_id, c.call_date
                                              ORDER BY CASE WHEN c.score IS NULL THEN 0 ELSE 1 END, c.score, c.call_id \
                {bin}, c.path {bin}) AS place
                    FROM calls c WHERE \(whereClause) AND c.status = 'scored') ranked
                WHERE place <= ? ORDER BY place
                """, arguments + [.integer(Int64(worstPerGroup))])
            for w in worstRows {
                worst[w.agent_id + "\u{1}" + w.call_date, default: []].append(
                    WorstCall(
                        callId: w.call_id, path: w.path, agentChannel: w.agent_channel, score: w.score,
                        failures: Self.failures(w.verdicts_json)))
            }
        }
        var groups: [Group] = []
        for row in rows {
            let group = row.agent_id + "\u{1}" + row.call_date
            var passRate: [String: Double?] = [:]
            for rule in RuleBook.ids { passRate[rule] = passRates[group]?[rule] ?? nil }
            let measured = row.measured ?? 0
            groups.append(
                Group(
                    agentId: row.agent_id, date: row.call_date, calls: row.calls, failed: row.failed,
                    meanScore: row.mean_score, passRate: passRate, meanSpeechRateCharactersPerMinute: row.mean_rate,
                    interruptionsPerCall: row.interruptions_per_call,
                    fallingEndingShare: measured > 0 ? Double(row.falling ?? 0) / Double(measured) : nil,
                    worstCalls: worst[group] ?? []))
        }
        /// A call's file and whose it is, with why it failed or what it was warned of.
        struct FileRow: Decodable {
            let path, agent_id, call_id, call_date: String
            let failure_reason, warnings_json: String?
        }
        let failed = try database.fetch(
            FileRow.self,
            """
            SELECT c.path, c.agent_id, c.call_id, c.call_date, c.failure_reason FROM calls c
            WHERE \(whereClause) AND c.status = 'failed'
            ORDER BY c.call_date {bin}, c.agent_id {bin}, c.path {bin}
            """, arguments
        ).map {
            FailedFile(
                path: $0.path, agentId: $0.agent_id, callId: $0.call_id, date: $0.call_date,
                reason: $0.failure_reason ?? "")
        }
        var warnings: [FailedFile] = []
        for row in try database.fetch(
            FileRow.self,
            """
            SELECT c.path, c.agent_id, c.call_id, c.call_date, c.warnings_json FROM calls c
            WHERE \(whereClause) AND c.status = 'scored' AND c.warnings_json IS NOT NULL AND c.warnings_json <> '[]'
            ORDER BY c.call_date {bin}, c.agent_id {bin}, c.path {bin}
            """, arguments)
        {
            let list =
                (try? JSONSerialization.jsonObject(with: Data((row.warnings_json ?? "[]").utf8))) as? [String] ?? []
            for text in list {
                warnings.append(
                    FailedFile(
                        path: row.path, agentId: row.agent_id, callId: row.call_id, date: row.call_date, reason: text))
            }
        }
        let standard = try StoredStandard.read(database, key: key)
        return NightlySummary(
            standardKey: key, standard: standard, since: since, groups: groups, failedFiles: failed, warnings: warnings)
    }

    /// A call's failed rules, sure failures first (then those near the limit), each in the
    /// standard's order.
    static func failures(_ json: String?) -> [Failure] {
        let all: [Failure] = StoredVerdict.list(json).compactMap { v in
            guard v.passed == false else { return nil }
            let evidence = v.evidence.prefix(3).map {
                Evidence(startSeconds: $0.start_s, endSeconds: $0.end_s, note: $0.note)
            }
            return Failure(
                rule: v.rule, value: v.value, valueText: v.value_text, evidence: Array(evidence),
                nearLimit: v.near_limit)
        }
        return all.filter { !$0.nearLimit } + all.filter(\.nearLimit)
    }
}

/// The standard a run was scored with, read back from the database it was stored in.
public enum StoredStandard {
    /// The latest run's standard under `key`; the default only where no run names one.
    /// - Throws: `Standard.LoadError` when the stored text does not decode (a database
    ///   written by a Yusu with rules this one does not know): never the default in its place.
    public static func read(_ database: any ResultsStore, key: String?) throws -> Standard {
        struct Stored: Decodable { let standard_json: String }
        guard let key,
            let json = try database.fetch(
                Stored.self, "SELECT standard_json FROM runs WHERE standard_key = ? ORDER BY id DESC LIMIT 1",
                [.text(key)]
            ).first?.standard_json
        else { return Standard() }
        return try Standard.decode(Data(json.utf8), path: "the stored standard \(key)")
    }

    /// The standard key of the latest run; nil before any run.
    public static func latestKey(_ database: any ResultsStore) throws -> String? {
        struct Latest: Decodable { let standard_key: String }
        return try database.fetch(Latest.self, "SELECT standard_key FROM runs ORDER BY id DESC LIMIT 1", []).first?
            .standard_key
    }
}
