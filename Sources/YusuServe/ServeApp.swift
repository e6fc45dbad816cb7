import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Prometheus
import YusuBatch
import YusuDelivery
import YusuReport
import YusuSignal

/// How `yusu serve` runs, validated once by the command.
public struct ServeConfiguration: Sendable {
    public var database: ServeDatabase.Engine
    public var host = "127.0.0.1"
    public var port = 8080
    /// Where stored uploads are kept (nil: the service scores uploads but stores none).
    public var recordingsDirectory: String?
    /// Largest upload, bytes.
    public var maxUploadBytes = 256 << 20
    /// Recordings scored at once, and how many more may wait for a turn before 503.
    public var scoringJobs = 2
    public var scoringQueue = 16
    /// A request's longest time to its answer (a streamed recording's body excepted).
    public var requestTimeoutSeconds = 120.0
    /// Live calls open at once.
    public var maxLiveCalls = 500
    /// A live call's audio analysed at a time, seconds (`CallOptions.analysisStepSeconds`).
    public var liveAnalysisStepSeconds = CallOptions.serviceAnalysisStepSeconds
    /// Connections: how many, and how long a client may take to say what it wants.
    public var connections = ConnectionLimits()
    /// The standard uploads and live calls are judged by (default: the latest run's).
    public var standard: Standard?
    public var limits = InputLimits()
    /// Database connections (PostgreSQL) and threads.
    public var databaseConnections = 4
    /// Yusu's version, written with stored calls and runs.
    public var version = "dev"

    public init(database: ServeDatabase.Engine) { self.database = database }
}

/// What every request handler shares. Nothing here outlives the process but the live
/// board: several instances behind a load balancer share the database and nothing else.
final class ServeState: Sendable {
    let configuration: ServeConfiguration
    let database: ServeDatabase
    let tokens: TokenCache
    let scoringGate: ScoringGate
    let scoringThreads: NIOThreadPool
    let board: LiveBoard
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let startedAt = Date()
    let metrics: ServeMetrics
    let connections = ConnectionCount()

    init(
        configuration: ServeConfiguration, database: ServeDatabase, registry: PrometheusCollectorRegistry,
        logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.tokens = TokenCache(database: database)
        self.board = LiveBoard(database: database)
        self.scoringGate = ScoringGate(running: configuration.scoringJobs, waiting: configuration.scoringQueue)
        self.scoringThreads = NIOThreadPool(numberOfThreads: configuration.scoringJobs)
        self.registry = registry
        self.logger = logger
        self.metrics = ServeMetrics(registry)
        scoringThreads.start()
    }

    /// Runs `work` (a score, a call page's analysis) on the scoring threads when the gate
    /// gives it a turn (now, or after waiting in line); 503 with Retry-After when the line
    /// is full too.
    func scoring<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard await scoringGate.enter() else {
            metrics.rejected.increment()
            throw APIError(
                status: .serviceUnavailable,
                message: "every scoring slot is taken and the queue is full: try again shortly",
                headers: [.retryAfter: "5"])
        }
        metrics.scoringInProgress.increment()
        defer { metrics.scoringInProgress.decrement() }
        do {
            let value = try await scoringThreads.runIfActive(work)
            await scoringGate.leave()
            return value
        } catch {
            await scoringGate.leave()
            throw error
        }
    }

    /// The standard for uploads and live calls.
    func standard() async throws -> Standard {
        if let s = configuration.standard { return s }
        return try await database.run { store in
            try ServeQueries.standard(store, key: try ServeQueries.standardKey(store))
        }
    }
}

