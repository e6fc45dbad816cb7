import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

/// The supervisors' pages, rendered on the server: no CDN, no build step, and script only
/// on the live board (a dozen lines that poll `/v1/live/calls`). Labels in Chinese and
/// English, as the reports have them; tables that fit a laptop screen.
enum Dashboard {
    static let style = """
        nav { display: flex; gap: 18px; padding: 8px 0 10px; border-bottom: 2px solid var(--agent); margin-bottom: \
        14px; flex-wrap: wrap; }
        nav a { text-decoration: none; font-weight: 600; } nav .who { margin-left: auto; color: var(--na); \
        font-weight: 400; }
        table { table-layout: auto; } td, th { overflow-wrap: break-word; } th { font-weight: 600; }
        th, td.pct, td.nowrap, .badge { white-space: nowrap; }
        .warn { color: var(--bad); font-weight: 600; }
        td.bad { background: #fdecea; } td.fair { background: #fff6e0; } td.good { background: #eaf6ec; }
        a.badge.bad { background: #fdecea; } a.badge.fair { background: #fff3d6; color: #7a5200; }
        a.badge.good { background: #eaf6ec; color: #1b5e20; } a.badge { text-decoration: none; }
        .empty { padding: 14px 16px; background: #f4f6f8; border-radius: 4px; color: #333; }
        .tight td, .tight th { padding: 4px 6px; }
        form.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin: 8px 0 14px; }
        form.filters label { display: flex; flex-direction: column; font-size: 0.85em; color: #444; }
        form.filters input, form.filters select { font: inherit; padding: 3px 5px; max-width: 12em; }
        .pager { margin: 10px 0; display: flex; gap: 14px; }
        .spark { width: 420px; max-width: 100%; height: auto; } .spark polyline { fill: none; stroke: var(--agent); \
        stroke-width: 2.5; }
        .spark circle { fill: var(--agent); } .spark line { stroke: #b0b7bf; stroke-width: 1; }
        .spark text { font-size: 10px; fill: #555; } .spark text.value { fill: #1d1d1d; font-weight: 600; }
        .pct { font-variant-numeric: tabular-nums; text-align: right; }
        .badge { display: inline-block; border-radius: 3px; padding: 0 5px; margin: 1px 2px; background: #fbe9e7; \
        color: var(--bad); font-size: 0.85em; }
        """

    static let nav = """
        <nav><a href="/">总览 Overview</a><a href="/calls">通话 Calls</a><a href="/live">实时 Live</a><a href="/runs">夜间任务 \
        Nights</a><a class="who" href="/logout">退出 Log out</a></nav>
        """

    /// Before logging in: no pages to go to, nothing to log out of.
    static let loggedOutNav = "<nav><a href=\"/login\">登录 Log in</a></nav>"

