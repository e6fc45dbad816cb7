import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes
import YusuDelivery

/// Where the server's connection limits live, all in one place: what a client that
/// reaches the port may hold, and for how long, before it has said what it wants.
/// nginx's `client_header_timeout`, `client_body_timeout` and `limit_conn` are the model:
/// a client that sends nothing, or its headers a byte at a time (Slowloris), or a body
/// that stops arriving, is answered 408 and closed; over the cap, a new connection is
/// answered 503 with Retry-After and closed at once.
public struct ConnectionLimits: Sendable {
    /// Connections open at once (HTTP and live calls together).
    public var maxConnections = 1024
    /// From a connection's opening to the end of its first request's headers, seconds.
    public var headerTimeoutSeconds = 10.0
    /// Longest wait for the next piece of a request body while the server is reading it,
    /// seconds (not the whole body: a long upload on a slow line goes on while it moves).
    public var bodyTimeoutSeconds = 30.0
    /// An idle keep-alive connection's life, seconds.
    public var idleTimeoutSeconds = 60.0
    /// Longest time an answer may wait for a client that does not read it (the
    /// connection's send buffer full), seconds; then the connection is closed (nginx's
    /// `send_timeout`). A live call whose client stops reading its lines ends the same way.
    public var sendTimeoutSeconds = 60.0

    public init() {}
}

/// The open connections, counted once for the whole server.
final class ConnectionCount: Sendable {
    private let open = NIOLockedValueBox(0)
    /// Counts a connection in when there is room: the check and the count are one step.
    func enter(limit: Int) -> Bool {
        open.withLockedValue {
            guard $0 < limit else { return false }
            $0 += 1
            return true
        }
    }
    func leave() { open.withLockedValue { $0 -= 1 } }
    var current: Int { open.withLockedValue { $0 } }
}

extension APIError {
    /// The whole HTTP/1.1 answer, `{"error": …}`, closing the connection: what the guard
    /// writes itself, where no route answers.
    var http11Answer: ByteBuffer {
        let body = JSONValue.obj(["error": .str(message)]).text
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        head += "Content-Type: application/json; charset=utf-8\r\n"
        for field in headers where field.name != .contentType && field.name != .contentLength {
            head += "\(field.name.rawName): \(field.value)\r\n"
        }
        head += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return ByteBuffer(string: head + body)
    }
}

/// The first handler of every connection, on its raw bytes: the connection cap, the
/// header deadline, the send deadline (a client that stops reading), and the answer to a
/// refused WebSocket upgrade (whose library writes an empty 400; this handler writes the
/// refusal's own status and reason in its place).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: ConnectionLimits
    private let count: ConnectionCount
    private let logger: Logger
    private var counted = false
    private var started = false
    private var headerDone = false
    /// Line breaks in a row (CR ignored) while looking for the end of the headers.
    private var breaks = 0
    private var deadline: Scheduled<Void>?
    private var sendDeadline: Scheduled<Void>?
    private var refusal: APIError?
    private var refusalWritten = false

    init(limits: ConnectionLimits, count: ConnectionCount, logger: Logger) {
        self.limits = limits
        self.count = count
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        guard count.enter(limit: limits.maxConnections) else {
            logger.warning("connection refused: at the cap", metadata: ["max_connections": "\(limits.maxConnections)"])
            answer(
                context,
                APIError(
                    status: .serviceUnavailable,
                    message: "this server has \(limits.maxConnections) connections open (--max-connections)",
                    headers: [.retryAfter: "5"]))
            return
        }
        counted = true
        let seconds = limits.headerTimeoutSeconds
        deadline = after(seconds, on: context) { [self] in
            guard !headerDone, context.channel.isActive else { return }
            logger.info("connection closed: headers not in time", metadata: ["header_timeout_s": "\(seconds)"])
            answer(
                context,
                APIError(
                    status: .requestTimeout,
                    message: "the request's headers did not arrive within \(formatLimit(seconds)) s"))
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            sendDeadline?.cancel()
            sendDeadline = nil
        } else if sendDeadline == nil {
            let seconds = limits.sendTimeoutSeconds
            sendDeadline = after(seconds, on: context) { [self] in
                sendDeadline = nil
                guard !context.channel.isWritable else { return }
                logger.info("connection closed: the client stopped reading", metadata: ["send_timeout_s": "\(seconds)"])
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        sendDeadline?.cancel()
        if counted {
            count.leave()
            counted = false
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headerDone {
            let buffer = unwrapInboundIn(data)
            for byte in buffer.readableBytesView {
                if byte == UInt8(ascii: "\n") {
                    breaks += 1
                    if breaks == 2 {
                        headerDone = true
                        deadline?.cancel()
                        break
                    }
                } else if byte != UInt8(ascii: "\r") {
                    breaks = 0
                }
            }
        }
        context.fireChannelRead(data)
    }

    /// From here on, the connection's answer is `refusal`, whatever the layers above write.
    func refuse(_ refusal: APIError) { self.refusal = refusal }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let refusal else { return context.write(data, promise: promise) }
        if refusalWritten {
            promise?.succeed(())
            return
        }
        refusalWritten = true
        context.write(wrapOutboundOut(refusal.http11Answer), promise: promise)
    }

    private func answer(_ context: ChannelHandlerContext, _ refusal: APIError) {
        // The layers above hear that the client's input is over (the HTTP upgrade step then
        // ends quietly instead of failing on a channel closed under it), then it closes.
        context.writeAndFlush(wrapOutboundOut(refusal.http11Answer)).assumeIsolated().whenComplete {
            _ in
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.close(promise: nil)
        }
    }
}

/// Runs `body` on the connection's event loop after `seconds` (a deadline of the guards).
func after(_ seconds: Double, on context: ChannelHandlerContext, _ body: @escaping () -> Void) -> Scheduled<Void> {
    context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9)), body)
}

