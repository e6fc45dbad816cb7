import Crypto
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuReport
import YusuSignal

/// `POST /v1/score`: the recording is the body; the answer is `score --format json`'s
/// document. With `store=true` (and a recordings folder) the call is kept as a row of the
/// results database, and its recording beside it, for the dashboard.
enum Upload {
    struct Parameters {
        var agentChannel = 0
        var store = false
        var name = "upload"
        var agentId: String?
        var callId: String?
        var date: String?

        init(_ q: [String: String]) throws {
            if let c = q["agent_channel"] {
                guard c == "0" || c == "1" else {
                    throw APIError(status: .badRequest, message: "agent_channel must be 0 or 1 (got '\(c.prefix(20))')")
                }
                agentChannel = Int(c)!
            }
            if let s = q["store"] {
                guard ["true", "false", "1", "0"].contains(s) else {
                    throw APIError(status: .badRequest, message: "store must be true or false (got '\(s.prefix(20))')")
                }
                store = s == "true" || s == "1"
            }
            name = try label(q, "name") ?? "upload"
            agentId = try label(q, "agent_id")
            callId = try label(q, "call_id")
            if let d = try label(q, "date") {
                guard PathPatterns.calendarDay(d) != nil else {
                    throw APIError(
                        status: .badRequest, message: "date must be a real day as yyyy-MM-dd (got '\(d.prefix(20))')")
                }
                date = d
            }
            if store && agentId == nil {
                throw APIError(status: .badRequest, message: "store=true needs agent_id (the call's agent)")
            }
        }
    }

    static func score(_ request: Request, state: ServeState) async throws -> Response {
        let configuration = state.configuration
        let parameters = try Parameters(API.query(request))
        if parameters.store && configuration.recordingsDirectory == nil {
            throw APIError(
                status: .conflict,
                message: "this server keeps no uploads (start it with --recordings DIR to store them)")
        }
        let limit = configuration.maxUploadBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            state.metrics.refused.increment()
            throw APIError(
                status: .contentTooLarge,
                message:
                    """
                    \(parameters.name): the upload is \(length) bytes, over the limit of \(limit) bytes \
                    (--max-upload-mb)
                    """
            )
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: limit) } catch
            where (error as? HTTPError)?.status == .contentTooLarge || error is NIOTooManyBytesError
        {
            // Over the limit as it came (NIOTooManyBytesError: chunked, no Content-Length).
            state.metrics.refused.increment()
            throw APIError(
                status: .contentTooLarge,
                message: "\(parameters.name): the upload is over the limit of \(limit) bytes (--max-upload-mb)")
        }
        guard body.readableBytes > 0 else {
            state.metrics.refused.increment()
            throw APIError(
                status: .badRequest,
                message: "\(parameters.name): empty (0 bytes): send the recording as the request body")
        }
        let standard = try await state.standard()
        let bytes = Data(buffer: body)
        let result: (document: String, stored: Int64?)
        do {
            result = try await state.scoring {
                try scoreNow(
                    bytes, parameters, standard: standard, configuration: configuration, database: state.database)
            }
        } catch let error as APIError where error.status != .serviceUnavailable {
            state.metrics.refused.increment()
            throw error
        }
        state.metrics.scored.increment()
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if let stored = result.stored { headers[.location] = "/v1/calls/\(stored)" }
        return Response(
            status: result.stored == nil ? .ok : .created, headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: result.document)))
    }

    /// Scores the bytes (blocking: on the scoring threads).
    static func scoreNow(
        _ bytes: Data, _ p: Parameters, standard: Standard, configuration: ServeConfiguration,
        database: ServeDatabase
    ) throws -> (document: String, stored: Int64?) {
        // The bytes go to a private file: the decoder reads files, and a stored call keeps it.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yusu-upload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("recording").path
        guard FileManager.default.createFile(atPath: file, contents: bytes, attributes: [.posixPermissions: 0o600])
        else {
            throw APIError(
                status: .internalServerError, message: "the upload cannot be kept for scoring (temporary folder full?)")
        }
        let scored: CallScorer.Scored
        do {
            scored = try CallScorer(standard: standard, limits: configuration.limits)
                .score(path: file, options: CallOptions(agentChannel: p.agentChannel), name: p.name)
        } catch let error as AudioError {
            let status: HTTPResponse.Status =
                switch error {
                case .tooLarge, .tooLong: .contentTooLarge
                default: .unprocessableContent
                }
            throw APIError(status: status, message: "\(p.name): \(error.reason)")
        }
        var document = ""
        do {
            try JSONReport.write(scored.measures, scored.card) { document += $0 }
        } catch {
            throw APIError(
                status: .internalServerError, message: "internal error, the result cannot be written as JSON")
        }
        document += "\n"
        guard p.store, let folderPath = configuration.recordingsDirectory, let agentId = p.agentId else {
            return (document, nil)
        }
        // Kept under its content's hash: the same recording uploaded twice is one call.
        let hash = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let ext = (p.name as NSString).pathExtension.lowercased()
        let safeExt = ext.range(of: "^[a-z0-9]{1,5}$", options: .regularExpression) != nil ? ext : "audio"
        let kept = URL(fileURLWithPath: folderPath).appendingPathComponent("\(hash).\(safeExt)").path
        do {
            if !FileManager.default.fileExists(atPath: kept) {
                try FileManager.default.moveItem(atPath: file, toPath: kept)
            }
        } catch {
            throw APIError(
                status: .internalServerError,
                message: "the recording cannot be stored in the recordings folder (\(error.localizedDescription))")
        }
        let day = p.date ?? String(ResultsDatabase.timestamp().prefix(10))
        let item = BatchItem(
            path: kept, agentId: agentId, callId: p.callId ?? String(hash.prefix(12)), callDate: day,
            agentChannel: p.agentChannel, metadata: ["uploaded_as": p.name])
        let id = try database.now { store in
            try StoredCall.keep(
                scored, item: item, contentHash: hash, standard: standard, source: "yusu serve upload",
                version: configuration.version, in: store)
        }
        return (document, id)
    }
}

/// A call the service keeps (an upload with store=true, a finished live call): one row per
/// recording and standard, written as a run of its own.
enum StoredCall {
    /// Stores the scored call unless this recording is already stored under this standard;
    /// returns the call's id either way (its address stays the one given the first time: a
    /// second row would replace it, and the first Location would answer 404).
    static func keep(
        _ scored: CallScorer.Scored, item: BatchItem, contentHash: String, standard: Standard, source: String,
        version: String, in store: any ResultsStore
    ) throws -> Int64 {
        struct Stored: Decodable { let id: Int64 }
        let storedQuery = "SELECT id FROM calls WHERE path = ? AND standard_key = ? AND status = 'scored'"
        let storedArguments: [SQLValue] = [.text(item.path), .text(standard.key)]
        if let existing = try store.fetch(Stored.self, storedQuery, storedArguments).first?.id { return existing }
        let run = try store.startRun(source: source, standard: standard, jobs: 1, version: version, worker: nil)
        var counts = BatchCounts()
        try store.record(
            CallRecord(
                item: item, contentHash: contentHash, standard: standard,
                analysisVersion: "\(version)+\(CallScorer.analysisRevision)", runId: run,
                outcome: .scored(scored.measures, scored.card), analysisSeconds: 0))
        counts.scored = 1
        try store.finishRun(run, counts: counts, interrupted: false)
        return try store.fetch(Stored.self, storedQuery, storedArguments).first?.id ?? 0
    }
}
