import Foundation
import YusuBatch
import YusuDelivery

/// The calls in progress, with their latest alerts: what the live board shows. Each
/// instance keeps its own calls' state while it streams them and writes it through to the
/// results database (`live_calls`), at most once a second per call and at every alert; the
/// board reads the table, so every instance behind a load balancer shows every call. A row
/// not updated for `staleSeconds` (its instance died) is left off the board.
actor LiveBoard {
    struct Entry: Sendable {
        var id: String
        var agentId: String
        var callId: String
        var startedAt: String
        var heardSeconds: Double = 0
        var utterances = 0
        var lastRateCpm: Double?
        /// The coach's judgement of that rate, as its last rate alert said it (ok before any);
        /// `rate_state` is null when ok.
        var rateState = LiveRateState.ok
        /// The latest alerts, each as its line with a `label` in words (语速过快 · 215 字/分钟).
        var alerts: [JSONValue] = []
        /// A hold in progress: since when, seconds so far.
        var silence: (fromSeconds: Double, seconds: Double)?
        var written = Date.distantPast
    }

    /// How long a row may go without an update before it is taken for a dead instance's.
    let staleSeconds: Double
    let database: ServeDatabase
    private var entries: [String: Entry] = [:]

    init(database: ServeDatabase, staleSeconds: Double = 60) {
        self.database = database
        self.staleSeconds = staleSeconds
    }

    /// Calls open on this instance.
    var count: Int { entries.count }

    /// Admits a call while fewer than `limit` are open (`--max-live-calls`), nil when the
    /// board is full: the one admission step. The check and the entry happen before any
    /// suspension of this actor, so calls opened at the same instant cannot all pass a
    /// check that none of them has yet counted in.
    func open(agentId: String, callId: String, limit: Int) async -> String? {
        guard entries.count < limit else { return nil }
        let id = UUID().uuidString.lowercased()
        let entry = Entry(
            id: id, agentId: agentId, callId: callId.isEmpty ? "live-\(id.prefix(8))" : callId,
            startedAt: ISO8601DateFormatter().string(from: Date()))
        entries[id] = entry
        await write(entry)
        return id
    }

    /// Notes how far a call has been heard, a hold in progress, and the lines it just sent:
    /// alerts (the last five kept, labelled in words), utterances (the running rate).
    func note(
        _ id: String, heardSeconds: Double, silence: (fromSeconds: Double, seconds: Double)?, lines: [LiveLine]
    ) async {
        guard var e = entries[id] else { return }
        e.heardSeconds = heardSeconds
        let holdChanged = (e.silence == nil) != (silence == nil)
        e.silence = silence
        var alerted = false
        for line in lines {
            if line.type == .utterance {
                e.utterances += 1
                if let r = line["rate_30s_cpm"]?.double ?? line["rate_cpm"]?.double { e.lastRateCpm = r }
                continue
            }
            if let state = line.alert?.rateState { e.rateState = state }
            if let label = BoardLabel.text(line) {
                e.alerts.append(.fields(line.writtenFields + [("label", .str(label))]))
                if e.alerts.count > 5 { e.alerts.removeFirst() }
                alerted = true
            }
        }
        let due = alerted || holdChanged || Date().timeIntervalSince(e.written) >= 1
        if due { e.written = Date() }
        entries[id] = e
        if due { await write(e) }
    }

    /// Takes a call off the board; true when it was on it (a call closes once, whoever
    /// closes it first: its socket's end, or its connection's).
    @discardableResult
    func close(_ id: String) async -> Bool {
        guard entries.removeValue(forKey: id) != nil else { return false }
        _ = try? await database.write { try $0.execute("DELETE FROM live_calls WHERE id = ?", [.text(id)]) }
        return true
    }

    private func write(_ e: Entry) async {
        let alerts = JSONValue.arr(e.alerts).text
        _ = try? await database.write { store in
            try store.execute(
                """
                INSERT INTO live_calls (id, agent_id, call_id, started_at, updated_at, heard_s, utterances, \
                last_rate_cpm, rate_state, alerts_json, silence_from_s, silence_s)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, heard_s = excluded.heard_s,
                    utterances = excluded.utterances, last_rate_cpm = excluded.last_rate_cpm,
                    rate_state = excluded.rate_state, alerts_json = excluded.alerts_json,
                    silence_from_s = excluded.silence_from_s, silence_s = excluded.silence_s
                """,
                [
                    .text(e.id), .text(e.agentId), .text(e.callId), .text(e.startedAt),
                    .real(Date().timeIntervalSince1970),
                    .real((e.heardSeconds * 10).rounded() / 10), .integer(Int64(e.utterances)),
                    e.lastRateCpm.map { .real($0) } ?? .null, e.rateState == .ok ? .null : .text(e.rateState.rawValue),
                    .text(alerts),
                    e.silence.map { .real(($0.fromSeconds * 10).rounded() / 10) } ?? .null,
                    e.silence.map { .real(($0.seconds * 10).rounded() / 10) } ?? .null,
                ])
        }
    }

    /// `/v1/live/calls`' answer: `{"calls": list()}`.
    func answer() async throws -> JSONValue { .obj(["calls": .arr(try await list())]) }

    /// Every instance's live calls, oldest first.
    func list() async throws -> [JSONValue] {
        let since = Date().timeIntervalSince1970 - staleSeconds
        struct Row: Decodable {
            let id, agent_id, call_id, started_at: String
            let heard_s: Double
            let utterances: Int
            let last_rate_cpm, silence_from_s, silence_s: Double?
            let alerts_json, rate_state: String?
        }
        return try await database.run { store in
            try store.fetch(
                Row.self, "SELECT * FROM live_calls WHERE updated_at >= ? ORDER BY started_at, id", [.real(since)]
            )
            .map { r in
                .obj([
                    "id": .str(r.id), "agent_id": .str(r.agent_id), "call_id": .str(r.call_id),
                    "started_at": .str(r.started_at), "heard_s": .number(r.heard_s), "utterances": .whole(r.utterances),
                    "last_rate_cpm": .number(r.last_rate_cpm), "rate_state": r.rate_state.map { .str($0) } ?? .null,
                    "alerts": JSONValue.parse(r.alerts_json ?? "[]"),
                    "hold": r.silence_s.map { seconds in
                        .obj(["start_s": .number(r.silence_from_s), "so_far_s": .number(seconds)])
                    } ?? .null,
                ])
            }
        }
    }
}

