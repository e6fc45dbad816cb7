import Foundation
import YusuBatch
import YusuDelivery

/// What the API and the pages ask of the results database. Plain statements over the
/// tables `batch` writes, the same on SQLite and PostgreSQL (`SQLDialect.render`), and the
/// night summary `yusu report` prints (`NightlySummary.load`), so both show the same numbers.
public enum ServeQueries {
    public struct BadRequest: Error, CustomStringConvertible { public var description: String }

    /// The filters of the call list (API and page alike), validated once.
    public struct CallFilter: Sendable, Equatable {
        public var agent: String?
        public var from: String?
        public var to: String?
        public var ruleFailed: String?
        public var minScore: Double?
        public var maxScore: Double?
        public var status: String?
        public var page = 1
        public var perPage = 50
        /// Lowest score first (an agent's worst calls) instead of newest first.
        public var sortByScore = false

        public init() {}

        /// From query parameters; a bad value is a `BadRequest` naming the parameter.
        public init(query: [String: String]) throws {
            func day(_ key: String) throws -> String? {
                guard let v = query[key], !v.isEmpty else { return nil }
                guard PathPatterns.calendarDay(v) != nil else {
                    throw BadRequest(description: "\(key) must be a real day as yyyy-MM-dd (got '\(v.prefix(40))')")
                }
                return v
            }
            func number(_ key: String) throws -> Double? {
                guard let v = query[key], !v.isEmpty else { return nil }
                guard let d = Double(v), d.isFinite else {
                    throw BadRequest(description: "\(key) must be a number (got '\(v.prefix(40))')")
                }
                return d
            }
            func whole(_ key: String, _ range: ClosedRange<Int>, _ fallback: Int) throws -> Int {
                guard let v = query[key], !v.isEmpty else { return fallback }
                guard let i = Int(v), range.contains(i) else {
                    throw BadRequest(
                        description:
                            """
                            \(key) must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \
                            '\(v.prefix(40))')
                            """
                    )
                }
                return i
            }
            agent = query["agent"].flatMap { $0.isEmpty ? nil : $0 }
            if let a = agent, a.utf8.count > 1000 { throw BadRequest(description: "agent is longer than 1000 bytes") }
            from = try day("from")
            to = try day("to")
            if let r = query["rule_failed"], !r.isEmpty {
                guard RuleBook.ids.contains(r) else {
                    throw BadRequest(
                        description:
                            "rule_failed must be one of \(RuleBook.ids.joined(separator: ", ")) (got '\(r.prefix(40))')"
                    )
                }
                ruleFailed = r
            }
            minScore = try number("min_score")
            maxScore = try number("max_score")
            if let s = query["status"], !s.isEmpty {
                guard s == "scored" || s == "failed" else {
                    throw BadRequest(description: "status must be scored or failed (got '\(s.prefix(40))')")
                }
                status = s
            }
            if let s = query["sort"], !s.isEmpty {
                guard s == "date" || s == "score" else {
                    throw BadRequest(description: "sort must be date or score (got '\(s.prefix(40))')")
                }
                sortByScore = s == "score"
            }
            page = try whole("page", 1...1_000_000, 1)
            perPage = try whole("per_page", 1...500, 50)
        }

        /// The parameters again, for paging links.
        public var queryItems: [(String, String)] {
            var items: [(String, String)] = []
            if let agent { items.append(("agent", agent)) }
            if let from { items.append(("from", from)) }
            if let to { items.append(("to", to)) }
            if let ruleFailed { items.append(("rule_failed", ruleFailed)) }
            if let minScore { items.append(("min_score", String(minScore))) }
            if let maxScore { items.append(("max_score", String(maxScore))) }
            if let status { items.append(("status", status)) }
            if perPage != 50 { items.append(("per_page", String(perPage))) }
            if sortByScore { items.append(("sort", "score")) }
            return items
        }
    }

