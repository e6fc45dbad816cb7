import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import YusuBatch
import YusuDelivery
import YusuReport
import YusuSignal

/// Lines from a live session: as text, cut at newlines (the summary arrives in pieces), for
/// the socket; and typed, for the board.
final class LineCollector: @unchecked Sendable {
    private var partial = ""
    private var lines: [String] = []
    /// The same lines, typed, for the board.
    private var typed: [LiveLine] = []

    func observe(_ line: LiveLine) { typed.append(line) }

    func takeTyped() -> [LiveLine] {
        defer { typed.removeAll(keepingCapacity: true) }
        return typed
    }

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
        /// Keep the call's audio with it (`record=`; default: when the server keeps recordings).
        var record: Bool?
    }

    /// The handshake's query names: any other, or one given twice, is refused with a 400
    /// that names it (`QueryNamesMiddleware`), as the API's operations refuse theirs (a misspelt `agent_chanel=1`
    /// would otherwise coach the customer's channel as the agent's without a word).
    static let parameters = ["rate", "channels", "encoding", "agent_channel", "record", "agent_id", "call_id"]

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
        if let r = q["record"] {
            guard ["true", "false", "1", "0"].contains(r) else {
                throw APIError(status: .badRequest, message: "record must be true or false (got '\(r.prefix(20))')")
            }
            d.record = r == "true" || r == "1"
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

    /// A finished live call is kept as a call like any other (under `/calls`, in the API),
    /// with its recording when the server keeps recordings; a call that cannot be kept is
    /// logged, and its client has had every line already.
    static func keep(
        _ session: LiveSession, declared: Declared, id: String, recording: LiveRecording?, state: ServeState
    ) async {
        guard let scored = session.scored else { return }
        do {
            let standard = try await state.standard()
            let kept: (path: String, hash: String)?
            do { kept = try recording?.finish() } catch {
                state.logger.warning(
                    "a live call's recording could not be written; the call is kept without it",
                    metadata: ["live_id": .string(id), "error": "\(error)"])
                kept = nil
            }
            let path = kept?.path ?? "live:\(id)"
            let item = BatchItem(
                path: path, agentId: declared.agentId.isEmpty ? "unknown" : declared.agentId,
                callId: declared.callId.isEmpty ? "live-\(id.prefix(8))" : declared.callId,
                callDate: String(ResultsDatabase.timestamp().prefix(10)), agentChannel: declared.agentChannel,
                metadata: ["coached_live": "true"])
            let version = state.configuration.version
            let callId = try await state.database.write { store in
                try StoredCall.keep(
                    scored, item: item, contentHash: kept?.hash ?? "live-\(id)", standard: standard,
                    source: "yusu serve live", version: version, in: store)
            }
            state.logger.info(
                "live call kept", metadata: ["live_id": .string(id), "call": .stringConvertible(callId)])
        } catch {
            state.logger.error(
                "a finished live call could not be kept", metadata: ["live_id": .string(id), "error": "\(error)"])
        }
    }

    static func add(to router: Router<ServeWSContext>, state: ServeState) {
        router.ws(
            "/v1/live",
            shouldUpgrade: { request, context in
                // The one admission step: parameters checked, then a place on the board taken
                // (the board's check and count are one step), or 503 before any upgrade.
                let declared = try declared(API.query(request))
                if declared.record == true && state.configuration.recordingsDirectory == nil {
                    throw APIError(
                        status: .conflict,
                        message: "record=true: this server keeps no recordings (start it with --recordings DIR)")
                }
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
                context.admitted.withLockedValue { $0 = (id, declared) }
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
                // The handshake checked the parameters and took the call's place.
                guard let (id, declared) = context.requestContext.admitted.withLockedValue({ $0 }) else {
                    try await outbound.close(.unexpectedServerError, reason: "the call was not admitted")
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
                    agentChannel: declared.agentChannel, raw: declared.raw,
                    analysisStepSeconds: state.configuration.liveAnalysisStepSeconds)
                let collector = LineCollector()
                session.write = { collector.add($0) }
                session.observe = { collector.observe($0) }
                // The audio, kept as it comes when the call is to be kept with its recording.
                var recording: LiveRecording? = nil  // discarded at the end unless kept
                if declared.record ?? true, let folder = state.configuration.recordingsDirectory {
                    recording = try? LiveRecording(folder: folder, id: id, raw: declared.rawFormat)
                }
                defer { recording?.discard() }
                func flush() async throws {
                    // The board hears every piece (its audio time moves through a hold), and the
                    // socket gets the lines.
                    let lines = collector.take()
                    await state.board.note(
                        id, heardSeconds: session.heardSeconds, silence: session.silenceNow,
                        lines: collector.takeTyped())
                    for line in lines { try await outbound.write(.text(line)) }
                }
                do {
                    loop: for try await message in inbound.messages(maxSize: 1 << 20) {
                        switch message {
                        case .binary(let buffer):
                            try buffer.withUnsafeReadableBytes {
                                recording?.append($0)
                                try session.push($0)
                            }
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
                            await keep(session, declared: declared, id: id, recording: recording, state: state)
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
