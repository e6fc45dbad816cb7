import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import YusuDelivery
import YusuReport
import YusuSignal

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
        var alerts: [String] = []
        var written = Date.distantPast
    }

    static let staleSeconds = 60.0
    let database: ServeDatabase
    private var entries: [String: Entry] = [:]

    init(database: ServeDatabase) { self.database = database }

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

    /// Notes the lines a call just sent: alerts (the last five kept), utterances.
    func note(_ id: String, heardSeconds: Double, lines: [String]) async {
        guard var e = entries[id] else { return }
        e.heardSeconds = heardSeconds
        var alerted = false
        for line in lines {
            if line.hasPrefix("{\"type\":\"alert\"") || line.hasPrefix("{\"type\":\"interruption\"")
                || line.hasPrefix("{\"type\":\"sinking_ending\"")
            {
                e.alerts.append(line)
                if e.alerts.count > 5 { e.alerts.removeFirst() }
                alerted = true
            } else if line.hasPrefix("{\"type\":\"utterance\"") {
                e.utterances += 1
                if case .obj(let o) = JSONValue.parse(line), case .num(let r)? = o["rate_cpm"] { e.lastRateCpm = r }
            }
        }
        let due = alerted || Date().timeIntervalSince(e.written) >= 1
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
        let alerts = "[" + e.alerts.joined(separator: ",") + "]"
        _ = try? await database.write { store in
            try store.execute(
                """
                INSERT INTO live_calls (id, agent_id, call_id, started_at, updated_at, heard_s, utterances, \
                last_rate_cpm, alerts_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, heard_s = excluded.heard_s,
                    utterances = excluded.utterances, last_rate_cpm = excluded.last_rate_cpm, alerts_json = \
                excluded.alerts_json
                """,
                [
                    .text(e.id), .text(e.agentId), .text(e.callId), .text(e.startedAt),
                    .real(Date().timeIntervalSince1970),
                    .real((e.heardSeconds * 10).rounded() / 10), .integer(Int64(e.utterances)),
                    e.lastRateCpm.map { .real($0) } ?? .null, .text(alerts),
                ])
        }
    }

    /// Every instance's live calls, oldest first.
    func list() async throws -> [JSONValue] {
        let since = Date().timeIntervalSince1970 - Self.staleSeconds
        return try await database.run { store in
            try store.fetch("SELECT * FROM live_calls WHERE updated_at >= ? ORDER BY started_at, id", [.real(since)])
                .map { r in
                    .obj([
                        "id": .string(r.string("id")), "agent_id": .string(r.string("agent_id")),
                        "call_id": .string(r.string("call_id")),
                        "started_at": .string(r.string("started_at")), "heard_s": .number(r.double("heard_s")),
                        "utterances": .int(r.int("utterances")), "last_rate_cpm": .number(r.double("last_rate_cpm")),
                        "alerts": JSONValue.parse(r.string("alerts_json") ?? "[]"),
                    ])
                }
        }
    }
}

/// Lines from a live session, cut at newlines (the summary arrives in pieces).
final class LineCollector: @unchecked Sendable {
    private var partial = ""
    private var lines: [String] = []

    func add(_ piece: String) {
        partial += piece
        while let newline = partial.firstIndex(of: "\n") {
            lines.append(String(partial[..<newline]))
            partial = String(partial[partial.index(after: newline)...])
        }
    }

    func take() -> [String] {
        defer { lines.removeAll(keepingCapacity: true) }
        return lines
    }
}

/// `GET /v1/live` (WebSocket): a call's audio as binary messages, [11]'s lines back as text
/// messages. The format is declared when the call opens: `rate`, `channels` and `encoding`
/// (s16le, ulaw, alaw) for raw samples, or none of them for a WAV stream. The text message
/// `end` ends the call: the summary line follows and the socket closes normally. Audio
/// that cannot be read closes the socket with code 1003 and the reason; a client that
/// goes away ends its call and disturbs no other.
enum LiveSocket {
    struct Declared: Sendable {
        var rawFormat: (rateHz: Int, channels: Int, encoding: StreamEncoding)?
        var agentChannel = 0
        var raw: RawPCMDecoder? {
            rawFormat.map { RawPCMDecoder(sampleRateHz: $0.rateHz, channelCount: $0.channels, encoding: $0.encoding) }
        }
        var agentId = ""
        var callId = ""
    }