struct ServeMetrics: Sendable {
    let scored: Prometheus.Counter, refused: Prometheus.Counter, rejected: Prometheus.Counter,
        liveCalls: Prometheus.Gauge, scoringInProgress: Prometheus.Gauge
    init(_ registry: PrometheusCollectorRegistry) {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "yusu", metricName: metric, unitName: unit, helpText: help)
        }
        scored = registry.makeCounter(descriptor: name("uploads_scored", "total", "Uploads scored (POST /v1/score)."))
        refused = registry.makeCounter(
            descriptor: name("uploads_refused", "total", "Uploads refused: not audio, too long, too large."))
        rejected = registry.makeCounter(
            descriptor: name("scoring_busy", "total", "Uploads answered 503: every scoring place and the queue full."))
        liveCalls = registry.makeGauge(descriptor: name("live", "calls", "Live calls open now (WebSocket /v1/live)."))
        scoringInProgress = registry.makeGauge(descriptor: name("scoring", "in_progress", "Uploads being scored now."))
    }
}

/// Bounded scoring: `running` at once, `waiting` more in line; beyond that, no.
actor ScoringGate {
    let maxRunning: Int, maxWaiting: Int
    private var running = 0
    private var queue: [CheckedContinuation<Void, Never>] = []

    init(running: Int, waiting: Int) {
        maxRunning = max(1, running)
        maxWaiting = max(0, waiting)
    }

    /// True when the caller may score (now or after waiting its turn); false when full.
    func enter() async -> Bool {
        if running < maxRunning {
            running += 1
            return true
        }
        guard queue.count < maxWaiting else { return false }
        await withCheckedContinuation { queue.append($0) }
        return true
    }

    func leave() {
        if queue.isEmpty { running -= 1 } else { queue.removeFirst().resume() }
    }

    var load: (running: Int, waiting: Int) { (running, queue.count) }
}

/// Token checks, remembered for two seconds (a revoked token stops working within two
/// seconds; a page's requests do not each query the database).
final class TokenCache: Sendable {
    let database: ServeDatabase
    private let entries = NIOLockedValueBox<[String: (AccessTokens.Scope?, Date)]>([:])

    init(database: ServeDatabase) { self.database = database }

    func scope(of token: String) async throws -> AccessTokens.Scope? {
        let key = AccessTokens.hash(token)
        if let (scope, at) = entries.withLockedValue({ $0[key] }), Date().timeIntervalSince(at) < 2 { return scope }
        let scope = try await database.run { try AccessTokens.scope(of: token, in: $0) }
        entries.withLockedValue {
            if $0.count > 10_000 { $0.removeAll() }
            $0[key] = (scope, Date())
        }
        return scope
    }
}