    /// The standard the service shows: that of the latest run, as `yusu report` does.
    public static func standardKey(_ store: any ResultsStore) throws -> String? {
        try StoredStandard.latestKey(store)
    }

    public static func standard(_ store: any ResultsStore, key: String?) throws -> Standard {
        try StoredStandard.read(store, key: key)
    }

    public struct CallPage: Sendable {
        public var calls: [CallSummary]
        public var total: Int
    }

    /// A call as the lists show it (API and pages alike).
    public struct CallSummary: Sendable {
        public var id: Int64
        public var callId, agentId, date, status: String
        public var failureReason: String?
        public var durationSeconds, score, speechRateCpm: Double?
        public var agentInterruptions: Int?
        /// Failed rules, in the standard's order.
        public var failedRules: [String]
        public var fileName: String?
        /// When it was scored (what its first evidence is remembered by).
        let scoredAt: String
        /// Where each failed rule's evidence begins, seconds (the moment its badge opens): read
        /// only for pages (`calls(_:_:evidence:)`), never for the API's lists.
        public internal(set) var firstEvidence: [String: Double] = [:]

        /// The columns a list shows, as stored.
        struct Row: Decodable {
            let id: Int64
            let call_id, agent_id, call_date, status, path, scored_at: String
            let failure_reason: String?
            let duration_s, score, agent_speech_rate_cpm: Double?
            let agent_interruptions: Int?
            /// The columns, as the list query selects them (not the stored verdicts: a page of 50
            /// calls would read and convert all of their JSON at every request).
            static let columns = """
                c.id, c.call_id, c.agent_id, c.call_date, c.status, c.failure_reason, c.duration_s, c.score,
                c.agent_speech_rate_cpm, c.agent_interruptions, c.path, c.scored_at
                """
        }

        init(_ r: Row, failedRules: [String]) {
            id = r.id
            callId = r.call_id
            agentId = r.agent_id
            date = r.call_date
            status = r.status
            failureReason = r.failure_reason
            durationSeconds = r.duration_s
            score = r.score
            speechRateCpm = r.agent_speech_rate_cpm
            agentInterruptions = r.agent_interruptions
            self.failedRules = failedRules
            fileName = r.path.lastIndex(of: "/").map { String(r.path[r.path.index(after: $0)...]) } ?? r.path
            scoredAt = r.scored_at
        }

        public var fields: [String: JSONValue] {
            [
                "id": .whole(Int(id)), "call_id": .str(callId), "agent_id": .str(agentId), "date": .str(date),
                "status": .str(status),
                "failure_reason": .string(failureReason), "duration_s": .number(durationSeconds),
                "score": .number(Scorecard.rounded(score)),
                "speech_rate_cpm": .number(speechRateCpm), "agent_interruptions": .int(agentInterruptions),
                "failed_rules": .arr(failedRules.map { .str($0) }), "file_name": .string(fileName),
            ]
        }
    }

    /// The failed rules of these calls, from their verdict rows, each in the standard's order.
    static func failedRules(_ store: any ResultsStore, calls ids: [Int64]) throws -> [Int64: [String]] {
        guard !ids.isEmpty else { return [:] }
        struct Failed: Decodable {
            let call_row: Int64
            let rule: String
        }
        var failed: [Int64: [String]] = [:]
        for v in try store.fetch(
            Failed.self,
            """
            SELECT call_row, rule FROM verdicts WHERE passed = 0 AND call_row IN \
            (\(ids.map(String.init).joined(separator: ",")))
            """,
            [])
        {
            failed[v.call_row, default: []].append(v.rule)
        }
        return failed.mapValues { $0.sorted { (ruleOrder[$0] ?? 99) < (ruleOrder[$1] ?? 99) } }
    }