/// "10", "2.5": a limit as the operator wrote it.
func formatLimit(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}

/// A request body that stopped arriving (`ConnectionLimits.bodyTimeoutSeconds`).
struct BodyTimeout: Error {
    var seconds: Double
}

/// After the HTTP decoder: the wait for each piece of a request body, timed only while the
/// server has asked for more bytes (a route that is busy is not the client's fault). When
/// the wait is over, the request's body fails with `BodyTimeout` (answered 408), and the
/// connection closes once that answer is written.
final class BodyReadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let seconds: Double
    private var inBody = false
    private var timedOut = false
    private var deadline: Scheduled<Void>?

    init(seconds: Double) { self.seconds = seconds }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadline?.cancel()
        deadline = nil
        switch unwrapInboundIn(data) {
        case .head: inBody = true
        case .body: break
        case .end: inBody = false
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if inBody && deadline == nil && !timedOut {
            deadline = after(seconds, on: context) { [self] in
                deadline = nil
                guard inBody else { return }
                timedOut = true
                inBody = false
                context.fireErrorCaught(BodyTimeout(seconds: seconds))
            }
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if timedOut, case .end = unwrapOutboundIn(data) {
            context.writeAndFlush(data).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            promise?.succeed(())
            return
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }
}

/// The HTTP/1 server with WebSocket upgrades, every connection under `ConnectionLimits`.
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let limits: ConnectionLimits
    let count: ConnectionCount
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionGuard(limits: limits, count: count, logger: self.logger), position: .first)
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }
}

extension HTTPServerBuilder {
    /// `http1WebSocketUpgrade`, under the connection limits: the header deadline and the cap
    /// on raw bytes, the body deadline after the HTTP decoder, idle keep-alive as configured.
    static func guardedHTTP1WebSocket<WSResponderBuilder: HTTPResponderBuilder>(
        webSocketRouter: WSResponderBuilder, ws: WebSocketServerConfiguration, limits: ConnectionLimits,
        count: ConnectionCount, logger: Logger
    ) -> HTTPServerBuilder where WSResponderBuilder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            GuardedChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(
                        http1: .init(
                            additionalChannelHandlers: [BodyReadDeadline(seconds: limits.bodyTimeoutSeconds)],
                            idleTimeout: .nanoseconds(Int64(limits.idleTimeoutSeconds * 1e9))),
                        ws: ws)),
                limits: limits, count: count, logger: logger)
        }
    }
}

/// Refusals of a WebSocket upgrade (no token, a read token, bad parameters, the live-call
/// limit) reach the client as their own status, headers and reason, not the library's
/// empty 400: the connection's guard is told to write this answer instead.
struct UpgradeRefusalMiddleware: RouterMiddleware {
    typealias Context = ServeWSContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            if let refusal = APIError(client: error) { await Self.refuse(refusal, context) }
            throw error
        }
    }

    static func refuse(_ refusal: APIError, _ context: Context) async {
        let channel = context.channel
        _ = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ConnectionGuard.self).refuse(refusal)
        }.get()
    }
}
