import Foundation
import GRDB
import HummingbirdWSClient
import Logging
import NIOCore
import Testing
import YusuBatch
import YusuTestSupport

/// A `yusu serve` process on a loopback port (any free one), its log in a file.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let log: String

    struct StartError: Error, CustomStringConvertible { var description: String }

    init(_ arguments: [String], in dir: TemporaryDirectory, environment: [String: String]? = nil) throws {
        log = dir.file("serve-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        if let environment { process.environment = environment }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        var found: Int?
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"listening on http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                found = Int(text[r].split(separator: ":").last!)
                break
            }
            if !process.isRunning { break }
            usleep(50_000)
        }
        guard let found else {
            if process.isRunning { process.terminate() }
            throw StartError(
                description: "yusu serve did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    var base: String { "http://127.0.0.1:\(port)" }
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// SIGTERM, then the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// An HTTP exchange through curl.
struct HTTPAnswer {
    var status: Int
    var headers: String
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    func header(_ name: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

func curl(
    _ url: String, method: String = "GET", token: String? = nil, headers: [String] = [], bodyFile: String? = nil,
    cookies: String? = nil, saveCookies: String? = nil, maxTime: Int = 120
) throws -> HTTPAnswer {
    let dir = NSTemporaryDirectory() + "yusu-curl-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var args = [
        "-s", "-S", "-g", "-X", method, "-D", dir + "/h", "-o", dir + "/b", "-w", "%{http_code}", "--max-time",
        "\(maxTime)",
    ]
    if let token { args += ["-H", "Authorization: Bearer \(token)"] }
    for h in headers { args += ["-H", h] }
    if let bodyFile { args += ["--data-binary", "@" + bodyFile, "-H", "Content-Type: application/octet-stream"] }
    if let cookies { args += ["-b", cookies] }
    if let saveCookies { args += ["-c", saveCookies] }
    let r = try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/curl"), args + [url])
    return HTTPAnswer(
        status: Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1,
        headers: (try? String(contentsOfFile: dir + "/h", encoding: .utf8)) ?? "",
        body: (try? Data(contentsOf: URL(fileURLWithPath: dir + "/b"))) ?? Data())
}

/// A raw TCP client for what curl will not do: send nothing, trickle headers a byte at a
/// time, stop a body half way. `answer` reads until the server closes (or `seconds`).
final class RawClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
    }

    deinit { close(fd) }

    /// False once the server has closed the connection (a send fails).
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            == bytes.count
    }

    /// Everything the server sends until it closes, or until `seconds` pass.
    func answer(within seconds: Double) -> String {
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                out += buffer[..<n]
            } else if n == 0 {
                break
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A WebSocket handshake through curl: the status, headers and body of the answer.
func webSocketHandshake(_ url: String, token: String?) throws -> HTTPAnswer {
    try curl(
        url, token: token,
        headers: [
            "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ], maxTime: 3)
}

func percent(_ s: String) -> String {
    s.addingPercentEncoding(
        withAllowedCharacters: CharacterSet(
            charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? s
}

/// A night as `yusu batch` writes it: five Mondays-apart days, three agents (one in Chinese,
/// two with markup and quotes in their ids), a hostile file name with `../`, a file that
/// is missing, and the demo call (real speech) on the last day; plus tokens.
final class ServedNight: @unchecked Sendable {
    static let shared = try! ServedNight()

    let dir = TemporaryDirectory()
    let db: String
    let writeToken: String
    let readToken: String
    let days = ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    static let hostileAgent = "<script>alert(1)</script>"
    static let quotedAgent = "agent \"q\" & 'single'"
    static let hostileCall = "\"><img src=x onerror=alert(2)>"
    let demoPath: String
    let hostilePath: String

    init() throws {
        func field(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var lines = "path,agent_id,call_id,date\n"
        for (k, day) in days.enumerated() {
            let path = try writeRecording(
                dir.file("wang-\(k).wav"), channels: HardeningCLITests.call(seconds: 6 + Double(k)), rateHz: 8000)
            lines += "\(field(path)),王芳,c-\(k),\(day)\n"
            if k >= 3 {
                let other = try writeRecording(
                    dir.file("q-\(k).wav"), channels: HardeningCLITests.call(seconds: 7), rateHz: 8000)
                lines += "\(field(other)),\(field(Self.quotedAgent)),q-\(k),\(day)\n"
            }
        }
        try FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: true)
        _ = try writeRecording(
            dir.file("evil \"name\" <b>.wav"), channels: HardeningCLITests.call(seconds: 6), rateHz: 8000)
        hostilePath = dir.file("sub/../evil \"name\" <b>.wav")
        lines += "\(field(hostilePath)),\(field(Self.hostileAgent)),\(field(Self.hostileCall)),2026-11-23\n"
        lines += "/nonexistent/missing.wav,王芳,gone,2026-11-23\n"
        demoPath = fixturesDirectory() + "/demo_call.wav"
        lines += "\(field(demoPath)),王芳,demo,2026-11-23\n"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: dir.file("m.csv")))
        db = dir.file("night.sqlite")
        let batch = try CLI.run(["batch", dir.file("m.csv"), "--db", db, "--quiet"])
        guard batch.status == 3 else {
            throw ServeProcess.StartError(description: "batch: \(batch.status) \(batch.stderr)")
        }
        writeToken = try CLI.run(["token", "create", "--db", db, "--name", "uploader", "--scope", "write"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        readToken = try CLI.run(["token", "create", "--db", db, "--name", "supervisor 王"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    func sql<T: DatabaseValueConvertible>(_ statement: String, as: T.Type) throws -> T? {
        try DatabaseQueue(path: db).read { try T.fetchOne($0, sql: statement) }
    }

    func callRow(callId: String) throws -> Int {
        try DatabaseQueue(path: db).read {
            try Int.fetchOne($0, sql: "SELECT id FROM calls WHERE call_id = ?", arguments: [callId])
        } ?? -1
    }
}

/// The service's tests talk HTTP through curl (Debian: curl; scripts/demo.sh and CI install it).
let curlPresent = FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")

@Suite(
    "yusu serve: API, pages, live calls, tokens, on a real server on loopback", .serialized,
    .enabled(if: curlPresent, "no /usr/bin/curl (Debian: curl)"))
struct ServeTests {
    let night = ServedNight.shared

    @Test(
        """
        tokens: none 401, unknown 401, read-only upload 403, a cookie never writes, revoked 401, and no token in \
        the log
        """
    )
    func tokens() throws {
        let dir = TemporaryDirectory()
        let extra = try CLI.run(["token", "create", "--db", night.db, "--name", "to revoke"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(extra.hasPrefix("yusu_") && extra.count == 69)
        let server = try ServeProcess(["--db", night.db], in: dir)
        let none = try curl(server.base + "/v1/calls")
        #expect(none.status == 401 && none.header("WWW-Authenticate") == "Bearer")
        #expect((none.json["error"] as? String)?.contains("token") == true, "\(none.text)")
        #expect(try curl(server.base + "/v1/calls", token: "yusu_" + String(repeating: "0", count: 64)).status == 401)
        #expect(try curl(server.base + "/v1/calls", headers: ["Authorization: Basic Zm9vOmJhcg=="]).status == 401)
        #expect(try curl(server.base + "/v1/calls", token: extra).status == 200)
        // Read-only: views, cannot upload or stream.
        let demo = night.demoPath
        let readUpload = try curl(server.base + "/v1/score", method: "POST", token: night.readToken, bodyFile: demo)
        #expect(readUpload.status == 403, "\(readUpload.text)")
        // The dashboard's cookie reads pages; with a write token in it, it still cannot post.
        let jar = dir.file("jar")
        let login = try curl(server.base + "/login?token=\(night.writeToken)&next=/calls", saveCookies: jar)
        #expect(login.status == 303 && login.header("Location") == "/calls")
        #expect(
            login.header("Set-Cookie")?.contains("HttpOnly") == true
                && login.header("Set-Cookie")?.contains("SameSite=Strict") == true)
        #expect(try curl(server.base + "/calls", cookies: jar).status == 200)
        #expect(try curl(server.base + "/v1/score", method: "POST", bodyFile: demo, cookies: jar).status == 403)
        // The login form posts; its target keeps to ASCII in the header (no CR/LF either).
        let posted = try CLI.run(
            executable: URL(fileURLWithPath: "/usr/bin/curl"),
            [
                "-s", "-i", "-X", "POST", "--data-urlencode", "token=\(night.readToken)",
                "--data-urlencode", "next=/calls?agent=王芳\r\nSet-Cookie: x=1", server.base + "/login",
            ])
        #expect(
            posted.stdout.contains("303 See Other")
                && posted.stdout.contains("Location: /calls?agent=%E7%8E%8B%E8%8A%B3%0D%0ASet-Cookie:%20x=1"),
            "\(posted.stdout.prefix(400))")
        #expect(!posted.stdout.contains("\r\nSet-Cookie: x=1"))
        // An open redirect is not: next must be a path on this server.
        #expect(
            try curl(server.base + "/login?token=\(night.readToken)&next=//evil.example/x").header("Location") == "/")
        let badLogin = try curl(server.base + "/login?token=nope")
        #expect(badLogin.status == 401 && badLogin.text.contains("unknown or revoked"))
        // A page without a token answers 401 with the login form.
        let page = try curl(server.base + "/")
        #expect(page.status == 401 && page.text.contains("name=\"token\""))
        // Said in words: a login page, not a status code or a header to send; no "Log out" while
        // logged out.
        #expect(page.text.contains("<h1>登录 Log in</h1>") && !page.text.contains("<h1>401"), "\(page.text)")
        #expect(!page.text.contains("Bearer") && !page.text.contains("Log out"), "\(page.text)")
        let loginPage = try curl(server.base + "/login")
        #expect(!badLogin.text.contains("Log out") && !loginPage.text.contains("Log out"))
        // Revoked: refused within the cache's two seconds.
        let revoke = try CLI.run(["token", "revoke", "--db", night.db, "to revoke"])
        #expect(revoke.status == 0 && revoke.stdout.contains("revoked 1 token"))
        let list = try CLI.run(["token", "list", "--db", night.db])
        #expect(list.stdout.contains("to revoke") && !list.stdout.contains(extra))
        usleep(2_200_000)
        #expect(try curl(server.base + "/v1/calls", token: extra).status == 401)
        #expect(try CLI.run(["token", "revoke", "--db", night.db, "to revoke"]).status == 1)
        // Open paths.
        #expect(try curl(server.base + "/healthz").json["status"] as? String == "ok")
        // A second server on the same port says so, and exits 1.
        let clash = try CLI.run(["serve", "--db", night.db, "--listen", "127.0.0.1:\(server.port)"])
        #expect(
            clash.status == 1
                && clash.stderr.contains("cannot listen on 127.0.0.1:\(server.port): the address is in use"),
            "\(clash.stderr)")
        #expect(server.stop() == 0)
        let log = server.logText
        #expect(
            log.contains("path=/v1/calls") || log.contains("\"path\""),
            "the log has no request lines: \(log.prefix(400))")
        for token in [night.writeToken, night.readToken, extra] {
            #expect(!log.contains(token), "a token is in the log")
            #expect(!log.contains(String(token.dropFirst(5).prefix(16))), "part of a token is in the log")
        }
        // The database keeps hashes only.
        let stored = try night.sql("SELECT group_concat(token_sha256) FROM tokens", as: String.self) ?? ""
        #expect(!stored.contains(extra.dropFirst(5)) && stored.count >= 64 * 3)
    }

    @Test(
        """
        the API reads the night as yusu report does: the same JSON, filters that agree with the database, runs \
        with failed files
        """
    )
    func api() throws {
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db], in: dir)
        defer { server.stop() }
        let t = night.readToken
        // The night summary: byte for byte what `yusu report --format json` prints.
        let report = try curl(server.base + "/v1/report", token: t)
        let cli = try CLI.run(["report", "--db", night.db, "--format", "json"])
        #expect(report.status == 200 && report.text == cli.stdout, "the served report differs from yusu report")
        let since = try curl(server.base + "/v1/report?since=2026-11-16&worst=1", token: t)
        #expect(
            since.text
                == (try CLI.run([
                    "report", "--db", night.db, "--format", "json", "--since", "2026-11-16", "--worst", "1",
                ])).stdout)

        let all = try curl(server.base + "/v1/calls?per_page=500", token: t)
        let total = try night.sql("SELECT COUNT(*) FROM calls", as: Int.self) ?? -1
        #expect(
            all.status == 200 && all.json["total"] as? Int == total
                && (all.json["calls"] as? [[String: Any]])?.count == total)
        // By agent (Chinese, percent-encoded), by rule failed, by score, by day.
        let wang = try curl(server.base + "/v1/calls?agent=\(percent("王芳"))", token: t)
        #expect(
            wang.json["total"] as? Int
                == (try night.sql("SELECT COUNT(*) FROM calls WHERE agent_id = '王芳'", as: Int.self)))
        let failedDuration = try curl(server.base + "/v1/calls?rule_failed=call_duration&per_page=500", token: t)
        let expected =
            try night.sql("SELECT COUNT(*) FROM verdicts WHERE rule = 'call_duration' AND passed = 0", as: Int.self)
            ?? -1
        let listed = failedDuration.json["calls"] as? [[String: Any]] ?? []
        #expect(listed.count == expected && expected > 0)
        #expect(listed.allSatisfy { ($0["failed_rules"] as? [String])?.contains("call_duration") == true })
        let scored = try curl(server.base + "/v1/calls?min_score=50&max_score=80&per_page=500", token: t)
        let inRange = try night.sql("SELECT COUNT(*) FROM calls WHERE score >= 50 AND score <= 80", as: Int.self) ?? -1
        #expect(scored.json["total"] as? Int == inRange)
        #expect(
            (scored.json["calls"] as? [[String: Any]] ?? []).allSatisfy {
                (50...80).contains($0["score"] as? Double ?? -1)
            })
        let lastDay = try curl(server.base + "/v1/calls?from=2026-11-23&to=2026-11-23&per_page=500", token: t)
        #expect(
            lastDay.json["total"] as? Int
                == (try night.sql("SELECT COUNT(*) FROM calls WHERE call_date = '2026-11-23'", as: Int.self)))
        // Paging: pages do not overlap and cover the list.
        let p1 = try curl(server.base + "/v1/calls?per_page=3&page=1", token: t).json["calls"] as? [[String: Any]] ?? []
        let p2 = try curl(server.base + "/v1/calls?per_page=3&page=2", token: t).json["calls"] as? [[String: Any]] ?? []
        #expect(
            p1.count == 3 && p2.count == 3
                && Set(p1.compactMap { $0["id"] as? Int }).isDisjoint(with: p2.compactMap { $0["id"] as? Int }))
        // Bad parameters name themselves.
        for (query, word) in [
            ("from=yesterday", "from"), ("rule_failed=bogus", "rule_failed"), ("per_page=0", "per_page"),
            ("min_score=abc", "min_score"), ("per-page=5", "unknown parameter 'per-page': GET /v1/calls takes"),
            ("page=1&page=2", "page is given more than once"),
        ] {
            let bad = try curl(server.base + "/v1/calls?" + query, token: t)
            #expect(
                bad.status == 400 && (bad.json["error"] as? String)?.hasPrefix(word) == true,
                "\(query): \(bad.status) \(bad.text)")
        }
        // One call: its measures, verdicts, utterances and events as stored.
        let demoId = try night.callRow(callId: "demo")
        let call = try curl(server.base + "/v1/calls/\(demoId)", token: t).json
        #expect(
            (call["agent"] as? [String: Any])?["syllables"] as? Int
                == (try night.sql("SELECT agent_syllables FROM calls WHERE call_id = 'demo'", as: Int.self)))
        #expect((call["verdicts"] as? [[String: Any]])?.count == RuleBookCount.value)
        #expect(
            (call["utterances"] as? [Any])?.count
                == (try night.sql(
                    "SELECT COUNT(*) FROM utterances u JOIN calls c ON c.id = u.call_row WHERE c.call_id = 'demo'",
                    as: Int.self)))
        #expect(
            (call["events"] as? [Any])?.count
                == (try night.sql(
                    "SELECT COUNT(*) FROM events e JOIN calls c ON c.id = e.call_row WHERE c.call_id = 'demo'",
                    as: Int.self)))
        #expect(call["recording"] as? String == "/v1/calls/\(demoId)/recording")
        #expect(try curl(server.base + "/v1/calls/999999", token: t).status == 404)
        #expect(try curl(server.base + "/v1/calls/abc", token: t).status == 404)
        // Agents and a weekly trend: five Mondays.
        let agents = try curl(server.base + "/v1/agents", token: t).json["agents"] as? [[String: Any]] ?? []
        #expect(
            Set(agents.compactMap { $0["agent_id"] as? String }) == [
                "王芳", ServedNight.hostileAgent, ServedNight.quotedAgent,
            ])
        let trend = try curl(server.base + "/v1/agents/\(percent("王芳"))/trend?by=week", token: t).json
        let points = trend["points"] as? [[String: Any]] ?? []
        #expect(points.compactMap { $0["period"] as? String } == night.days, "\(trend)")
        #expect(points.last?["calls"] as? Int == 2)  // c-4 and the demo (the missing file is no call)
        let daily =
            try curl(server.base + "/v1/agents/\(percent("王芳"))/trend?by=day&since=2026-11-16", token: t).json["points"]
            as? [Any] ?? []
        #expect(daily.count == 2)
        // An agent with no call at all is the spec's 404, not an empty trend.
        let nobody = try curl(server.base + "/v1/agents/nobody/trend", token: t)
        #expect(nobody.status == 404 && nobody.text.contains("no calls of agent 'nobody'"), "\(nobody.status)")
        // A route with a capture knows its operation too, and an operation without
        // parameters takes none.
        for (query, said) in [
            (
                "/v1/agents/nobody/trend?by=week&bogus=1",
                "unknown parameter 'bogus': GET /v1/agents/{agent}/trend takes by, since"
            ),
            ("/v1/calls/\(demoId)?full=1", "unknown parameter 'full': GET /v1/calls/{id} takes no parameters"),
        ] {
            let refused = try curl(server.base + query, token: t)
            #expect(refused.status == 400 && refused.json["error"] as? String == said, "\(query): \(refused.text)")
        }
        // Nights, with the file that failed and why.
        let runs = try curl(server.base + "/v1/runs", token: t).json["runs"] as? [[String: Any]] ?? []
        let failed = runs.first?["failed_files"] as? [[String: Any]] ?? []
        #expect(failed.count == 1 && failed.first?["path"] as? String == "/nonexistent/missing.wav")
        #expect(
            failed.first?["reason"] as? String
                == (try night.sql("SELECT failure_reason FROM calls WHERE call_id = 'gone'", as: String.self)))
        #expect(runs.first?["files_failed"] as? Int == 1)
    }

    @Test(
        """
        recordings: whole, byte ranges for seeking, 416 outside the file, and no client path ever reaches the file \
        system
        """
    )
    func recordings() throws {
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db], in: dir)
        defer { server.stop() }
        let t = night.readToken
        let id = try night.callRow(callId: "demo")
        let file = try Data(contentsOf: URL(fileURLWithPath: night.demoPath))
        let whole = try curl(server.base + "/v1/calls/\(id)/recording", token: t)
        #expect(
            whole.status == 200 && whole.body == file && whole.header("Accept-Ranges") == "bytes"
                && whole.header("Content-Type") == "audio/wav")
        // HEAD: the GET's status and headers, no body; for the API, the pages and the health check.
        for path in ["/v1/calls/\(id)/recording", "/healthz", "/"] {
            let r = try CLI.run(
                executable: URL(fileURLWithPath: "/usr/bin/curl"),
                ["-s", "-I", "--max-time", "20", "-H", "Authorization: Bearer \(t)", server.base + path])
            #expect(r.stdout.hasPrefix("HTTP/1.1 200"), "HEAD \(path): \(r.stdout.prefix(200))")
            if path.hasSuffix("recording") {
                #expect(r.stdout.lowercased().contains("content-length: \(file.count)"), "\(r.stdout)")
            }
        }
        // HEAD is the GET's operation: a name it does not take is refused the same way.
        let headRefused = try CLI.run(
            executable: URL(fileURLWithPath: "/usr/bin/curl"),
            ["-s", "-I", "--max-time", "20", "-H", "Authorization: Bearer \(t)", server.base + "/v1/agents?bogus=1"])
        #expect(headRefused.stdout.hasPrefix("HTTP/1.1 400"), "\(headRefused.stdout.prefix(200))")
        let mid = try curl(server.base + "/v1/calls/\(id)/recording", token: t, headers: ["Range: bytes=1000-1999"])
        #expect(
            mid.status == 206 && mid.body == file[1000..<2000]
                && mid.header("Content-Range") == "bytes 1000-1999/\(file.count)")
        let tail = try curl(server.base + "/v1/calls/\(id)/recording", token: t, headers: ["Range: bytes=-500"])
        #expect(tail.status == 206 && tail.body == file.suffix(500))
        let open = try curl(server.base + "/v1/calls/\(id)/recording", token: t, headers: ["Range: bytes=900000-"])
        #expect(open.status == 206 && open.body == file[900_000...])
        let outside = try curl(server.base + "/v1/calls/\(id)/recording", token: t, headers: ["Range: bytes=99999999-"])
        #expect(outside.status == 416 && outside.header("Content-Range") == "bytes */\(file.count)")
        // Only ids; the failed call has no recording; paths from the client are not paths.
        let gone = try night.callRow(callId: "gone")
        #expect(try curl(server.base + "/v1/calls/\(gone)/recording", token: t).status == 404)
        for path in [
            "/v1/calls/../../etc/passwd/recording", "/v1/calls/%2e%2e%2fetc%2fpasswd/recording",
            "/v1/calls/1%2F..%2F..%2Fetc%2Fpasswd/recording",
        ] {
            let r = try curl(server.base + path, token: t)
            #expect(r.status == 404 && !r.text.contains("root:"), "\(path): \(r.status)")
        }
    }

    @Test(
        """
        uploads: the score document; bad audio is a 4xx with the CLI's reason and nothing stored; store=true keeps \
        the call and its recording
        """
    )
    func uploads() throws {
        let dir = TemporaryDirectory()
        let recordings = dir.file("kept")
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        let db = dir.file("r.sqlite")
        // Creates nothing: the folder is missing.
        _ = try CLI.run(["batch", dir.file("empty-archive"), "--db", db, "--quiet"])
        let token = try CLI.run(["token", "create", "--db", db, "--name", "u", "--scope", "write"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServeProcess(
            ["--db", db, "--recordings", recordings, "--max-duration-s", "120", "--max-upload-mb", "2"], in: dir)
        defer { server.stop() }
        let demo = night.demoPath
        let good = try curl(server.base + "/v1/score?name=demo_call.wav", method: "POST", token: token, bodyFile: demo)
        var served = good.json
        var local =
            (try JSONSerialization.jsonObject(with: Data(try CLI.run(["score", demo, "--format", "json"]).stdout.utf8)))
            as? [String: Any] ?? [:]
        #expect(good.status == 200 && served["file"] as? String == "demo_call.wav")
        served["file"] = nil
        local["file"] = nil
        #expect(NSDictionary(dictionary: served).isEqual(to: local), "the uploaded score differs from yusu score's")

        func calls() throws -> Int {
            try DatabaseQueue(path: db).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM calls") } ?? -1
        }
        // Bad audio: the CLI's own reason, a 4xx, nothing stored.
        var junk = Data(count: 3000)
        for i in junk.indices { junk[i] = UInt8((i * 7919) % 251) }
        try junk.write(to: URL(fileURLWithPath: dir.file("junk.bin")))
        let wav = try Data(contentsOf: URL(fileURLWithPath: demo))
        try wav.prefix(60_000).write(to: URL(fileURLWithPath: dir.file("cut.wav")))
        let six = try writeRecording(
            dir.file("six.wav"),
            channels: Array(
                repeating: Synth.sine(frequencyHz: 200, amplitude: 0.3, seconds: 2, rateHz: 8000), count: 6),
            rateHz: 8000)
        let long = try writeRecording(
            dir.file("long.wav"), channels: [Synth.noise(seconds: 130, rateHz: 8000, rmsDbov: -30, seed: 1)],
            rateHz: 8000)
        try Data(count: 3 << 20).write(to: URL(fileURLWithPath: dir.file("big.bin")))
        for (file, status) in [
            (dir.file("junk.bin"), 422), (dir.file("cut.wav"), 422), (six, 422), (long, 413),
            (dir.file("big.bin"), 413),
        ] {
            let name = (file as NSString).lastPathComponent
            let r = try curl(
                server.base + "/v1/score?store=true&agent_id=a&name=\(name)", method: "POST", token: token,
                bodyFile: file)
            #expect(r.status == status, "\(name): \(r.status) \(r.text)")
            let message = r.json["error"] as? String ?? ""
            if status == 422 || name == "long.wav" {
                let cli = try CLI.run(["score", file, "--max-duration-s", "120"])
                let reason =
                    cli.stderr.components(separatedBy: file + ": ").last?.trimmingCharacters(
                        in: .whitespacesAndNewlines) ?? "?"
                #expect(
                    cli.status == 1 && message == "\(name): \(reason)", "\(name): '\(message)' vs the CLI's '\(reason)'"
                )
            } else {
                #expect(message.contains("over the limit"), "\(message)")
            }
        }
        // Over the limit without a declared length (chunked): 413 too, never a 500.
        try Data(count: 3 << 20).write(to: URL(fileURLWithPath: dir.file("big.bin")))
        let chunked = try curl(
            server.base + "/v1/score?name=big.wav", method: "POST", token: token,
            headers: ["Transfer-Encoding: chunked"], bodyFile: dir.file("big.bin"))
        #expect(
            chunked.status == 413 && (chunked.json["error"] as? String)?.contains("--max-upload-mb") == true,
            "\(chunked.status) \(chunked.text)")
        let empty = try curl(server.base + "/v1/score", method: "POST", token: token)
        #expect(empty.status == 400)
        #expect(try calls() == 0, "a refused upload left a row")
        #expect(try FileManager.default.contentsOfDirectory(atPath: recordings).isEmpty)
        // Kept: 201, Location, the call in the API with its recording, the same bytes.
        // A day that does not exist is refused, as batch refuses it, and nothing is stored.
        let noSuchDay = try curl(
            server.base + "/v1/score?store=true&agent_id=x&date=2026-13-45", method: "POST", token: token,
            bodyFile: demo)
        #expect(
            noSuchDay.status == 400 && (noSuchDay.json["error"] as? String)?.contains("real day") == true,
            "\(noSuchDay.text)")
        #expect(try curl(server.base + "/v1/report?since=2026-02-30", token: token).status == 400)
        #expect(try calls() == 0, "a refused day left a row")
        let missingAgent = try curl(server.base + "/v1/score?store=true", method: "POST", token: token, bodyFile: demo)
        #expect(missingAgent.status == 400 && (missingAgent.json["error"] as? String)?.contains("agent_id") == true)
        let kept = try curl(
            server.base + "/v1/score?store=true&agent_id=\(percent("李雷"))&call_id=up-1&date=2026-11-28&name=call.wav",
            method: "POST", token: token, bodyFile: demo)
        #expect(kept.status == 201, "\(kept.text)")
        let location = kept.header("Location") ?? ""
        #expect(location.hasPrefix("/v1/calls/"))
        let stored = try curl(server.base + location, token: token).json
        #expect(
            stored["agent_id"] as? String == "李雷" && stored["call_id"] as? String == "up-1"
                && stored["date"] as? String == "2026-11-28")
        #expect(try curl(server.base + location + "/recording", token: token).body == wav)
        // The score as every report spells it: one decimal (52.6, not 52.63157894736842).
        let score = stored["score"] as? Double ?? -1
        #expect(score > 0 && abs(score * 10 - (score * 10).rounded()) < 1e-9, "score \(score)")
        #expect(try calls() == 1)
        // The same recording again is the same call, not a second one, at the same address:
        // the first Location still answers.
        let again = try curl(
            server.base + "/v1/score?store=true&agent_id=\(percent("李雷"))&call_id=up-1&date=2026-11-28&name=call.wav",
            method: "POST", token: token, bodyFile: demo)
        #expect(try calls() == 1)
        #expect(again.status == 201 && again.header("Location") == location, "\(again.headers)")
        #expect(try curl(server.base + location, token: token).status == 200)
        // A server without a recordings folder says so.
        let plain = try ServeProcess(["--db", db], in: dir)
        defer { plain.stop() }
        #expect(
            try curl(plain.base + "/v1/score?store=true&agent_id=x", method: "POST", token: token, bodyFile: demo)
                .status == 409)
        // Stopped, the servers leave the file whole on its own (no WAL to copy with it).
        #expect(plain.stop() == 0 && server.stop() == 0)
        let mode = try DatabaseQueue(path: db).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "delete", "journal mode \(mode ?? "?") after the servers stopped")
    }

    @Test(
        """
        bounded scoring: a full queue answers 503 with Retry-After; eight concurrent uploads within the queue are \
        all scored
        """
    )
    func concurrency() throws {
        let dir = TemporaryDirectory()
        let long = try writeRecording(
            dir.file("call.wav"), channels: HardeningCLITests.call(seconds: 240), rateHz: 8000)
        let narrow = try ServeProcess(["--db", night.db, "--jobs", "1", "--queue", "0"], in: dir)
        let token = night.writeToken
        let demo = night.demoPath
        let answers = inParallel(4) { _ in
            try? curl(narrow.base + "/v1/score", method: "POST", token: token, bodyFile: long)
        }
        let statuses = answers.map { $0?.status ?? -1 }
        let retry = answers.map { $0?.header("Retry-After") }
        narrow.stop()
        #expect(statuses.contains(200) && statuses.contains(503), "\(statuses)")
        #expect(zip(statuses, retry).allSatisfy { $0.0 != 503 || $0.1 == "5" })
        let wide = try ServeProcess(["--db", night.db, "--jobs", "2", "--queue", "16"], in: dir)
        defer { wide.stop() }
        let eight = inParallel(8) { _ -> Int in
            let r = try? curl(wide.base + "/v1/score", method: "POST", token: token, bodyFile: demo)
            return (r?.status ?? -1) == 200 && (r?.json["verdicts"] as? [Any])?.count == RuleBookCount.value
                ? 200 : (r?.status ?? -1)
        }
        #expect(eight.allSatisfy { $0 == 200 }, "\(eight)")
        let metrics = try curl(wide.base + "/metrics").text
        #expect(metrics.contains("yusu_uploads_scored_total 8"), "\(metrics.prefix(600))")
        // Every metric says what it counts.
        for name in ["yusu_uploads_scored_total", "yusu_live_calls", "yusu_scoring_busy_total"] {
            #expect(metrics.contains("# HELP \(name) "), "\(name): \(metrics.prefix(600))")
        }
    }

    @Test("SIGTERM during a score: the upload still gets its document, then the server exits 0")
    func gracefulShutdown() throws {
        let dir = TemporaryDirectory()
        let long = try writeRecording(
            dir.file("call.wav"), channels: HardeningCLITests.call(seconds: 600), rateHz: 8000)
        let server = try ServeProcess(["--db", night.db], in: dir)
        let box = AnswerBox()
        let done = DispatchSemaphore(value: 0)
        let token = night.writeToken
        let base = server.base
        DispatchQueue.global().async {
            box.answer = try? curl(base + "/v1/score", method: "POST", token: token, bodyFile: long)
            done.signal()
        }
        var scoring = false
        for _ in 0..<400 where !scoring {
            scoring = (try? curl(server.base + "/healthz").json["scoring"] as? Int) == 1
            if !scoring { usleep(20_000) }
        }
        #expect(scoring, "the upload never started scoring")
        kill(server.process.processIdentifier, SIGTERM)
        done.wait()
        let answer = box.answer
        #expect(
            answer?.status == 200 && (answer?.json["verdicts"] as? [Any])?.count == RuleBookCount.value,
            "\(answer?.status ?? -1)")
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
    }

    @Test(
        """
        pages in Chromium: overview, agent, call list and call page show the night's numbers and names, in \
        Chinese; screenshots paint
        """,
        .enabled(if: chromiumPath != nil, "no Chromium (Debian: chromium)"))
    func pagesInABrowser() throws {
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db], in: dir)
        defer { server.stop() }
        func open(_ path: String, shot: String) throws -> String {
            let url = server.base + "/login?token=\(night.readToken)&next=\(percent(path))"
            let profile = dir.file("profile-\(shot)")
            let base = [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
                "--window-size=1366,900",
            ]
            let dom = try CLI.run(executable: URL(fileURLWithPath: chromiumPath!), base + ["--dump-dom", url])
            #expect(dom.status == 0, "\(dom.stderr.suffix(300))")
            let png = dir.file(shot + ".png")
            _ = try CLI.run(executable: URL(fileURLWithPath: chromiumPath!), base + ["--screenshot=\(png)", url])
            let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
            #expect(size > 30_000, "\(shot): screenshot of \(size) bytes")
            if let keep = ProcessInfo.processInfo.environment["YUSU_SCREENSHOTS"] {
                try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                try? FileManager.default.removeItem(atPath: keep + "/\(shot).png")
                try? FileManager.default.copyItem(atPath: png, toPath: keep + "/\(shot).png")
            }
            return dom.stdout
        }
        // Overview: the last night, pass rates per rule as the database counts them.
        let overview = try open("/", shot: "overview")
        #expect(overview.contains("<b id=\"last-night\">2026-11-23</b>"))
        let passLast =
            try night.sql(
                """
                SELECT 100.0 * SUM(v.passed) / COUNT(v.passed) FROM verdicts v JOIN calls c ON c.id = v.call_row
                WHERE v.rule = 'speech_rate' AND c.call_date >= '2026-11-23'
                """, as: Double.self) ?? -1
        #expect(overview.contains("<tr data-rule=\"speech_rate\"><td><span class=\"zh\">语速适中</span>"))
        let row =
            overview.components(separatedBy: "<tr data-rule=\"speech_rate\">").dropFirst().first?.components(
                separatedBy: "</tr>"
            ).first ?? ""
        #expect(row.contains(">\(Int(passLast.rounded()))%<"), "speech_rate row \(row) vs \(passLast)")
        #expect(overview.contains("/nonexistent/missing.wav"))
        #expect(overview.contains("王芳"))
        // Who needs coaching: agents ranked worst first by their 7 nights' mean score, every number a link
        // to the calls behind it, every rule to coach on a link to the calls that failed it.
        let agentsTable =
            overview.components(separatedBy: "<table id=\"agents\"").dropFirst().first?.components(
                separatedBy: "</table>"
            ).first ?? ""
        let agentRows = agentsTable.components(separatedBy: "<tr>").dropFirst(2)
        #expect(agentRows.count >= 3, "\(agentsTable.prefix(500))")
        let weekScores: [Double] = agentRows.compactMap { row in
            let cells = row.components(separatedBy: "<td")
            guard cells.count > 4, let m = cells[4].firstMatch(of: /· ([0-9.]+)</) else { return nil }
            return Double(m.output.1)
        }
        #expect(weekScores == weekScores.sorted() && !weekScores.isEmpty, "not worst first: \(weekScores)")
        for row in agentRows {
            #expect(row.contains("href=\"/calls?agent="), "a row without links to its calls: \(row.prefix(300))")
        }
        #expect(agentsTable.contains("rule_failed="), "no rule to coach on links to its failed calls")
        #expect(agentsTable.contains("class=\"pct bad\"") || agentsTable.contains("class=\"pct fair\""))
        // The agent: a weekly line per rule, five points, worst calls linked.
        let agent = try open("/agents/\(percent("王芳"))", shot: "agent")
        #expect(agent.contains("<span id=\"agent\">王芳</span>"))
        let scoreRow =
            agent.components(separatedBy: "<tr data-rule=\"score\">").dropFirst().first?.components(
                separatedBy: "</tr>"
            ).first ?? ""
        #expect(
            scoreRow.components(separatedBy: "<circle").count - 1 == 5 && scoreRow.contains("<polyline"),
            "\(scoreRow.prefix(300))")
        // The trend has its axes and week labels, and says each value (a score as a score, not a percentage).
        #expect(
            scoreRow.contains(">11-23</text>") && scoreRow.contains(">100</text>") && !scoreRow.contains("%"),
            "\(scoreRow.prefix(600))")
        #expect(agent.contains("class=\"value\"") && agent.contains(">100%</text>"))
        #expect(agent.contains("href=\"/calls/\(try night.callRow(callId: "demo"))\""))
        // The call list, filtered as the API is.
        let list = try open("/calls?agent=\(percent("王芳"))&rule_failed=call_duration", shot: "calls")
        let n =
            try night.sql(
                """
                SELECT COUNT(*) FROM calls c JOIN verdicts v ON v.call_row = c.id WHERE c.agent_id = '王芳' AND \
                v.rule = 'call_duration' AND v.passed = 0
                """,
                as: Int.self) ?? -1
        #expect(list.contains("<p class=\"meta\" id=\"total\">\(n) calls</p>"), "expected \(n) calls")
        #expect(list.components(separatedBy: "data-call-row=").count - 1 == n)
        // A misspelt filter in a hand-edited address is said, not taken for a filter that matched.
        #expect(!list.contains("id=\"ignored\""))
        let misspelt = try open("/calls?agnet=\(percent("王芳"))&rule_failed=call_duration", shot: "calls-ignored")
        #expect(
            misspelt.contains("<p class=\"warning\" id=\"ignored\">未知的筛选条件，已忽略 Not filters here, ignored: agnet</p>"),
            "\(misspelt.prefix(1200))")
        // Each failed rule's badge opens its call at the first moment of its evidence, and the page marks it.
        let fast = try open("/calls?rule_failed=speech_rate", shot: "calls-rate")
        let badge = fast.firstMatch(of: /href="\/calls\/([0-9]+)#t=([0-9.]+)"[^>]*>\s*语速适中/)
        #expect(badge != nil, "no speech-rate badge with its moment: \(fast.prefix(600))")
        if let badge {
            let first =
                try night.sql(
                    "SELECT verdicts_json FROM calls WHERE id = \(badge.output.1)", as: String.self
                ).map { StoredVerdict.list($0).first { $0.rule == "speech_rate" }?.evidence.first?.start_s }
            #expect(first.flatMap { $0 }.map { String(format: "%.2f", $0) } == String(badge.output.2))
            let opened = try open("/calls/\(badge.output.1)#t=\(badge.output.2)", shot: "call-at-moment")
            #expect(
                opened.contains("class=\"t current\" href=\"#t=\(badge.output.2)\""),
                "the evidence at the moment is not marked")
        }
        // The call page: the report, its player on the server's recording.
        let id = try night.callRow(callId: "demo")
        let call = try open("/calls/\(id)", shot: "call")
        #expect(call.contains("语速适中") && call.contains("src=\"/v1/calls/\(id)/recording\""))
        let syllables = try night.sql("SELECT agent_syllables FROM calls WHERE id = \(id)", as: Int.self) ?? -1
        #expect(call.contains("\(syllables)"), "the call page does not show its \(syllables) syllables")
    }

    @Test("escaping: ids and file names with markup, quotes and ../ are text on every page, never markup or paths")
    func escaping() throws {
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db], in: dir)
        defer { server.stop() }
        let jar = dir.file("jar")
        _ = try curl(server.base + "/login?token=\(night.readToken)", saveCookies: jar)
        let hostileId = try night.callRow(callId: ServedNight.hostileCall)
        let pages = [
            "/", "/calls", "/calls?agent=\(percent(ServedNight.hostileAgent))",
            "/agents/\(percent(ServedNight.hostileAgent))",
            "/agents/\(percent(ServedNight.quotedAgent))", "/calls/\(hostileId)", "/runs",
        ]
        for page in pages {
            let r = try curl(server.base + page, cookies: jar)
            #expect(r.status == 200, "\(page): \(r.status)")
            #expect(!r.text.contains("<script>alert(1)"), "\(page): agent id as markup")
            #expect(!r.text.contains("<img src=x"), "\(page): call id as markup")
            #expect(!r.text.contains("<b>.wav"), "\(page): file name as markup")
        }
        let list = try curl(server.base + "/calls", cookies: jar).text
        #expect(
            list.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                && list.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        #expect(list.contains("href=\"/agents/%3Cscript%3Ealert%281%29%3C%2Fscript%3E\""))
        // In the API the same strings are JSON strings; < > & are escaped there too.
        let api = try curl(server.base + "/v1/calls?agent=\(percent(ServedNight.hostileAgent))", token: night.readToken)
        #expect(api.text.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"))
        #expect((api.json["calls"] as? [[String: Any]])?.first?["agent_id"] as? String == ServedNight.hostileAgent)
        // The recording of the call whose path has ../ in it is the file the batch read, by id.
        let r = try curl(server.base + "/v1/calls/\(hostileId)/recording", token: night.readToken)
        let original = try Data(contentsOf: URL(fileURLWithPath: night.hostilePath))
        #expect(r.status == 200 && r.body == original)
        if chromiumPath != nil {
            let dom = try CLI.run(
                executable: URL(fileURLWithPath: chromiumPath!),
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(dir.file("p"))",
                    "--dump-dom", server.base + "/login?token=\(night.readToken)&next=/calls",
                ])
            #expect(
                dom.stdout.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !dom.stdout.contains("<img src=\"x\""),
                "Chromium built markup from an id")
        }
    }

    @Test(
        """
        live over WebSocket: lines as the call streams, the board lists it, the summary is score's document; \
        garbage closes with a reason and disturbs no other call
        """
    )
    func live() async throws {
        let dir = TemporaryDirectory()
        // A copy of the night: the finished call is kept in it, and the other tests' lists stay as they are.
        let db = dir.file("night.sqlite")
        try FileManager.default.copyItem(atPath: night.db, toPath: db)
        try FileManager.default.createDirectory(atPath: dir.file("kept"), withIntermediateDirectories: true)
        let server = try ServeProcess(["--db", db, "--recordings", dir.file("kept")], in: dir)
        defer { server.stop() }
        // A second instance on the same database: its board shows the first one's call.
        let other = try ServeProcess(["--db", db], in: dir)
        defer { other.stop() }
        let otherBase = other.base
        let wav = try Data(contentsOf: URL(fileURLWithPath: night.demoPath))
        let logger = Logger(label: "test")
        let config = WebSocketClientConfiguration(
            maxFrameSize: 1 << 20, additionalHeaders: [.authorization: "Bearer \(night.writeToken)"])
        let lines = LinesBox()
        let boardSeen = LinesBox()
        let boardPage = LinesBox()
        let shot = dir.file("live-board.png")
        let profile = dir.file("profile-live")
        let base = server.base
        let readToken = night.readToken
        // A bad call alongside: a WAV stream that is not a WAV.
        async let garbage: WebSocketCloseFrame? = WebSocketClient.connect(
            url: "ws://127.0.0.1:\(server.port)/v1/live?agent_id=g", configuration: config, logger: logger
        ) { inbound, outbound, _ in
            try await outbound.write(.binary(ByteBuffer(bytes: Array(repeating: UInt8(0x41), count: 4000))))
            for try await _ in inbound.messages(maxSize: 1 << 20) {}
        }
        let close = try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(server.port)/v1/live?agent_id=\(percent("王芳"))&call_id=live-1",
            configuration: config, logger: logger
        ) { inbound, outbound, _ in
            var offset = 0
            var sent = 0
            while offset < wav.count {
                let end = min(wav.count, offset + 1600)
                try await outbound.write(.binary(ByteBuffer(bytes: wav[offset..<end])))
                offset = end
                sent += 1
                // 53 s in: after the coach's too_fast (at 48.9 s of the demo), before the end (58.4 s).
                if sent == 530 {
                    // The board catches up with what was sent (its rows are written at most once a second).
                    var board = ""
                    for _ in 0..<50 where !board.contains("\"rate_state\":\"fast\"") {
                        board = try curl(base + "/v1/live/calls", token: readToken).text
                        if !board.contains("\"rate_state\":\"fast\"") { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    boardSeen.add(board)
                    boardSeen.add(try curl(otherBase + "/v1/live/calls", token: readToken).text)
                    if let chromium = chromiumPath {
                        // The board in a browser, mid-call: the call's row, its audio time.
                        let args = [
                            "--headless", "--no-sandbox", "--disable-gpu",
                            "--user-data-dir=\(profile)",
                            "--window-size=1366,700", "--virtual-time-budget=4000",
                            base + "/login?token=\(readToken)&next=/live",
                        ]
                        let dom = try CLI.run(executable: URL(fileURLWithPath: chromium), ["--dump-dom"] + args)
                        boardPage.add(dom.stdout)
                        _ = try CLI.run(executable: URL(fileURLWithPath: chromium), ["--screenshot=\(shot)"] + args)
                        if let keep = ProcessInfo.processInfo.environment["YUSU_SCREENSHOTS"] {
                            try? FileManager.default.removeItem(atPath: keep + "/live-board.png")
                            try? FileManager.default.copyItem(atPath: shot, toPath: keep + "/live-board.png")
                        }
                    }
                }
            }
            try await outbound.write(.text("end"))
            for try await message in inbound.messages(maxSize: 16 << 20) {
                if case .text(let t) = message { lines.add(t) }
            }
        }
        #expect(close?.closeCode == .normalClosure)
        let bad = try await garbage
        #expect(bad?.closeCode == .unacceptableData && (bad?.reason ?? "").count > 10, "\(String(describing: bad))")
        let all = lines.all
        #expect(all.first?.contains("\"type\":\"started\"") == true)
        #expect(all.filter { $0.contains("\"type\":\"utterance\"") }.count >= 5)
        #expect(
            boardSeen.all.count == 2
                && boardSeen.all.allSatisfy {
                    $0.contains("\"call_id\":\"live-1\"") && $0.contains("\"agent_id\":\"王芳\"")
                },
            "both instances' boards list the call: \(boardSeen.all)")
        // The coach has said too_fast: the board says so with the running rate, on every instance.
        for board in boardSeen.all {
            let calls = (try JSONSerialization.jsonObject(with: Data(board.utf8)) as? [String: Any])?["calls"]
            let call = (calls as? [[String: Any]])?.first { $0["call_id"] as? String == "live-1" } ?? [:]
            #expect(
                call["rate_state"] as? String == "fast" && ((call["last_rate_cpm"] as? Double) ?? 0) > 120
                    && (call["alerts"] as? [[String: Any]])?.contains { $0["kind"] as? String == "too_fast" } == true,
                "the board mid-call: \(board)")
            if let python = specPython {
                let complaints = try SchemaTests().validate(
                    ["board": board], schema: fixturesDirectory() + "/../schema/openapi.v1.yaml",
                    at: [
                        "paths", "/v1/live/calls", "get", "responses", "200", "content", "application/json", "schema",
                    ],
                    python: python)
                #expect(complaints.isEmpty, "/v1/live/calls mid-call against schema/openapi.v1.yaml: \(complaints)")
            } else if jsonSchemaRequired {
                Issue.record("YUSU_REQUIRE_JSONSCHEMA=1 but no python3 imports both jsonschema and yaml (python3-yaml)")
            }
        }
        if chromiumPath != nil {
            let page = boardPage.all.first ?? ""
            #expect(
                page.contains("<td>live-1</td>") && page.contains("<td>王芳</td>")
                    && page.firstMatch(of: /<td class="pct">[0-9]+:[0-9]{2}<\/td>/) != nil
                    && page.firstMatch(of: /<td class="pct bad">[0-9]+ 过快<\/td>/) != nil,
                "the board in Chromium mid-call: \(page.suffix(1500))")
        }
        let summary = (try JSONSerialization.jsonObject(with: Data((all.last ?? "{}").utf8))) as? [String: Any] ?? [:]
        #expect(summary["type"] as? String == "summary")
        var document = summary["document"] as? [String: Any] ?? [:]
        var local =
            (try JSONSerialization.jsonObject(
                with: Data(try CLI.run(["score", night.demoPath, "--format", "json"]).stdout.utf8))) as? [String: Any]
            ?? [:]
        document["file"] = nil
        local["file"] = nil
        #expect(
            NSDictionary(dictionary: document).isEqual(to: local), "the live summary differs from yusu score's document"
        )
        // The finished call is kept like any other: listed, its verdicts, its recording (the bytes streamed).
        let listed = try curl(base + "/v1/calls?agent=\(percent("王芳"))", token: readToken)
        let kept = (listed.json["calls"] as? [[String: Any]])?.first { $0["call_id"] as? String == "live-1" }
        #expect(kept != nil, "the finished live call is not among the calls: \(listed.text.prefix(400))")
        if let id = kept?["id"] as? Int {
            let call = try curl(base + "/v1/calls/\(id)", token: readToken)
            #expect(
                call.status == 200 && (call.json["verdicts"] as? [Any])?.isEmpty == false, "\(call.text.prefix(300))")
            let audio = try curl(base + "/v1/calls/\(id)/recording", token: readToken)
            #expect(audio.status == 200 && audio.body == wav, "the kept recording is not the audio streamed")
            #expect(try curl(base + "/calls/\(id)", token: readToken).status == 200)
        }
        let partial = try FileManager.default.contentsOfDirectory(atPath: dir.file("kept")).filter {
            $0.hasSuffix(".part")
        }
        #expect(partial.isEmpty, "partial recordings left: \(partial)")
        // Afterwards the board is empty, and the server well.
        #expect((try curl(base + "/v1/live/calls", token: readToken).json["calls"] as? [Any])?.isEmpty == true)
        #expect((try curl(otherBase + "/v1/live/calls", token: readToken).json["calls"] as? [Any])?.isEmpty == true)
        // A client that stops mid-call (closes without "end"): its call leaves the board, nothing else is disturbed.
        _ = try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(server.port)/v1/live?rate=8000&channels=2&encoding=ulaw&call_id=gone-1",
            configuration: config, logger: logger
        ) { _, outbound, _ in
            for _ in 0..<30 {
                try await outbound.write(.binary(ByteBuffer(bytes: Array(repeating: UInt8(0xFF), count: 1600))))
            }
        }
        var left = false
        for _ in 0..<40 where !left {
            left = (try curl(base + "/v1/live/calls", token: readToken).json["calls"] as? [Any])?.isEmpty == true
            if !left { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(left, "the abandoned call stayed on the board")
        // A read-only token cannot stream.
        let refused = WebSocketClientConfiguration(additionalHeaders: [.authorization: "Bearer \(night.readToken)"])
        await #expect(throws: (any Error).self) {
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(server.port)/v1/live", configuration: refused, logger: logger
            ) { _, _, _ in }
        }
        #expect(try curl(base + "/healthz").status == 200)
    }

    @Test(
        """
        live calls at the limit: 8 handshakes at the same instant against --max-live-calls 3 admit exactly 3 (101); \
        the other 5 are 503 with Retry-After and a reason, before any upgrade; the places come back when they close
        """
    )
    func liveLimitDoesNotRace() async throws {
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db, "--max-live-calls", "3"], in: dir)
        defer { server.stop() }
        // Eight curl processes started together (a task group would run them a few at a time).
        let script = """
            for i in 1 2 3 4 5 6 7 8; do
              curl -s -o "$1/body$i" --max-time 3 -w '%{http_code} %header{retry-after}\\n' \\
                -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \\
                -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H "Authorization: Bearer $2" \\
                "$3/v1/live?call_id=race$i" &
            done
            wait
            cat "$1"/body*
            """
        let r = try CLI.run(
            executable: URL(fileURLWithPath: "/bin/bash"),
            ["-c", script, "race", dir.path, night.writeToken, server.base])
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("101") || $0.hasPrefix("503") }
        #expect(lines.filter { $0.hasPrefix("101") }.count == 3, "\(r.stdout)")
        #expect(lines.filter { $0 == "503 10" }.count == 5, "503 with Retry-After 10: \(r.stdout)")
        #expect(
            r.stdout.components(separatedBy: "live calls open (--max-live-calls)").count - 1 == 5,
            "each refusal names its limit: \(r.stdout)")
        // Each admitted handshake's connection has closed (curl's 3 s): every place is free again.
        var open = -1
        for _ in 0..<50 {
            open = try curl(server.base + "/healthz").json["live_calls"] as? Int ?? -1
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(open == 0, "live_calls after every socket closed: \(open)")
    }

    @Test(
        """
        WebSocket refusals are answers with a status and a reason, not a bare 400: no token 401, a read token 403, \
        channels=6, encoding=mp3, a misspelt name and a name twice 400
        """
    )
    func webSocketRefusalsSayWhy() throws {
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db], in: dir)
        defer { server.stop() }
        let live = server.base + "/v1/live"
        let cases: [(String, String?, Int, String)] = [
            (live, nil, 401, "token is needed"),
            (live, night.readToken, 403, "may read but not write"),
            (live + "?rate=8000&channels=6&encoding=pcm_s16le", night.writeToken, 400, "channels must be 1 or 2"),
            (live + "?rate=8000&channels=1&encoding=mp3", night.writeToken, 400, "encoding must be one of"),
            (
                live + "?rate=8000&chanels=1&encoding=ulaw", night.writeToken, 400,
                "unknown parameter 'chanels': GET /v1/live takes rate, channels, encoding"
            ),
            (live + "?call_id=a&call_id=b", night.writeToken, 400, "call_id is given more than once"),
        ]
        for (url, token, status, reason) in cases {
            let r = try webSocketHandshake(url, token: token)
            #expect(r.status == status, "\(url): \(r.status) \(r.headers)")
            #expect((r.json["error"] as? String)?.contains(reason) == true, "\(url): \(r.text)")
            #expect(r.header("Content-Type")?.hasPrefix("application/json") == true, "\(r.headers)")
        }
        #expect(webSocketHandshakeNeedsAuthHeader(try webSocketHandshake(live, token: nil)))
    }

    func webSocketHandshakeNeedsAuthHeader(_ r: HTTPAnswer) -> Bool { r.header("WWW-Authenticate") == "Bearer" }

    @Test(
        """
        slow clients are answered and closed (nginx's client_header_timeout, client_body_timeout, limit_conn): \
        silence, headers a byte at a time, a body that stops: 408; one connection over --max-connections: 503
        """
    )
    func slowClientsCannotHoldTheServer() async throws {
        let dir = TemporaryDirectory()
        let server = try ServeProcess(
            [
                "--db", night.db, "--header-timeout-s", "1", "--body-timeout-s", "1", "--max-connections", "6",
                "--max-live-calls", "2",
            ], in: dir)
        defer { server.stop() }
        // Sends nothing: 408 after the header deadline, then closed.
        var start = Date()
        let silent = try RawClient(port: server.port)
        let quiet = silent.answer(within: 8)
        #expect(quiet.hasPrefix("HTTP/1.1 408") && quiet.contains("headers did not arrive within 1 s"), "\(quiet)")
        #expect(Date().timeIntervalSince(start) < 5, "held \(Date().timeIntervalSince(start)) s")
        // Headers a byte at a time, never finished: the deadline runs from the connection, not the last byte.
        start = Date()
        let trickle = try RawClient(port: server.port)
        var sent = 0
        for byte in "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + String(repeating: "a", count: 200) {
            guard trickle.send(String(byte)) else { break }
            sent += 1
            try await Task.sleep(for: .milliseconds(100))
        }
        let trickled = trickle.answer(within: 3)
        #expect(trickled.hasPrefix("HTTP/1.1 408"), "\(trickled)")
        #expect(
            sent < 60 && Date().timeIntervalSince(start) < 8,
            "\(sent) bytes taken in \(Date().timeIntervalSince(start)) s")
        // A body that stops arriving: 408 from the route, then closed.
        let stalled = try RawClient(port: server.port)
        stalled.send(
            "POST /v1/score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(night.writeToken)\r\n"
                + "Content-Length: 100000\r\n\r\nRIFF")
        let body = stalled.answer(within: 8)
        #expect(body.hasPrefix("HTTP/1.1 408") && body.contains("body stopped arriving for 1 s"), "\(body)")
        // A complete request is not cut by the header deadline, however long its answer takes.
        #expect(try curl(server.base + "/healthz").status == 200)
        // Six connections held silent are each answered 408 and closed by the header deadline.
        for c in held(server) {
            let answer = c.answer(within: 4)
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        }
        #expect(try curl(server.base + "/healthz").status == 200, "the server serves again once they are gone")
        #expect(!server.logText.contains("error"), "\(server.logText.suffix(1000))")
        // Six connections held open: the seventh is answered 503 with Retry-After at once. On a
        // server whose header deadline (30 s) cannot free a held one first, however slow the
        // machine is while the suite runs.
        let patient = try ServeProcess(
            ["--db", night.db, "--header-timeout-s", "30", "--max-connections", "6", "--max-live-calls", "2"],
            in: TemporaryDirectory())
        defer { patient.stop() }
        let six = held(patient)
        try await Task.sleep(for: .milliseconds(200))
        let seventh = try RawClient(port: patient.port).answer(within: 3)
        #expect(
            seventh.hasPrefix("HTTP/1.1 503") && seventh.contains("Retry-After: 5")
                && seventh.contains("--max-connections"), "\(seventh)")
        withExtendedLifetime(six) {}
    }

    /// Six connections opened on `server` and left silent.
    func held(_ server: ServeProcess) -> [RawClient] { (0..<6).compactMap { _ in try? RawClient(port: server.port) } }
}