    static func declared(_ q: [String: String]) throws -> Declared {
        var d = Declared()
        let raw = [q["rate"], q["channels"], q["encoding"]].map { $0 != nil }
        if raw.contains(true) {
            guard !raw.contains(false) else {
                throw APIError(status: .badRequest, message: "raw audio needs all of rate, channels and encoding")
            }
            guard let rate = Int(q["rate"]!), AudioFileReader.supportedSampleRatesHz.contains(rate) else {
                throw APIError(
                    status: .badRequest, message: "rate must be from 8000 to 48000 Hz (got '\(q["rate"]!.prefix(20))')")
            }
            guard let channels = Int(q["channels"]!), AudioFileReader.supportedChannelCounts.contains(channels) else {
                throw APIError(
                    status: .badRequest, message: "channels must be 1 or 2 (got '\(q["channels"]!.prefix(20))')")
            }
            guard let encoding = StreamEncoding(liveName: q["encoding"]!) else {
                throw APIError(
                    status: .badRequest,
                    message:
                        """
                        encoding must be one of \(StreamEncoding.liveNames.map(\.name).joined(separator: ", ")) \
                        (got '\(q["encoding"]!.prefix(20))')
                        """
                )
            }
            d.rawFormat = (rate, channels, encoding)
        }
        if let c = q["agent_channel"] {
            guard c == "0" || c == "1" else {
                throw APIError(status: .badRequest, message: "agent_channel must be 0 or 1 (got '\(c.prefix(20))')")
            }
            d.agentChannel = Int(c)!
        }
        d.agentId = try label(q, "agent_id") ?? ""
        d.callId = try label(q, "call_id") ?? ""
        return d
    }

    /// A close reason fits in a control frame: at most 123 bytes, cut at a character.
    static func reason(_ text: String) -> String {
        var out = ""
        for c in text {
            if out.utf8.count + String(c).utf8.count > 120 { break }
            out.append(c)
        }
        return out
    }

    static func add(to router: Router<ServeWSContext>, state: ServeState) {
        router.ws(
            "/v1/live",
            shouldUpgrade: { request, context in
                // The one admission step: parameters checked, then a place on the board taken
                // (the board's check and count are one step), or 503 before any upgrade.
                let declared = try declared(API.query(request))
                guard
                    let id = await state.board.open(
                        agentId: declared.agentId, callId: declared.callId, limit: state.configuration.maxLiveCalls)
                else {
                    throw APIError(
                        status: .serviceUnavailable,
                        message:
                            "this server has \(state.configuration.maxLiveCalls) live calls open (--max-live-calls)",
                        headers: [.retryAfter: "10"])
                }
                state.metrics.liveCalls.increment()
                context.admitted.withLockedValue { $0 = id }
                // The place is given back when the connection closes, however it ends (the
                // handshake may still fail after this check).
                context.channel.closeFuture.whenComplete { _ in
                    Task {
                        if await state.board.close(id) { state.metrics.liveCalls.decrement() }
                    }
                }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                guard let id = context.requestContext.admitted.withLockedValue({ $0 }) else {
                    try await outbound.close(.unexpectedServerError, reason: "the call was not admitted")
                    return
                }
                let declared: Declared
                do { declared = try Self.declared(API.query(context.request)) } catch {
                    try await outbound.close(.unacceptableData, reason: "bad call parameters")
                    return
                }
                let standard: Standard
                do { standard = try await state.standard() } catch {
                    // Never coached by the default standard in the stored one's place.
                    try await outbound.close(.unexpectedServerError, reason: "the stored standard cannot be read")
                    return
                }
                var settings = AnalysisSettings()
                settings.limits = state.configuration.limits
                var session = LiveSession(
                    label: declared.callId.isEmpty ? "live" : declared.callId, standard: standard, settings: settings,
                    agentChannel: declared.agentChannel, raw: declared.raw)
                let collector = LineCollector()
                session.write = { collector.add($0) }
                func flush() async throws {
                    let lines = collector.take()
                    guard !lines.isEmpty else { return }
                    await state.board.note(id, heardSeconds: session.heardSeconds, lines: lines)
                    for line in lines { try await outbound.write(.text(line)) }
                }
                do {
                    loop: for try await message in inbound.messages(maxSize: 1 << 20) {
                        switch message {
                        case .binary(let buffer):
                            try buffer.withUnsafeReadableBytes { try session.push($0) }
                            try await flush()
                        case .text(let text):
                            guard text.trimmingCharacters(in: .whitespacesAndNewlines) == "end" else {
                                try await outbound.close(
                                    .unacceptableData,
                                    reason: "expected binary audio messages, or the text message \"end\"")
                                break loop
                            }
                            try session.finish(stopped: false)
                            try await flush()
                            try await outbound.close(.normalClosure, reason: "call ended")
                            break loop
                        }
                    }
                } catch let failure as LiveSession.Failure {
                    try? await flush()
                    try? await outbound.close(.unacceptableData, reason: reason(failure.reason))
                } catch {
                    state.logger.info("live call ended by the client", metadata: ["live_id": .stringConvertible(id)])
                }
                if await state.board.close(id) { state.metrics.liveCalls.decrement() }
            })
    }
}
