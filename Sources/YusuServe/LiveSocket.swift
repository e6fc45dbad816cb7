import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import YusuDelivery
import YusuReport
import YusuSignal

/// The calls in progress on this instance, with their latest alerts: what the live board
/// shows. In memory only (a live call is tied to the instance holding its socket).
actor LiveBoard {
    struct Entry: Sendable {
        var id: Int
        var agentId: String
        var callId: String
        var startedAt: Date
        var heardSeconds: Double = 0
        var utterances = 0
        var lastRateCpm: Double?
        var alerts: [String] = []

        var json: JSONValue {
            .obj(["id": .whole(id), "agent_id": .str(agentId), "call_id": .str(callId),
                  "started_at": .str(ISO8601DateFormatter().string(from: startedAt)), "heard_s": .number((heardSeconds * 10).rounded() / 10),
                  "utterances": .whole(utterances), "last_rate_cpm": .number(lastRateCpm),
                  "alerts": .arr(alerts.map { JSONValue.parse($0) })])
        }
    }

    private var entries: [Int: Entry] = [:]
    private var next = 1

    var count: Int { entries.count }

    func open(agentId: String, callId: String) -> Int {
        let id = next
        next += 1
        entries[id] = Entry(id: id, agentId: agentId, callId: callId.isEmpty ? "live-\(id)" : callId, startedAt: Date())
        return id
    }

    /// Notes the lines a call just sent: alerts (the last five kept), utterances.
    func note(_ id: Int, heardSeconds: Double, lines: [String]) {
        guard var e = entries[id] else { return }
        e.heardSeconds = heardSeconds
        for line in lines {
            if line.hasPrefix("{\"type\":\"alert\"") || line.hasPrefix("{\"type\":\"interruption\"") || line.hasPrefix("{\"type\":\"sinking_ending\"") {
                e.alerts.append(line)
                if e.alerts.count > 5 { e.alerts.removeFirst() }
            } else if line.hasPrefix("{\"type\":\"utterance\"") {
                e.utterances += 1
                if case .obj(let o)? = Optional(JSONValue.parse(line)), case .num(let r)? = o["rate_cpm"] { e.lastRateCpm = r }
            }
        }
        entries[id] = e
    }

    func close(_ id: Int) { entries[id] = nil }

    func list() -> [Entry] { entries.values.sorted { $0.id < $1.id } }
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
        var rawFormat: (rateHz: Int, channels: Int, encoding: String)?
        var agentChannel = 0
        var raw: RawPCMDecoder? {
            rawFormat.map { f in
                RawPCMDecoder(sampleRateHz: f.rateHz, channelCount: f.channels, encoding: f.encoding == "ulaw" ? .muLaw : f.encoding == "alaw" ? .aLaw : .pcmS16LE)
            }
        }
        var agentId = ""
        var callId = ""
    }

    static func declared(_ q: [String: String]) throws -> Declared {
        var d = Declared()
        let raw = [q["rate"], q["channels"], q["encoding"]].map { $0 != nil }
        if raw.contains(true) {
            guard !raw.contains(false) else { throw APIError(status: .badRequest, message: "raw audio needs all of rate, channels and encoding") }
            guard let rate = Int(q["rate"]!), AudioFileReader.supportedSampleRatesHz.contains(rate) else {
                throw APIError(status: .badRequest, message: "rate must be from 8000 to 48000 Hz (got '\(q["rate"]!.prefix(20))')")
            }
            guard let channels = Int(q["channels"]!), AudioFileReader.supportedChannelCounts.contains(channels) else {
                throw APIError(status: .badRequest, message: "channels must be 1 or 2 (got '\(q["channels"]!.prefix(20))')")
            }
            guard ["s16le", "ulaw", "alaw"].contains(q["encoding"]!) else {
                throw APIError(status: .badRequest, message: "encoding must be s16le, ulaw or alaw (got '\(q["encoding"]!.prefix(20))')")
            }
            d.rawFormat = (rate, channels, q["encoding"]!)
        }
        if let c = q["agent_channel"] {
            guard c == "0" || c == "1" else { throw APIError(status: .badRequest, message: "agent_channel must be 0 or 1 (got '\(c.prefix(20))')") }
            d.agentChannel = Int(c)!
        }
        for key in ["agent_id", "call_id"] {
            if let v = q[key], v.utf8.count > 200 || v.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw APIError(status: .badRequest, message: "\(key) must be at most 200 bytes of text without control characters")
            }
        }
        d.agentId = q["agent_id"] ?? ""
        d.callId = q["call_id"] ?? ""
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
        router.ws("/v1/live", shouldUpgrade: { request, _ in
            _ = try declared(API.query(request))
            guard await state.board.count < state.configuration.maxLiveCalls else {
                throw APIError(status: .serviceUnavailable, message: "this server has \(state.configuration.maxLiveCalls) live calls open (--max-live-calls)", headers: [.retryAfter: "10"])
            }
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            let declared: Declared
            do { declared = try Self.declared(API.query(context.request)) } catch {
                try await outbound.close(.unacceptableData, reason: "bad call parameters")
                return
            }
            let standard = (try? await state.standard()) ?? Standard()
            var settings = AnalysisSettings()
            settings.limits = state.configuration.limits
            var session = LiveSession(label: declared.callId.isEmpty ? "live" : declared.callId, standard: standard, settings: settings,
                                      agentChannel: declared.agentChannel, raw: declared.raw)
            let collector = LineCollector()
            session.write = { collector.add($0) }
            let id = await state.board.open(agentId: declared.agentId, callId: declared.callId)
            state.metrics.liveCalls.increment()
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
                            try await outbound.close(.unacceptableData, reason: "expected binary audio messages, or the text message \"end\"")
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
            state.metrics.liveCalls.decrement()
            await state.board.close(id)
        })
    }
}