    /// A page of calls; with `evidence`, each with where its failed rules' evidence begins
    /// (for the pages' badges).
    public static func calls(_ store: any ResultsStore, _ f: CallFilter, evidence: Bool = false) throws -> CallPage {
        var conditions = CallConditions()
        conditions.standard(try standardKey(store))
        // Each filter the request sets adds its condition and its one argument.
        conditions.add("c.agent_id = ?", f.agent.map { .text($0) })
        conditions.since(f.from)
        conditions.add("c.call_date <= ?", f.to.map { .text($0) })
        conditions.add(
            "EXISTS (SELECT 1 FROM verdicts v WHERE v.call_row = c.id AND v.rule = ? AND v.passed = 0)",
            f.ruleFailed.map { .text($0) })
        conditions.add("c.score >= ?", f.minScore.map { .real($0) })
        conditions.add("c.score <= ?", f.maxScore.map { .real($0) })
        conditions.add("c.status = ?", f.status.map { .text($0) })
        let whereClause = conditions.clause
        let args = conditions.arguments
        // The count of a filter is remembered for a few seconds (a night changes once a day;
        // paging through a list must not count it again and again).
        let total = try AggregateCache.shared.value("count|\(conditions)", store: store) {
            try count(store, "SELECT COUNT(*) AS n FROM calls c WHERE \(whereClause)", args)
        }
        let rows = try store.fetch(
            CallSummary.Row.self,
            """
            SELECT \(CallSummary.Row.columns)
            FROM calls c WHERE \(whereClause)
            ORDER BY \(f.sortByScore ? "CASE WHEN c.score IS NULL THEN 1 ELSE 0 END, c.score, " : "")c.call_date DESC, \
            c.id DESC LIMIT ? OFFSET ?
            """, args + [.integer(Int64(f.perPage)), .integer(Int64((f.page - 1) * f.perPage))])
        let failed = try failedRules(store, calls: rows.map(\.id))
        var calls = rows.map { CallSummary($0, failedRules: failed[$0.id] ?? []) }
        if evidence {
            let first = try FirstEvidence.shared.of(store, calls: calls.filter { !$0.failedRules.isEmpty })
            for k in calls.indices { calls[k].firstEvidence = first[calls[k].id] ?? [:] }
        }
        return CallPage(calls: calls, total: total)
    }

    /// The one number a `SELECT COUNT(*) AS n` answers.
    static func count(_ store: any ResultsStore, _ sql: String, _ args: [SQLValue]) throws -> Int {
        struct Count: Decodable { let n: Int }
        return try store.fetch(Count.self, sql, args).first?.n ?? 0
    }

    static let ruleOrder = Dictionary(uniqueKeysWithValues: RuleBook.ids.enumerated().map { ($1, $0) })

    /// The columns of a call beyond its list row (`SELECT *` decodes into both).
    struct CallDetail: Decodable {
        let agent_channel: Int
        let standard_key, metadata_json: String
        let analysis_version, format, warnings_json, verdicts_json: String?
        let sample_rate_hz, channels: Int?
        let agent_syllables, agent_utterances, agent_falling_endings, agent_measured_endings, long_utterances: Int?
        let agent_talk_time_s, agent_phonation_time_s, agent_articulation_rate_cpm: Double?
        let agent_level_dbov, agent_median_f0_hz: Double?
        let customer_syllables, customer_interruptions, holds, backchannels: Int?
        let customer_speech_rate_cpm, customer_level_dbov, longest_hold_s: Double?
    }

