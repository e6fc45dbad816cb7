import NIOCore
import NIOEmbedded
import Testing
import YusuBatch
import YusuDelivery
import YusuTestSupport

@testable import YusuServe

/// The connection guard on an embedded channel, its clock moved by hand: each deadline
/// fires at its limit, and not before.
@Suite("connection limits: the guard's deadlines on an embedded channel")
struct ConnectionGuardTests {
    func guarded(_ limits: ConnectionLimits, count: ConnectionCount = ConnectionCount()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: ConnectionGuard(limits: limits, count: count, logger: .init(label: "t")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test("a client that stops reading is closed at --send-timeout-s; one that reads again in time is kept")
    func sendDeadline() throws {
        var limits = ConnectionLimits()
        limits.sendTimeoutSeconds = 5
        let channel = try guarded(limits)
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive, "closed although the client read again within the limit")
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(4_900))
        #expect(channel.isActive, "closed before the limit")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive, "still open 5.1 s after the client stopped reading")
    }

    @Test("the header deadline: 408 at the limit for headers never finished; a finished head is not timed")
    func headerDeadline() throws {
        var limits = ConnectionLimits()
        limits.headerTimeoutSeconds = 3
        let slow = try guarded(limits)
        try slow.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n"))
        slow.embeddedEventLoop.advanceTime(by: .milliseconds(2_900))
        let early = try written(slow)
        #expect(slow.isActive && early.isEmpty)
        slow.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        let answer = try written(slow)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
        #expect(!slow.isActive)
        // Bare line feeds end a head too.
        let done = try guarded(limits)
        try done.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\nHost: x\n\n"))
        done.embeddedEventLoop.advanceTime(by: .seconds(60))
        let none = try written(done)
        #expect(done.isActive && none.isEmpty)
    }

    @Test("the cap: one over --max-connections is answered 503 with Retry-After; a place comes back on close")
    func cap() throws {
        var limits = ConnectionLimits()
        limits.maxConnections = 2
        let count = ConnectionCount()
        let first = try guarded(limits, count: count)
        _ = try guarded(limits, count: count)
        let third = try guarded(limits, count: count)
        let answer = try written(third)
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && answer.contains("Retry-After: 5\r\n"))
        #expect(!third.isActive && count.current == 2)
        _ = try first.close().wait()
        #expect(count.current == 1)
        let fourth = try guarded(limits, count: count)
        #expect(fourth.isActive && count.current == 2)
    }
}

@Suite("the live board's words for alerts")
struct BoardLabelTests {
    /// The label of a line written as JSON (its type and fields, as the coach emits them).
    func label(_ line: String) -> String? {
        guard case .obj(var o) = JSONValue.parse(line), case .str(let name)? = o.removeValue(forKey: "type"),
            let type = LiveLineType(rawValue: name)
        else { return nil }
        if type == .alert {
            guard case .str(let kind)? = o.removeValue(forKey: "kind"), let alert = LiveAlertKind(rawValue: kind) else {
                return nil
            }
            return BoardLabel.text(LiveLine(alert: alert, emittedAtSeconds: 0, fields: o.map { ($0.key, $0.value) }))
        }
        return BoardLabel.text(LiveLine(type: type, emittedAtSeconds: 0, fields: o.map { ($0.key, $0.value) }))
    }

