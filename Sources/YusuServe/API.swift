import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport
import YusuSignal

/// `/v1`: JSON, described by schema/openapi.v1.yaml.
enum API {
    /// A whole-number query parameter within `range`, or `fallback` when absent; 400 naming
    /// the parameter otherwise.
    static func wholeNumber(_ q: [String: String], _ name: String, in range: ClosedRange<Int>, default fallback: Int)
        throws -> Int
    {
        guard let text = q[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(
                status: .badRequest,
                message:
                    "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound) "
                    + "(got '\(text.prefix(20))')")
        }
        return value
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        var bytes = value.bytes
        bytes.append(UInt8(ascii: "\n"))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Each API operation's query parameters, by the names schema/openapi.v1.yaml gives them
    /// (`SpecRoutesTests` holds this table and the spec together, both ways). A request to one
    /// of these operations with a name it does not take, or with one name twice, is a 400 that
    /// names it (`QueryNamesMiddleware`): a typo such as `per-page` or a filter given twice is
    /// said, not silently the default or the last value. /healthz and /metrics are not here:
    /// they take no parameters and ignore any, as monitors append their own.
    static let queryParameters: [String: [String]] = [
        "GET /v1/calls": [
            "agent", "from", "to", "rule_failed", "min_score", "max_score", "status", "sort", "page", "per_page",
        ],
        "GET /v1/calls/{id}": [],
        "GET /v1/calls/{id}/recording": [],
        "GET /v1/agents": [],
        "GET /v1/agents/{agent}/trend": ["by", "since"],
        "GET /v1/runs": ["limit"],
        "GET /v1/report": ["since", "worst", "standard_key"],
        "GET /v1/live/calls": [],
        "POST /v1/score": ["agent_channel", "store", "name", "agent_id", "call_id", "date"],
    ]

    /// The names in `names` that are not among `taken`, in order, each once.
    static func unknownNames(_ names: some Sequence<Substring>, taken: [String]) -> [Substring] {
        var unknown: [Substring] = []
        for name in names where !taken.contains(where: { $0 == name }) && !unknown.contains(name) {
            unknown.append(name)
        }
        return unknown
    }

    /// Throws the 400 for a query name that `operation` does not take (`taken`), or for a
    /// name given twice.
    static func checkQueryNames(_ names: [Substring], operation: String, taken: [String]) throws {
        if let name = unknownNames(names, taken: taken).first {
            let takes = taken.isEmpty ? "no parameters" : taken.joined(separator: ", ")
            throw APIError(
                status: .badRequest, message: "unknown parameter '\(name.prefix(40))': \(operation) takes \(takes)")
        }
        var seen = Set<Substring>()
        for name in names where !seen.insert(name).inserted {
            throw APIError(status: .badRequest, message: "\(name.prefix(40)) is given more than once")
        }
    }

    static func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { out[String(key)] = String(value) }
        return out
    }