    /// One call: its row, verdicts (as stored when it was scored), utterances and events.
    public static func call(_ store: any ResultsStore, id: Int64) throws -> [String: JSONValue]? {
        guard let row = try store.fetch("SELECT * FROM calls WHERE id = ?", [.integer(id)]).first else { return nil }
        let decoder = SQLRowDecoder()
        let listed = try decoder.decode(CallSummary.Row.self, from: row)
        let r = try decoder.decode(CallDetail.self, from: row)
        var out = CallSummary(listed, failedRules: try failedRules(store, calls: [id])[id] ?? []).fields
        out["agent_channel"] = .int(r.agent_channel)
        out["standard_key"] = .str(r.standard_key)
        out["scored_at"] = .str(listed.scored_at)
        out["analysis_version"] = .string(r.analysis_version)
        out["sample_rate_hz"] = .int(r.sample_rate_hz)
        out["channels"] = .int(r.channels)
        out["format"] = .string(r.format)
        out["recording"] = .string(listed.status == "scored" ? "/v1/calls/\(id)/recording" : nil)
        out["agent"] = .object([
            "syllables": .int(r.agent_syllables), "utterances": .int(r.agent_utterances),
            "falling_endings": .int(r.agent_falling_endings), "measured_endings": .int(r.agent_measured_endings),
            "interruptions": .int(listed.agent_interruptions), "long_utterances": .int(r.long_utterances),
            "talk_time_s": .number(r.agent_talk_time_s), "phonation_time_s": .number(r.agent_phonation_time_s),
            "speech_rate_cpm": .number(listed.agent_speech_rate_cpm),
            "articulation_rate_cpm": .number(r.agent_articulation_rate_cpm), "level_dbov": .number(r.agent_level_dbov),
            "median_f0_hz": .number(r.agent_median_f0_hz),
        ])
        out["customer"] = .object([
            "syllables": .int(r.customer_syllables), "speech_rate_cpm": .number(r.customer_speech_rate_cpm),
            "level_dbov": .number(r.customer_level_dbov), "interruptions": .int(r.customer_interruptions),
        ])
        out["holds"] = .int(r.holds)
        out["longest_hold_s"] = .number(r.longest_hold_s)
        out["backchannels"] = .int(r.backchannels)
        out["verdicts"] = JSONValue.parse(r.verdicts_json ?? "[]")
        out["warnings"] = JSONValue.parse(r.warnings_json ?? "[]")
        out["metadata"] = JSONValue.parse(r.metadata_json)
        struct UtteranceRow: Decodable {
            let party: String
            let start_s, end_s: Double
            let syllables: Int
            let falling_ending: Bool?
            let final_drop_st, end_vs_median_st: Double?
        }
        out["utterances"] = .array(
            try store.fetch(
                UtteranceRow.self,
                """
                SELECT party, start_s, end_s, syllables, falling_ending, final_drop_st, end_vs_median_st FROM \
                utterances WHERE call_row = ? ORDER BY start_s, party {bin}
                """,
                [.integer(id)]
            ).map {
                .object([
                    "party": .str($0.party), "start_s": .number($0.start_s), "end_s": .number($0.end_s),
                    "syllables": .int($0.syllables), "falling_ending": $0.falling_ending.map { .bool($0) } ?? .null,
                    "final_drop_st": .number($0.final_drop_st), "end_vs_median_st": .number($0.end_vs_median_st),
                ])
            })
        struct EventRow: Decodable {
            let kind: String
            let party, detail: String?
            let start_s, end_s: Double
        }
        out["events"] = .array(
            try store.fetch(
                EventRow.self,
                """
                SELECT kind, party, start_s, end_s, detail FROM events WHERE call_row = ? ORDER BY start_s, kind \
                {bin}
                """,
                [.integer(id)]
            ).map {
                .object([
                    "kind": .str($0.kind), "party": .string($0.party), "start_s": .number($0.start_s),
                    "end_s": .number($0.end_s), "detail": .string($0.detail),
                ])
            })
        return out
    }

    /// Where a call's recording is (the database's own record, never a client's path).
    public static func recordingPath(_ store: any ResultsStore, id: Int64) throws -> (
        path: String, agentChannel: Int, standardKey: String, title: String
    )? {
        struct Row: Decodable {
            let path, standard_key, agent_id, call_id, status: String
            let agent_channel: Int
        }
        guard
            let r = try store.fetch(
                Row.self, "SELECT path, agent_channel, standard_key, agent_id, call_id, status FROM calls WHERE id = ?",
                [.integer(id)]
            ).first,
            r.status == "scored"
        else { return nil }
        return (r.path, r.agent_channel, r.standard_key, "\(r.agent_id) · \(r.call_id)")
    }