/// The service.
public enum YusuService {
    /// Builds the application: the HTTP router (API, pages, metrics, health) and the
    /// WebSocket router (live calls). `onRunning` receives the bound port (0 asks for any).
    public static func make(
        _ configuration: ServeConfiguration, database: ServeDatabase, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let state = ServeState(configuration: configuration, database: database, registry: registry, logger: logger)

        let router = Router(context: ServeContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware(logger: logger))
        router.add(middleware: AuthMiddleware(state: state))
        router.add(middleware: QueryNamesMiddleware(taking: API.queryParameters))
        router.add(middleware: TimeoutMiddleware(seconds: configuration.requestTimeoutSeconds))
        API.add(to: router, state: state)
        Dashboard.add(to: router, state: state)

        let wsRouter = Router(context: ServeWSContext.self)
        wsRouter.add(middleware: RequestLogMiddleware(logger: logger))
        wsRouter.add(middleware: ErrorMiddleware(logger: logger))
        wsRouter.add(middleware: UpgradeRefusalMiddleware())
        wsRouter.add(middleware: AuthMiddleware(state: state))
        wsRouter.add(middleware: QueryNamesMiddleware(taking: ["GET /v1/live": LiveSocket.parameters]))
        LiveSocket.add(to: wsRouter, state: state)

        return Application(
            router: HeadAsGet(base: router),
            server: .guardedHTTP1WebSocket(
                webSocketRouter: wsRouter,
                ws: .init(maxFrameSize: 1 << 20, autoPing: .enabled(timePeriod: .seconds(30))),
                limits: configuration.connections, count: state.connections, logger: logger),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "yusu"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

public struct ServeContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var scope: AccessTokens.Scope?
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

public struct ServeWSContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public var scope: AccessTokens.Scope?
    /// The connection (its guard writes a refused upgrade's answer).
    let channel: any Channel
    /// The live call admitted by the upgrade's check (its place and its parameters), for
    /// the socket that follows.
    let admitted = NIOLockedValueBox<(id: String, declared: LiveSocket.Declared)?>(nil)
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

protocol ScopedContext: RequestContext { var scope: AccessTokens.Scope? { get set } }
extension ServeContext: ScopedContext {}
extension ServeWSContext: ScopedContext {}

/// An error the client caused, with its one-line reason (`{"error": "..."}`).
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields = [:]

    /// The answer to an error the client caused, whatever raised it (a route, the router, a
    /// query's check, a body that stopped or grew too large); nil for the server's own.
    init?(client error: any Error) {
        switch error {
        case let error as APIError: self = error
        case let error as HTTPError:
            self.init(
                status: error.status,
                message: error.body
                    ?? (error.status == .notFound ? "no such page or resource" : error.status.reasonPhrase),
                headers: error.headers)
        case let error as ServeQueries.BadRequest: self.init(status: .badRequest, message: error.description)
        case let error as BodyTimeout:
            self.init(
                status: .requestTimeout,
                message: "the request body stopped arriving for \(formatLimit(error.seconds)) s",
                headers: [.connection: "close"])
        case is NIOTooManyBytesError:
            // A body sent without a length (chunked) that grows past what the route reads.
            self.init(status: .contentTooLarge, message: "the request body is over this server's limit")
        default: return nil
        }
    }

    init(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) {
        (self.status, self.message, self.headers) = (status, message, headers)
    }
}

/// One line per request: method, path (never the query: a login's token is not logged),
/// status, time. Structured as swift-log metadata.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let ms =
                Double((ContinuousClock.now - start).components.attoseconds) / 1e15 + Double(
                    (ContinuousClock.now - start).components.seconds) * 1000
            logger.info(
                "request",
                metadata: [
                    "method": .string(request.method.rawValue), "path": .string(String(request.uri.path.prefix(300))),
                    "status": .stringConvertible(status), "ms": .string(String(format: "%.1f", ms)),
                ])
        }
        let response = try await next(request, context)
        status = response.status.code
        return response
    }
}

/// Errors as answers: a client's mistake as its status and one line; anything else as 500,
/// logged with its detail (the client gets no internals).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            if let answer = APIError(client: error) { return Self.answer(answer, request: request) }
            logger.error("internal error", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            return Self.answer(
                APIError(status: .internalServerError, message: "internal error (logged on the server)"),
                request: request)
        }
    }

    static func answer(_ error: APIError, request: Request) -> Response {
        if request.uri.path.hasPrefix("/v1/") || request.uri.path == "/metrics" || request.uri.path == "/healthz" {
            return API.json(.obj(["error": .str(error.message)]), status: error.status, headers: error.headers)
        }
        if error.status == .unauthorized {
            // A page asked for without a (working) token: the login page, said in words.
            // Sent one (a header or the cookie) and it was refused: say so; sent none: just ask.
            let sent = request.headers[.authorization] != nil || request.cookies["yusu_token"] != nil
            return Dashboard.loginPage(
                next: request.uri.path, warning: sent ? Dashboard.rejectedToken : nil, status: error.status,
                headers: error.headers)
        }
        return Dashboard.page(
            "Yusu · \(error.status.code)",
            Dashboard.templates.render(
                "error", ["status": String(error.status.code), "message": error.message]),
            status: error.status, headers: error.headers)
    }
}

