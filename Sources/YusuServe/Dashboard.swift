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
    /// The pages' templates (Templates/*.mustache), compiled in. Every value is HTML-escaped by
    /// the library; links arrive as paths and query strings, escaped there too.
    static let templates = TemplateSet([
        ("style", PackageResources.style_mustache), ("nav", PackageResources.nav_mustache),
        ("navLoggedOut", PackageResources.navLoggedOut_mustache), ("login", PackageResources.login_mustache),
        ("ruleName", PackageResources.ruleName_mustache), ("badge", PackageResources.badge_mustache),
        ("overview", PackageResources.overview_mustache), ("calls", PackageResources.calls_mustache),
        ("agent", PackageResources.agent_mustache), ("spark", PackageResources.spark_mustache),
        ("runs", PackageResources.runs_mustache), ("live", PackageResources.live_mustache),
        ("error", PackageResources.error_mustache),
    ])
    /// A template without values (the style, the navigation, the live board's page).
    static func constant(_ name: String) -> String { templates.render(name, [String: String]()) }

    static let style = constant("style")
    static let nav = constant("nav")
    /// Before logging in: no pages to go to, nothing to log out of.
    static let loggedOutNav = constant("navLoggedOut")

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

    /// A rule's names for Templates/ruleName.mustache (an unknown id is shown as it is).
    struct RuleLabel: Encodable {
        let known: Bool
        let id, zh, en: String
        init(_ id: String) {
            let names = ruleNames[id]
            (known, self.id, zh, en) = (names != nil, id, names?.zh ?? "", names?.en ?? "")
        }
    }

    /// A call's failed rules as small badges (Templates/badge.mustache), by their Chinese
    /// names, each a link to the call at the moment its evidence begins (the call page's
    /// player starts there: `#t=` seconds).
    struct Badge: Encodable {
        let href, name: String
        static func of(_ c: ServeQueries.CallSummary) -> [Badge] {
            c.failedRules.map { rule in
                let at = c.firstEvidence[rule].map { "#t=" + String(format: "%.2f", $0) } ?? ""
                return Badge(href: "/calls/\(c.id)\(at)", name: ruleNames[rule]?.zh ?? rule)
            }
        }
    }

    static let rejectedToken = "令牌无效或已撤销 This token is unknown or revoked."

    /// The login page: what a supervisor sees before logging in, or with a token that no
    /// longer works (in words, not an HTTP status or a header to send).
    static func loginPage(
        next: String, warning: String? = nil, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) -> Response {
        struct Login: Encodable { let warning: String?, next: String }
        return page(
            "Yusu · 登录 Log in", templates.render("login", Login(warning: warning, next: localTarget(next))),
            status: status, headers: headers, loggedIn: false)
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