    public struct Agent: Sendable {
        public var id: String, calls: Int, failed: Int, meanScore: Double?, first: String, last: String
    }

    public static func agents(_ store: any ResultsStore) throws -> [Agent] {
        try AggregateCache.shared.value("agents", store: store) { try agentsNow(store) }
    }

    static func agentsNow(_ store: any ResultsStore) throws -> [Agent] {
        struct Row: Decodable {
            let agent_id, first, last: String
            let calls, failed: Int
            let mean_score: Double?
        }
        var conditions = CallConditions()
        conditions.standard(try standardKey(store))
        return try store.fetch(
            Row.self,
            """
            SELECT agent_id, SUM(CASE WHEN status = 'scored' THEN 1 ELSE 0 END) AS calls, SUM(CASE WHEN status = \
            'failed' THEN 1 ELSE 0 END) AS failed,
                   CAST(AVG(score) AS {real}) AS mean_score, MIN(call_date) AS first, MAX(call_date) AS last
            FROM calls c WHERE \(conditions.clause) GROUP BY agent_id ORDER BY agent_id {bin}
            """, conditions.arguments
        ).map {
            Agent(
                id: $0.agent_id, calls: $0.calls, failed: $0.failed, meanScore: $0.mean_score, first: $0.first,
                last: $0.last)
        }
    }

    /// One point of a trend: a day or a week (starting on Monday).
    public struct TrendPoint: Sendable {
        public var period: String
        public var calls: Int
        public var scoreSum: Double, scored: Int
        public var pass: [String: Int], judged: [String: Int]
        public var meanScore: Double? { scored > 0 ? scoreSum / Double(scored) : nil }
        public func passRate(_ rule: String) -> Double? {
            (judged[rule] ?? 0) > 0 ? Double(pass[rule] ?? 0) / Double(judged[rule]!) : nil
        }
    }

    /// An agent's pass rate per rule and mean score, per day or per week.
    /// Whether the database holds any call of `agent` (scored or not).
    public static func agentKnown(_ store: any ResultsStore, _ agent: String) throws -> Bool {
        try count(store, "SELECT COUNT(*) AS n FROM calls c WHERE c.agent_id = ?", [.text(agent)]) > 0
    }

    public static func trend(_ store: any ResultsStore, agent: String, weekly: Bool, since: String?) throws
        -> [TrendPoint]
    {
        try AggregateCache.shared.value("trend|\(agent)|\(weekly)|\(since ?? "")", store: store) {
            try trendNow(store, agent: agent, weekly: weekly, since: since)
        }
    }

    static func trendNow(_ store: any ResultsStore, agent: String, weekly: Bool, since: String?) throws -> [TrendPoint]
    {
        var conditions = CallConditions()
        conditions.add("c.agent_id = ?", .text(agent))
        conditions.require("c.status = 'scored'")
        conditions.standard(try standardKey(store))
        conditions.since(since)
        let whereClause = conditions.clause
        let args = conditions.arguments
        struct Day: Decodable {
            let call_date: String
            let calls, scored: Int
            let score_sum: Double?
        }
        struct RuleDay: Decodable {
            let call_date, rule: String
            let pass, n: Int
        }
        let days = try store.fetch(
            Day.self,
            """
            SELECT c.call_date, COUNT(*) AS calls, SUM(c.score) AS score_sum, COUNT(c.score) AS scored
            FROM calls c WHERE \(whereClause) GROUP BY c.call_date ORDER BY c.call_date {bin}
            """, args)
        let rules = try store.fetch(
            RuleDay.self,
            """
            SELECT c.call_date, v.rule, SUM(CASE WHEN v.passed = 1 THEN 1 ELSE 0 END) AS pass, COUNT(v.passed) AS n
            FROM calls c JOIN verdicts v ON v.call_row = c.id WHERE \(whereClause) GROUP BY c.call_date, v.rule
            """, args)
        var points: [String: TrendPoint] = [:]
        func period(_ day: String) -> String { weekly ? weekStart(day) : day }
        for d in days {
            let p = period(d.call_date)
            var point = points[p] ?? TrendPoint(period: p, calls: 0, scoreSum: 0, scored: 0, pass: [:], judged: [:])
            point.calls += d.calls
            point.scoreSum += d.score_sum ?? 0
            point.scored += d.scored
            points[p] = point
        }
        for r in rules {
            let p = period(r.call_date)
            guard var point = points[p] else { continue }
            point.pass[r.rule, default: 0] += r.pass
            point.judged[r.rule, default: 0] += r.n
            points[p] = point
        }
        return points.values.sorted { $0.period < $1.period }
    }