/// Bearer tokens (`Authorization: Bearer yusu_…`), or the dashboard's cookie for pages and
/// reads. Writing (uploads, live audio) needs a write token, sent as a header: a cookie
/// alone never writes, so another site cannot post through a supervisor's browser.
struct AuthMiddleware<Context: ScopedContext>: RouterMiddleware {
    let state: ServeState
    static var openPaths: Set<String> { ["/healthz", "/metrics", "/login", "/favicon.ico"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if Self.openPaths.contains(request.uri.path) { return try await next(request, context) }
        var token: String? = nil
        var fromHeader = false
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError(
                    status: .unauthorized, message: "the Authorization header must be 'Bearer <token>'",
                    headers: [.wwwAuthenticate: "Bearer"])
            }
            token = String(parts[1]).trimmingCharacters(in: .whitespaces)
            fromHeader = true
        } else if let cookie = request.cookies["yusu_token"]?.value {
            token = cookie
        }
        guard let token else {
            throw APIError(
                status: .unauthorized,
                message: "a token is needed: send 'Authorization: Bearer <token>' (yusu token create --db …)",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        guard let scope = try await state.tokens.scope(of: token) else {
            throw APIError(
                status: .unauthorized, message: "this token is unknown or revoked",
                headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
        }
        let writes = request.method != .get && request.method != .head || request.uri.path == "/v1/live"
        if writes {
            guard scope == .write else {
                throw APIError(
                    status: .forbidden,
                    message: "this token may read but not write (uploads and live calls need a write token)")
            }
            guard fromHeader else {
                throw APIError(
                    status: .forbidden, message: "writing needs the token in an Authorization header, not a cookie")
            }
        }
        var context = context
        context.scope = scope
        return try await next(request, context)
    }
}

/// HEAD is GET without the body (RFC 9110 §9.3.2): the same route, status and headers
/// (Content-Length, Content-Type, Accept-Ranges), for every GET route, after the same
/// authentication. It wraps the router, since a router's middleware runs only for a
/// method's own routes.
struct HeadAsGet<Base: HTTPResponderBuilder>: HTTPResponderBuilder {
    let base: Base
    func buildResponder() -> CallbackResponder<Base.Responder.Context> {
        let responder = base.buildResponder()
        return CallbackResponder { request, context in
            guard request.method == .head else { return try await responder.respond(to: request, context: context) }
            var head = request.head
            head.method = .get
            return try await responder.respond(to: Request(head: head, body: request.body), context: context)
                .createHeadResponse()
        }
    }
}

/// Every request answers within `seconds` (503 after that); a slow database or a long
/// score cannot hold a connection for ever. A streamed body (a recording) is not timed.
struct TimeoutMiddleware<Context: RequestContext>: RouterMiddleware {
    let seconds: Double
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        try await withoutActuallyEscaping(next) { next in
            nonisolated(unsafe) let next = next
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await next(request, context) }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    throw APIError(
                        status: .serviceUnavailable, message: "the request took longer than \(Int(seconds)) s",
                        headers: [.retryAfter: "10"])
                }
                return response
            }
        }
    }
}

/// Something to run until it is told to stop (SIGTERM, SIGINT).
public protocol ApplicationRunner: Sendable {
    func run() async throws
}

/// `yusu serve`: the application, run with graceful shutdown on SIGTERM and SIGINT (new
/// connections refused, requests under way, scoring included, finished).
public struct ServeRunner: ApplicationRunner {
    private let body: @Sendable () async throws -> Void

    public init(configuration: ServeConfiguration, logger: Logger) throws {
        let host = configuration.host
        let database = try ServeDatabase(configuration.database, connections: configuration.databaseConnections)
        let app = try YusuService.make(configuration, database: database, logger: logger) { port in
            FileHandle.standardError.write(
                Data("yusu serve: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)\n".utf8))
        }
        body = {
            defer { database.close() }
            try await app.runService()
        }
    }

    public func run() async throws { try await body() }
}