    static func callId(_ context: some RequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError(status: .notFound, message: "no such call (ids are whole numbers)")
        }
        return id
    }

    static func add(to router: Router<ServeContext>, state: ServeState) {
        router.get("/healthz") { _, _ -> Response in
            // Healthy when the database answers.
            do {
                let n = try await state.database.run {
                    try ServeQueries.count($0, "SELECT COUNT(*) AS n FROM runs", [])
                }
                let load = await state.scoringGate.load
                return json(
                    .obj([
                        "status": .str("ok"), "runs": .whole(n), "scoring": .whole(load.running),
                        "waiting": .whole(load.waiting),
                        "live_calls": .whole(await state.board.count),
                        "connections": .whole(state.connections.current),
                        "uptime_s": .number(Date().timeIntervalSince(state.startedAt).rounded()),
                    ]))
            } catch {
                return json(
                    .obj(["status": .str("unavailable"), "error": .str("the results database does not answer")]),
                    status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            state.registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }

        let v1 = router.group("v1")
        v1.get("calls") { request, _ -> Response in
            let filter = try ServeQueries.CallFilter(query: query(request))
            let page = try await state.database.run { try ServeQueries.calls($0, filter) }
            return json(
                .obj([
                    "calls": .arr(page.calls.map { .obj($0.fields) }), "total": .whole(page.total),
                    "page": .whole(filter.page),
                    "per_page": .whole(filter.perPage),
                    "pages": .whole(max(1, (page.total + filter.perPage - 1) / filter.perPage)),
                ]))
        }
        v1.get("calls/:id") { _, context -> Response in
            let id = try callId(context)
            guard let call = try await state.database.run({ try ServeQueries.call($0, id: id) }) else {
                throw APIError(status: .notFound, message: "no call \(id)")
            }
            return json(.obj(call))
        }
        v1.get("calls/:id/recording") { request, context -> Response in
            let id = try callId(context)
            guard let found = try await state.database.run({ try ServeQueries.recordingPath($0, id: id) }) else {
                throw APIError(status: .notFound, message: "no scored call \(id)")
            }
            return try await Recording.response(path: found.path, request: request, context: context)
        }
        v1.get("agents") { _, _ -> Response in
            let agents = try await state.database.run { try ServeQueries.agents($0) }
            return json(
                .obj([
                    "agents": .arr(
                        agents.map {
                            .obj([
                                "agent_id": .str($0.id), "calls": .whole($0.calls), "failed_files": .whole($0.failed),
                                "mean_score": .number($0.meanScore),
                                "first_date": .str($0.first), "last_date": .str($0.last),
                            ])
                        })
                ]))
        }
        v1.get("agents/:agent/trend") { request, context -> Response in
            guard
                let agent = context.parameters.get("agent")?.removingPercentEncoding ?? context.parameters.get("agent")
            else {
                throw APIError(status: .notFound, message: "no agent")
            }
            let q = query(request)
            let by = q["by"] ?? "week"
            guard by == "day" || by == "week" else {
                throw APIError(status: .badRequest, message: "by must be day or week (got '\(by.prefix(20))')")
            }
            let filter = try ServeQueries.CallFilter(query: ["from": q["since"] ?? ""])
            let points = try await state.database.run { store -> [ServeQueries.TrendPoint]? in
                guard try ServeQueries.agentKnown(store, agent) else { return nil }
                return try ServeQueries.trend(store, agent: agent, weekly: by == "week", since: filter.from)
            }
            // The spec's 404: an agent with no call at all is not an agent with no points.
            guard let points else { throw APIError(status: .notFound, message: "no calls of agent '\(agent)'") }
            return json(
                .obj([
                    "agent_id": .str(agent), "by": .str(by),
                    "points": .arr(
                        points.map { p in
                            var rates: [String: JSONValue] = [:]
                            for rule in RuleBook.ids { rates[rule] = .number(p.passRate(rule)) }
                            return .obj([
                                "period": .str(p.period), "calls": .whole(p.calls), "mean_score": .number(p.meanScore),
                                "pass_rate": .obj(rates),
                            ])
                        }),
                ]))
        }
        v1.get("runs") { request, _ -> Response in
            let limit = try wholeNumber(query(request), "limit", in: 1...500, default: 20)
            let runs = try await state.database.run { try ServeQueries.runs($0, limit: limit) }
            return json(.obj(["runs": .arr(runs.map { .obj($0.fields) })]))
        }
        // The night summary, the very document `yusu report --format json` prints.
        v1.get("report") { request, _ -> Response in
            let q = query(request)
            let filter = try ServeQueries.CallFilter(query: ["from": q["since"] ?? ""])
            let worst = try wholeNumber(q, "worst", in: 0...100, default: 3)
            let key = q["standard_key"]
            let text = try await state.database.run {
                NightReport.json(
                    try NightlySummary.load(from: $0, since: filter.from, standardKey: key, worstPerGroup: worst))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
        }
        v1.get("live/calls") { _, _ -> Response in
            json(try await state.board.answer())
        }
        v1.post("score") { request, context -> Response in
            try await Upload.score(request, state: state)
        }
    }
}

/// A recording, whole or a byte range of it (RFC 9110 §14): players seek with `Range`.
enum Recording {
    static func contentType(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "wav": return "audio/wav"
        case "flac": return "audio/flac"
        case "mp3": return "audio/mpeg"
        case "ogg", "oga", "opus": return "audio/ogg"
        case "aif", "aiff": return "audio/aiff"
        default: return "application/octet-stream"
        }
    }

    /// One range of `size` bytes from a `Range` header; nil for no header or one the
    /// server ignores (several ranges, another unit: the whole file is sent); throws 416
    /// for one that lies outside the file.
    static func range(_ header: String?, size: Int64) throws -> ClosedRange<Int64>? {
        guard let header else { return nil }
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.lowercased().hasPrefix("bytes="), !h.contains(",") else { return nil }
        let spec = h.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard parts.count == 2 else { return nil }
        let unsatisfiable = APIError(
            status: .rangeNotSatisfiable,
            message: "the range \(spec.prefix(40)) is outside the recording's \(size) bytes",
            headers: [.contentRange: "bytes */\(size)"])
        if parts[0].isEmpty {
            guard let n = Int64(parts[1]), n >= 0 else { return nil }
            guard n > 0, size > 0 else { throw unsatisfiable }
            return max(0, size - n)...(size - 1)
        }
        guard let first = Int64(parts[0]), first >= 0 else { return nil }
        let last: Int64
        if parts[1].isEmpty {
            last = size - 1
        } else {
            guard let l = Int64(parts[1]), l >= first else { return nil }
            last = min(l, size - 1)
        }
        guard first < size else { throw unsatisfiable }
        return first...last
    }

    /// The recording, or the range asked for, streamed by Hummingbird's file I/O (NIO's
    /// file system, read in chunks as the client takes them).
    static func response(path: String, request: Request, context: some RequestContext) async throws -> Response {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw APIError(status: .gone, message: "the recording of this call is no longer where it was scored")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw APIError(status: .gone, message: "the recording of this call is not a regular file any more")
        }
        let size = Int64(status.st_size)
        let wanted = try range(request.headers[.range], size: size)
        let span = wanted ?? 0...max(0, size - 1)
        var headers: HTTPFields = [
            .contentType: contentType(path), .acceptRanges: "bytes", .cacheControl: "private, max-age=300",
        ]
        headers[.contentLength] = String(size == 0 ? 0 : span.count)
        if wanted != nil { headers[.contentRange] = "bytes \(span.lowerBound)-\(span.upperBound)/\(size)" }
        let body: ResponseBody
        do {
            body =
                size == 0
                ? ResponseBody()
                : try await FileIO().loadFile(
                    path: path, range: Int(span.lowerBound)...Int(span.upperBound), context: context)
        } catch {
            throw APIError(status: .gone, message: "the recording of this call is no longer where it was scored")
        }
        return Response(status: wanted == nil ? .ok : .partialContent, headers: headers, body: body)
    }
}

/// Refuses a request to an operation of `taking` (operation -> its query names; the API's
/// are `API.queryParameters`) whose query holds a name the operation does not take, or one
/// name twice, before its route runs.
struct QueryNamesMiddleware<Context: RequestContext>: RouterMiddleware {
    let taking: [String: [String]]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let method = request.method == .head ? "GET" : request.method.rawValue
        let operation = "\(method) \(context.endpointPath ?? request.uri.path)"
        if let taken = taking[operation] {
            try API.checkQueryNames(request.uri.queryParameters.map(\.key), operation: operation, taken: taken)
        }
        return try await next(request, context)
    }
}