    @Test("each alert kind in Chinese first, with its number; reminders marked; non-alerts none")
    func labels() {
        #expect(
            label(#"{"type":"alert","kind":"too_fast","rate_30s_cpm":214.6,"reminder":false}"#)
                == "语速过快 Too fast · 215 字/分钟")
        #expect(
            label(#"{"type":"alert","kind":"too_slow","rate_30s_cpm":84.2,"reminder":true}"#)
                == "语速过慢 Too slow · 84 字/分钟 (仍 still)")
        #expect(
            label(#"{"type":"alert","kind":"talking_over_customer","at_s":3,"overlap_so_far_s":0.73}"#)
                == "抢话 Talking over the customer · 已重叠 0.7 秒")
        #expect(label(#"{"type":"alert","kind":"hold_too_long","so_far_s":60}"#) == "等待过长 Hold too long · 60 秒")
        #expect(
            label(#"{"type":"sinking_ending","final_drop_st":4.1,"end_vs_median_st":-5.29}"#)
                == "句尾下沉 Sinking ending · 低于音域 5.3 半音")
        // The tracker's octave jump at the end (a 13.8 st "fall" to 13.7 st under the register): no number.
        #expect(
            label(#"{"type":"sinking_ending","final_drop_st":13.75,"end_vs_median_st":-13.71}"#)
                == "句尾下沉 Sinking ending · 降入嘎裂声 into creak")
        #expect(
            label(#"{"type":"interruption","by":"customer","overlap_s":1.21}"#)
                == "客户打断坐席 Customer interrupted · 重叠 1.2 秒")
        #expect(label(#"{"type":"utterance","index":0}"#) == nil)
    }
}

@Suite("the live board's rows")
struct LiveBoardTests {
    func line(_ kind: LiveAlertKind, _ rate: Double, at: Double) -> LiveLine {
        LiveLine(
            alert: kind, emittedAtSeconds: at, fields: [("rate_30s_cpm", .num(rate)), ("reminder", .boolean(false))])
    }

    /// A board on a new SQLite file in `dir`. Its rows never go stale: a test waiting for a
    /// thread behind slower ones is not a dead instance.
    func board(in dir: TemporaryDirectory) throws -> LiveBoard {
        let path = dir.file("board.sqlite")
        _ = try ResultsDatabase(path: path)
        return LiveBoard(database: try ServeDatabase(.sqlite(path: path)), staleSeconds: 1e9)
    }

    @Test("the rate's state follows the coach's rate alerts: fast, back in band, slow; other alerts leave it")
    func rateState() async throws {
        let dir = TemporaryDirectory()
        let board = try board(in: dir)
        let id = try #require(await board.open(agentId: "a", callId: "c", limit: 10))
        func state() async throws -> JSONValue? {
            guard case .obj(let row)? = try await board.list().first else { return nil }
            return row["rate_state"]
        }
        #expect(try await state() == .null)
        let steps: [(LiveLine, JSONValue)] = [
            (line(.tooFast, 208, at: 49), .str("fast")),
            (
                LiveLine(alert: .talkingOverCustomer, emittedAtSeconds: 50, fields: [("overlap_so_far_s", .num(0.7))]),
                .str("fast")
            ),
            (line(.rateOk, 118, at: 80), .null),
            (line(.tooSlow, 80, at: 120), .str("slow")),
        ]
        for (sent, expected) in steps {
            await board.note(id, heardSeconds: sent.emittedAtSeconds, silence: nil, lines: [sent])
            #expect(try await state() == expected, "after \(sent.alert?.rawValue ?? "")")
        }
    }

    @Test(
        "the board's answer follows the API's spec: a call judged too fast in a hold, one just opened",
        .enabled(
            if: specPython != nil, "no python3 imports both jsonschema and yaml (python3-jsonschema, python3-yaml)"))
    func answerFollowsSpec() async throws {
        let dir = TemporaryDirectory()
        let board = try board(in: dir)
        let fast = try #require(await board.open(agentId: "王芳", callId: "c1", limit: 10))
        _ = try #require(await board.open(agentId: "b", callId: "", limit: 10))
        await board.note(
            fast, heardSeconds: 75, silence: (fromSeconds: 60, seconds: 15), lines: [line(.tooFast, 208, at: 49)])
        let answer = try await board.answer().text
        #expect(answer.contains("\"rate_state\":\"fast\"") && answer.contains("\"so_far_s\":15"), "\(answer)")
        let complaints = try SchemaTests().validate(
            ["board": answer], schema: fixturesDirectory() + "/../schema/openapi.v1.yaml",
            at: ["paths", "/v1/live/calls", "get", "responses", "200", "content", "application/json", "schema"],
            python: specPython)
        #expect(complaints.isEmpty, "\(complaints)")
    }
}