/// Schemathesis (PyPI), if installed: YUSU_SCHEMATHESIS names it, else the PATH's. CI
/// installs it and sets YUSU_REQUIRE_SCHEMATHESIS=1.
let schemathesisPath: String? = {
    if let named = ProcessInfo.processInfo.environment["YUSU_SCHEMATHESIS"],
        FileManager.default.isExecutableFile(atPath: named)
    {
        return named
    }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    return path.split(separator: ":").map { "\($0)/schemathesis" }.first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}()
let schemathesisRequired = ProcessInfo.processInfo.environment["YUSU_REQUIRE_SCHEMATHESIS"] == "1"

/// The guard sits outside the suite it guards, so that it runs whatever disables that suite.
@Suite("schemathesis is there when required")
struct SchemathesisGuardTests {
    @Test("schemathesis is there when CI requires it")
    func present() {
        #expect(
            !schemathesisRequired || schemathesisPath != nil,
            "YUSU_REQUIRE_SCHEMATHESIS=1 but no schemathesis (pip install schemathesis)")
    }
}

@Suite("yusu serve against its OpenAPI file", .serialized, .enabled(if: curlPresent, "no /usr/bin/curl (Debian: curl)"))
struct ServeContractTests {

    @Test(
        """
        schemathesis finds no 5xx and no answer outside schema/openapi.v1.yaml (bounded: 20 examples per \
        operation, fixed seed)
        """,
        .enabled(if: schemathesisPath != nil, "no schemathesis (PyPI)"))
    func contract() throws {
        let night = ServedNight.shared
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db], in: dir)
        defer { server.stop() }
        let spec = URL(fileURLWithPath: fixturesDirectory()).deletingLastPathComponent().appendingPathComponent(
            "schema/openapi.v1.yaml"
        ).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: schemathesisPath!)
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        process.arguments = [
            "run", spec, "--url", server.base, "-H", "Authorization: Bearer \(night.writeToken)",
            "-c", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples", "20", "--seed", "1", "--phases", "examples,coverage,fuzzing", "--no-color",
        ]
        let out = dir.file("st.log")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = process.standardOutput
        try process.run()
        process.waitUntilExit()
        let log = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(log.suffix(3000))")
        #expect(log.contains("11 passed") || log.contains("passed"), "\(log.suffix(800))")
        #expect(!server.logText.contains("internal error"), "the server logged an internal error")
    }
}

final class AnswerBox: @unchecked Sendable { var answer: HTTPAnswer? }

/// Runs `body` for 0..<n on as many threads, returning the results in order.
func inParallel<T>(_ n: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let slots = ParallelSlots<T>(n)
    DispatchQueue.concurrentPerform(iterations: n) { k in
        let v = body(k)
        slots.lock.withLock { slots.values[k] = v }
    }
    return slots.values.map { $0! }
}

final class ParallelSlots<T>: @unchecked Sendable {
    var values: [T?]
    let lock = NSLock()
    init(_ n: Int) { values = Array(repeating: nil, count: n) }
}

final class LinesBox: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSLock()
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