    /// The Monday of a day's ISO week, yyyy-MM-dd (the day itself when it is not a date).
    public static func weekStart(_ day: String) -> String {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return day }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
            let monday = calendar.dateInterval(of: .weekOfYear, for: date)?.start
        else { return day }
        let c = calendar.dateComponents([.year, .month, .day], from: monday)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    public struct Run: Sendable {
        public var fields: [String: JSONValue]
        public var failedFiles: [(path: String, agent: String, callId: String, date: String, reason: String)]
    }

    /// The latest runs (nights), each with the files it could not score and why.
    public static func runs(_ store: any ResultsStore, limit: Int) throws -> [Run] {
        struct Row: Decodable {
            let id: Int64
            let started_at, source, standard_key, yusu_version: String
            let finished_at, worker: String?
            let jobs, files_seen, files_scored, files_skipped, files_failed: Int
            let audio_seconds: Double
            let interrupted: Bool
        }
        struct Failed: Decodable {
            let path, agent_id, call_id, call_date: String
            let failure_reason: String?
        }
        let rows = try store.fetch(
            Row.self,
            """
            SELECT id, started_at, finished_at, source, standard_key, jobs, yusu_version, files_seen, files_scored, \
            files_skipped,
                   files_failed, audio_seconds, interrupted, worker FROM runs ORDER BY id DESC LIMIT ?
            """, [.integer(Int64(limit))])
        return try rows.map { r in
            let id = r.id
            let failed = try store.fetch(
                Failed.self,
                """
                SELECT path, agent_id, call_id, call_date, failure_reason FROM calls WHERE run_id = ? AND status = \
                'failed' ORDER BY path {bin}
                """, [.integer(id)]
            ).map {
                (
                    path: $0.path, agent: $0.agent_id, callId: $0.call_id, date: $0.call_date,
                    reason: $0.failure_reason ?? ""
                )
            }
            var fields: [String: JSONValue] = [
                "id": .whole(Int(id)), "started_at": .str(r.started_at), "finished_at": .string(r.finished_at),
                "source": .str(r.source), "standard_key": .str(r.standard_key), "jobs": .whole(r.jobs),
                "yusu_version": .str(r.yusu_version), "worker": .string(r.worker), "files_seen": .whole(r.files_seen),
                "files_scored": .whole(r.files_scored), "files_skipped": .whole(r.files_skipped),
                "files_failed": .whole(r.files_failed), "audio_s": .number(r.audio_seconds),
                "interrupted": .bool(r.interrupted),
            ]
            fields["failed_files"] = .array(
                failed.map {
                    .object([
                        "path": .string($0.path), "agent_id": .string($0.agent), "call_id": .string($0.callId),
                        "date": .string($0.date), "reason": .string($0.reason),
                    ])
                })
            return Run(fields: fields, failedFiles: failed)
        }
    }

    /// Pass rate per rule, scored calls and mean score for several windows ending on `last`
    /// (the last `days[k] + 1` days each), in one pass over the longest.
    /// The scored calls (of the stored standard, when there is one) from day `from` on, as
    /// a condition on `calls c` and its arguments.
    static func scoredSince(_ store: any ResultsStore, _ from: String) throws -> (String, [SQLValue]) {
        var conditions = CallConditions()
        conditions.require("c.status = 'scored'")
        conditions.since(from)
        conditions.standard(try standardKey(store))
        return (conditions.clause, conditions.arguments)
    }

