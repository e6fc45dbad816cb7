import Crypto
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import YusuBatch
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
        /// The coach's judgement of that rate: "fast" or "slow" from its too_fast / too_slow
        /// alert until its rate_ok; nil in the band (or before enough talk to judge).
        var rateState: String?
        /// The latest alerts, each as its line with a `label` in words (语速过快 · 215 字/分钟).
        var alerts: [JSONValue] = []
        /// A hold in progress: since when, seconds so far.
        var silence: (fromSeconds: Double, seconds: Double)?
        var written = Date.distantPast
    }

    /// How long a row may go without an update before it is taken for a dead instance's.
    let staleSeconds: Double
    /// The rate alerts and the state each leaves the rate in (`rate_state`).
    static let rateStates: [LiveAlertKind: String?] = [.tooFast: "fast", .tooSlow: "slow", .rateOk: .none]
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
            if let kind = line.alert, let state = Self.rateStates[kind] {
                e.rateState = state
            }
            if let label = BoardLabel.text(line) {
                e.alerts.append(
                    .fields(
                        [("type", .str(line.type.rawValue)), ("emitted_at_s", .num(line.emittedAtSeconds))]
                            + line.writtenFields
                            + [("label", .str(label))]))
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
                    e.lastRateCpm.map { .real($0) } ?? .null, e.rateState.map { .text($0) } ?? .null, .text(alerts),
                    e.silence.map { .real(($0.fromSeconds * 10).rounded() / 10) } ?? .null,
                    e.silence.map { .real(($0.seconds * 10).rounded() / 10) } ?? .null,
                ])
        }
    }

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
                    agentChannel: declared.agentChannel, raw: declared.raw)
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

/// A live call's audio, written as it arrives into the recordings folder: a WAV stream as
/// sent, raw samples under a WAV header of their declared format. Finished, it is named by
/// its content's hash, as uploads are; discarded, the partial file is removed.
final class LiveRecording: @unchecked Sendable {
    private let handle: FileHandle
    private let partPath: String
    private let folder: String
    private let raw: (rateHz: Int, channels: Int, encoding: StreamEncoding)?
    private var bytes = 0
    private var hasher = SHA256()
    private var done = false
    private var failure: (any Error)?

    init(folder: String, id: String, raw: (rateHz: Int, channels: Int, encoding: StreamEncoding)?) throws {
        self.folder = folder
        self.raw = raw
        partPath = URL(fileURLWithPath: folder).appendingPathComponent(".live-\(id).part").path
        guard FileManager.default.createFile(atPath: partPath, contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partPath))
        if let header = header(dataBytes: 0) { try handle.write(contentsOf: header) }
    }

    /// Appends a piece of the call's audio; a piece that cannot be written (a full disk)
    /// ends the recording, not the call: `finish` then says why.
    func append(_ data: UnsafeRawBufferPointer) {
        guard !done, failure == nil, data.count > 0 else { return }
        do { try handle.write(contentsOf: data) } catch {
            failure = error
            return
        }
        hasher.update(bufferPointer: data)
        bytes += data.count
    }

    /// Closes the file (its header's sizes written for raw audio) under its content's name.
    func finish() throws -> (path: String, hash: String) {
        if let failure {
            discard()
            throw failure
        }
        done = true
        if let header = header(dataBytes: bytes) {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header)
        }
        try handle.close()
        let hash = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let kept = URL(fileURLWithPath: folder).appendingPathComponent("\(hash).wav").path
        if FileManager.default.fileExists(atPath: kept) {
            try FileManager.default.removeItem(atPath: partPath)
        } else {
            try FileManager.default.moveItem(atPath: partPath, toPath: kept)
        }
        return (kept, hash)
    }

    /// Removes the partial file of a call that was not kept.
    func discard() {
        guard !done else { return }
        done = true
        try? handle.close()
        try? FileManager.default.removeItem(atPath: partPath)
    }

    /// The WAV header of a raw live call, in its declared format.
    private func header(dataBytes: Int) -> [UInt8]? {
        raw.map { $0.encoding.wavHeader(sampleRateHz: $0.rateHz, channelCount: $0.channels, dataBytes: dataBytes) }
    }
}