/// What the board says of an alert, in words a team lead reads at a glance, Chinese first,
/// with its number (语速过快 · 215 字/分钟); nil for lines that are not alerts.
enum BoardLabel {
    static func text(_ o: LiveLine) -> String? {
        func num(_ key: String, _ digits: Int = 1) -> String {
            guard let x = o[key]?.double else { return "–" }
            return digits == 0 ? String(Int(x.rounded())) : String(format: "%.\(digits)f", x)
        }
        switch o.type {
        case .interruption:
            let who = o["by"] == .str("agent") ? "坐席打断客户 Agent interrupted" : "客户打断坐席 Customer interrupted"
            return "\(who) · 重叠 \(num("overlap_s")) 秒"
        case .sinkingEnding:
            // As a person is shown an ending: no number where the tracker jumped an octave.
            guard let drop = o["final_drop_st"]?.double, let end = o["end_vs_median_st"]?.double else {
                return "句尾下沉 Sinking ending"
            }
            let shown = ShownEnding(dropSemitones: drop, endRelativeToMedianSemitones: end)
            guard let below = shown.endRelativeToMedianSemitones else {
                return "句尾下沉 Sinking ending · 降入嘎裂声 into creak"
            }
            return "句尾下沉 Sinking ending · 低于音域 \(String(format: "%.1f", abs(below))) 半音"
        case .alert:
            let again = o["reminder"] == .boolean(true) ? " (仍 still)" : ""
            switch o.alert {
            case .tooFast: return "语速过快 Too fast · \(num("rate_30s_cpm", 0)) 字/分钟\(again)"
            case .tooSlow: return "语速过慢 Too slow · \(num("rate_30s_cpm", 0)) 字/分钟\(again)"
            case .rateOk: return "语速恢复 Rate back in band · \(num("rate_30s_cpm", 0)) 字/分钟"
            case .talkingOverCustomer: return "抢话 Talking over the customer · 已重叠 \(num("overlap_so_far_s")) 秒"
            case .holdTooLong: return "等待过长 Hold too long · \(num("so_far_s", 0)) 秒"
            case .noAcknowledgement: return "未回应客户 No acknowledgement · \(num("so_far_s", 0)) 秒"
            case nil: return nil
            }
        case .started, .utterance, .filledPause, .backchannel, .hold, .warning: return nil
        }
    }
}
