import Foundation
import GRDB
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

        public init(agentId: String, date: String, calls: Int, failed: Int, meanScore: Double?, passRate: [String: Double?],
                    meanSpeechRateCharactersPerMinute: Double?, interruptionsPerCall: Double?, fallingEndingShare: Double?,
                    worstCalls: [WorstCall]) {
            self.agentId = agentId
            self.date = date
            self.calls = calls
            self.failed = failed
            self.meanScore = meanScore
            self.passRate = passRate
            self.meanSpeechRateCharactersPerMinute = meanSpeechRateCharactersPerMinute
            self.interruptionsPerCall = interruptionsPerCall
            self.fallingEndingShare = fallingEndingShare
            self.worstCalls = worstCalls
        }
    }

    public struct WorstCall: Sendable, Codable, Equatable {
        public var callId: String
        public var path: String
        public var agentChannel: Int
        public var score: Double?
        /// Failed rules with their first pieces of evidence.
        public var failures: [Failure]

        public init(callId: String, path: String, agentChannel: Int, score: Double?, failures: [Failure]) {
            self.callId = callId
            self.path = path
            self.agentChannel = agentChannel
            self.score = score
            self.failures = failures
        }
    }

    public struct Failure: Sendable, Codable, Equatable {
        public var rule: String
        public var value: Double?
        public var evidence: [Evidence]

        public init(rule: String, value: Double?, evidence: [Evidence]) {
            self.rule = rule
            self.value = value
            self.evidence = evidence
        }
    }

    public var standardKey: String?
    /// The standard's settings as stored with its latest run ("{}" when unknown).
    public var standardJSON: String = "{}"
    public var since: String?
    public var groups: [Group]

    public init(standardKey: String?, standardJSON: String = "{}", since: String?, groups: [Group]) {
        self.standardKey = standardKey
        self.standardJSON = standardJSON
        self.since = since
        self.groups = groups
    }

    /// Reads the summary from `database`: calls on or after `since` (yyyy-MM-dd), scored
    /// under `standardKey` (default: the standard of the latest run).
    public static func load(from database: ResultsDatabase, since: String?, standardKey: String? = nil,
                            worstPerGroup: Int = 3) throws -> NightlySummary {
        try database.read { db in
            let key = try standardKey ?? String.fetchOne(db, sql: "SELECT standard_key FROM runs ORDER BY id DESC LIMIT 1")
            var conditions = ["1 = 1"]
            var arguments: [DatabaseValueConvertible] = []
            if let key { conditions.append("standard_key = ?"); arguments.append(key) }
            if let since { conditions.append("call_date >= ?"); arguments.append(since) }
            let whereClause = conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(db, sql: """
                SELECT agent_id, call_date,
                       SUM(status = 'scored') AS calls, SUM(status = 'failed') AS failed,
                       AVG(score) AS mean_score, AVG(agent_speech_rate_cpm) AS mean_rate,
                       AVG(agent_interruptions) AS interruptions_per_call,
                       SUM(agent_falling_endings) AS falling, SUM(agent_measured_endings) AS measured
                FROM calls WHERE \(whereClause)
                GROUP BY agent_id, call_date ORDER BY call_date, agent_id
                """, arguments: StatementArguments(arguments))
            // Pass rates of every rule alike, from the verdict rows.
            let rates = try Row.fetchAll(db, sql: """
                SELECT c.agent_id, c.call_date, v.rule, SUM(v.passed = 1) AS pass, COUNT(v.passed) AS n
                FROM calls c JOIN verdicts v ON v.call_row = c.id
                WHERE \(whereClause.replacingOccurrences(of: "standard_key", with: "c.standard_key").replacingOccurrences(of: "call_date >=", with: "c.call_date >="))
                GROUP BY c.agent_id, c.call_date, v.rule
                """, arguments: StatementArguments(arguments))
            var passRates: [String: [String: Double?]] = [:]
            for r in rates {
                let group = (r["agent_id"] as String) + "\u{1}" + (r["call_date"] as String)
                let n: Int = r["n"] ?? 0
                let pass: Int = r["pass"] ?? 0
                passRates[group, default: [:]][r["rule"] as String] = n > 0 ? Double(pass) / Double(n) : nil
            }
            var groups: [Group] = []
            for row in rows {
                let agent: String = row["agent_id"]
                let date: String = row["call_date"]
                var passRate: [String: Double?] = [:]
                for rule in RuleBook.ids { passRate[rule] = passRates[agent + "\u{1}" + date]?[rule] ?? nil }
                let measured: Int = row["measured"] ?? 0
                let falling: Int = row["falling"] ?? 0
                let worstRows = try Row.fetchAll(db, sql: """
                    SELECT call_id, path, agent_channel, score, verdicts_json FROM calls
                    WHERE \(whereClause) AND agent_id = ? AND call_date = ? AND status = 'scored'
                    ORDER BY score ASC, call_id ASC LIMIT ?
                    """, arguments: StatementArguments(arguments + [agent, date, worstPerGroup]))
                let worst = worstRows.map { w -> WorstCall in
                    WorstCall(callId: w["call_id"], path: w["path"], agentChannel: w["agent_channel"], score: w["score"], failures: Self.failures(w["verdicts_json"]))
                }
                groups.append(Group(
                    agentId: agent, date: date, calls: row["calls"] ?? 0, failed: row["failed"] ?? 0,
                    meanScore: row["mean_score"], passRate: passRate, meanSpeechRateCharactersPerMinute: row["mean_rate"],
                    interruptionsPerCall: row["interruptions_per_call"],
                    fallingEndingShare: measured > 0 ? Double(falling) / Double(measured) : nil,
                    worstCalls: worst))
            }
            let json = try key.flatMap { try String.fetchOne(db, sql: "SELECT standard_json FROM runs WHERE standard_key = ? ORDER BY id DESC LIMIT 1", arguments: [$0]) } ?? "{}"
            return NightlySummary(standardKey: key, standardJSON: json, since: since, groups: groups)
        }
    }

    static func failures(_ json: String?) -> [Failure] {
        guard let json, let list = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else { return [] }
        return list.compactMap { v in
            guard (v["passed"] as? Bool) == false, let rule = v["rule"] as? String else { return nil }
            let evidence = (v["evidence"] as? [[String: Any]] ?? []).prefix(3).map {
                Evidence(startSeconds: $0["start_s"] as? Double ?? 0, endSeconds: $0["end_s"] as? Double ?? 0, note: $0["note"] as? String ?? "")
            }
            return Failure(rule: rule, value: v["value"] as? Double, evidence: Array(evidence))
        }
    }
}