    /// Per agent and rule, from `from` on: verdicts that passed, and verdicts judged (the
    /// stored standard's scored calls).
    public static func agentRuleCounts(_ store: any ResultsStore, from: String) throws -> [(
        agent: String, rule: String, passed: Int, judged: Int
    )] {
        struct Row: Decodable {
            let agent_id, rule: String
            let p, j: Int
        }
        let (whereClause, args) = try scoredSince(store, from)
        return try store.fetch(
            Row.self,
            """
            SELECT c.agent_id, v.rule, SUM(CASE WHEN v.passed = 1 THEN 1 ELSE 0 END) AS p, \
            SUM(CASE WHEN v.passed IS NOT NULL THEN 1 ELSE 0 END) AS j \
            FROM calls c JOIN verdicts v ON v.call_row = c.id WHERE \(whereClause) \
            GROUP BY c.agent_id, v.rule
            """, args
        ).map { ($0.agent_id, $0.rule, $0.p, $0.j) }
    }

    public static func passRates(_ store: any ResultsStore, windowsEndingOn last: String, days: [Int]) throws -> [(
        calls: Int, meanScore: Double?, rates: [String: Double]
    )] {
        let starts = days.map { day(last, minus: $0) }
        let (whereClause, args) = try scoredSince(store, starts.min() ?? last)
        let heads = starts.indices.map {
            """
            SUM(CASE WHEN c.call_date >= ? THEN 1 ELSE 0 END) AS n\($0), CAST(AVG(CASE WHEN c.call_date >= ? THEN \
            c.score END) AS {real}) AS s\($0)
            """
        }
        let head = try store.fetch(
            "SELECT \(heads.joined(separator: ", ")) FROM calls c WHERE \(whereClause)",
            starts.flatMap { [SQLValue.text($0), .text($0)] } + args
        ).first
        let parts = starts.indices.map {
            """
            SUM(CASE WHEN c.call_date >= ? AND v.passed = 1 THEN 1 ELSE 0 END) AS p\($0), SUM(CASE WHEN \
            c.call_date >= ? AND v.passed IS NOT NULL THEN 1 ELSE 0 END) AS j\($0)
            """
        }
        var out = starts.indices.map { k in
            (calls: head?.int("n\(k)") ?? 0, meanScore: head?.double("s\(k)"), rates: [String: Double]())
        }
        for r in try store.fetch(
            """
            SELECT v.rule, \(parts.joined(separator: ", ")) FROM calls c JOIN verdicts v ON v.call_row = c.id WHERE \
            \(whereClause) GROUP BY v.rule
            """, starts.flatMap { [SQLValue.text($0), .text($0)] } + args)
        {
            guard let rule = r.string("rule") else { continue }
            for k in starts.indices {
                if let n = r.int("j\(k)"), n > 0 { out[k].rates[rule] = Double(r.int("p\(k)") ?? 0) / Double(n) }
            }
        }
        return out
    }

    /// The latest day with calls (the last night), if any.
    public static func lastDay(_ store: any ResultsStore) throws -> String? {
        struct Row: Decodable { let d: String? }
        var conditions = CallConditions()
        conditions.standard(try standardKey(store))
        return try store.fetch(
            Row.self, "SELECT MAX(c.call_date) AS d FROM calls c WHERE \(conditions.clause)", conditions.arguments
        ).first?.d
    }

    /// `day` minus `days` days, yyyy-MM-dd.
    public static func day(_ day: String, minus days: Int) -> String {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return day }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
            let earlier = calendar.date(byAdding: .day, value: -days, to: date)
        else { return day }
        let c = calendar.dateComponents([.year, .month, .day], from: earlier)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}