    static func page(
        _ title: String, _ body: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:],
        loggedIn: Bool = true
    ) -> Response {
        let html = HTML.page(title: title, body: (loggedIn ? nav : loggedOutNav) + body, extraStyle: style)
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy:
                """
            default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src \
            'self' data:; media-src 'self' data:; frame-ancestors 'none'
            """,
            .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "no-referrer",
        ]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let e = HTML.escape

    /// A path segment or query value: only unreserved ASCII (RFC 3986) left as is.
    static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// RFC 3986's unreserved characters.
    static let unreserved = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    /// Printable ASCII but the space: what a Location header may carry as it is.
    static let headerSafe = CharacterSet(charactersIn: Unicode.Scalar(0x21)...Unicode.Scalar(0x7E))

    static func queryString(_ items: [(String, String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { segment($0.0) + "=" + segment($0.1) }.joined(separator: "&")
    }

    /// The overview's windows: the last night, 7 nights and 30 nights (days back from the last).
    static let overviewWindows: [(name: String, daysBack: Int)] = [
        ("上一夜 Last night", 0), ("近7夜 7 nights", 6), ("近30夜 30 nights", 29),
    ]

    /// A number's colour class: below `fair` bad, below `good` fair, else good; none for nil.
    static func colour(_ x: Double?, fair: Double, good: Double) -> String {
        guard let x else { return "" }
        return x < fair ? "bad" : x < good ? "fair" : "good"
    }
    /// A score's (below 60, 80) and a pass rate's (below 60%, 85%).
    static func scoreClass(_ score: Double?) -> String { colour(score, fair: 60, good: 80) }
    static func rateClass(_ rate: Double?) -> String { colour(rate, fair: 0.6, good: 0.85) }

    static func pct(_ x: Double?) -> String { x.map { fixed($0 * 100, 0) + "%" } ?? "–" }
    static func num(_ x: Double?, _ digits: Int = 1) -> String { x.map { fixed($0, digits) } ?? "–" }

    /// `x` with `digits` decimals (0–3), rounded half away from zero, as %.Nf prints it but
    /// without a formatter (a page prints hundreds).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite, abs(x) < 1e15 else { return x.isNaN ? "–" : String(x) }
        let scale = [1.0, 10, 100, 1000][min(3, max(0, digits))]
        let n = Int((abs(x) * scale).rounded())
        let whole = n / Int(scale)
        let part = n % Int(scale)
        var text = (x < 0 && n != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let p = String(part)
            text += "." + String(repeating: "0", count: digits - p.count) + p
        }
        return text
    }

    /// Each rule's names, by id.
    static let ruleNames: [String: (zh: String, en: String)] = Dictionary(
        uniqueKeysWithValues: RuleBook.all.map { ($0.id, ($0.chineseName, $0.englishName)) })

    /// Failed rules as small badges, by their Chinese names.
    /// A call's failed rules, each a link to the call at the moment its evidence begins
    /// (the call page's player starts there: `#t=` seconds).
    static func badges(_ c: ServeQueries.CallSummary) -> String {
        c.failedRules.map { rule in
            let at = c.firstEvidence[rule].map { "#t=" + String(format: "%.2f", $0) } ?? ""
            return """
                <a class=\"badge\" href=\"/calls/\(c.id)\(at)\" title=\"listen from the first moment\">\
                \(e(ruleNames[rule]?.zh ?? rule))</a>
                """
        }.joined()
    }

    static func ruleName(_ id: String) -> String {
        guard let r = ruleNames[id] else { return e(id) }
        return "<span class=\"zh\">\(e(r.zh))</span> <span class=\"en\">\(e(r.en))</span>"
    }

    static let rejectedToken = "令牌无效或已撤销 This token is unknown or revoked."

    /// The login page: what a supervisor sees before logging in, or with a token that no
    /// longer works (in words, not an HTTP status or a header to send).
    static func loginPage(
        next: String, warning: String? = nil, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) -> Response {
        let note = warning.map { "<p class=\"warning\">\(e($0))</p>" } ?? ""
        let intro = "<p>请输入访问令牌。Enter your access token to see the calls.</p>"
        return page(
            "Yusu · 登录 Log in", "<h1>登录 Log in</h1>" + note + intro + loginForm(next: next), status: status,
            headers: headers, loggedIn: false)
    }

    static func loginForm(next: String) -> String {
        return """
            <form method="post" action="/login" class="filters"><input type="hidden" name="next" \
            value="\(e(localTarget(next)))">
            <label>令牌 Token <input type="password" name="token" autocomplete="off" size="40"></label><button \
            type="submit">登录 Log in</button></form>
            <p class="meta">No token? Ask whoever runs this server (it makes one with \
            <code>yusu token create --db …</code>).</p>
            """
    }

    // MARK: Routes

    static func add(to router: Router<ServeContext>, state: ServeState) {
        router.get("/login") { request, _ -> Response in
            let q = API.query(request)
            if let token = q["token"] { return try await login(token: token, next: q["next"] ?? "/", state: state) }
            return loginPage(next: q["next"] ?? "/")
        }
        router.post("/login") { request, _ -> Response in
            var request = request
            struct Form: Decodable {
                var token: String?
                var next: String?
            }
            let body = try await request.collectBody(upTo: 4096)
            let form = (try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body))) ?? Form()
            return try await login(token: form.token ?? "", next: form.next ?? "/", state: state)
        }
        router.get("/logout") { _, _ -> Response in
            Response(
                status: .seeOther,
                headers: [.location: "/login", .setCookie: "yusu_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"])
        }
        router.get("/") { _, _ -> Response in try await overview(state) }
        router.get("/calls") { request, _ -> Response in try await callList(request, state) }
        router.get("/calls/:id") { _, context -> Response in try await callPage(try API.callId(context), state) }
        router.get("/agents/:agent") { _, context -> Response in
            let raw = context.parameters.get("agent") ?? ""
            return try await agentPage(raw.removingPercentEncoding ?? raw, state)
        }
        router.get("/runs") { _, _ -> Response in try await runsPage(state) }
        router.get("/live") { _, _ -> Response in livePage() }
    }

    /// Where a login may send the browser: a path on this server ("/" otherwise), with
    /// anything not plain ASCII percent-encoded (a header carries ASCII only; no CR or LF).
    static func localTarget(_ next: String) -> String {
        guard next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next.addingPercentEncoding(withAllowedCharacters: headerSafe) ?? "/"
    }

    static func login(token: String, next: String, state: ServeState) async throws -> Response {
        guard try await state.tokens.scope(of: token) != nil else {
            return loginPage(next: next, warning: rejectedToken, status: .unauthorized)
        }
        return Response(
            status: .seeOther,
            headers: [
                .location: localTarget(next),
                .setCookie: "yusu_token=\(token); Path=/; Max-Age=43200; HttpOnly; SameSite=Strict",
                .init("Referrer-Policy")!: "no-referrer",
            ])
    }
}
