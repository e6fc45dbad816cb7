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

    // MARK: Overview

    static func overview(_ state: ServeState) async throws -> Response {
        struct Data: Sendable {
            var last: String?
            var windows: [(name: String, calls: Int, mean: Double?, rates: [String: Double])] = []
            var agents: [(id: String, last: (Int, Double?), week: (Int, Double?), month: (Int, Double?), failed: Int)] =
                []
            var failed: [SQLRow] = []
            /// Per agent, each rule's pass rate over 30 nights and the verdicts behind it.
            var agentRules: [String: [String: (passed: Int, judged: Int)]] = [:]
        }
        let data: Data = try await state.database.run { store in
            try AggregateCache.shared.value("overview", store: store) {
                var d = Data()
                d.last = try ServeQueries.lastDay(store)
                guard let last = d.last else { return d }
                let key = try ServeQueries.standardKey(store)
                for (k, r) in try ServeQueries.passRates(
                    store, windowsEndingOn: last, days: overviewWindows.map(\.daysBack)
                ).enumerated() {
                    d.windows.append((overviewWindows[k].name, r.calls, r.meanScore, r.rates))
                }
                let (week, month) = (
                    ServeQueries.day(last, minus: overviewWindows[1].daysBack),
                    ServeQueries.day(last, minus: overviewWindows[2].daysBack)
                )
                var args: [SQLValue] = [.text(last), .text(last), .text(week), .text(week), .text(month)]
                var condition = "call_date >= ?"
                if let key {
                    condition += " AND standard_key = ?"
                    args.append(.text(key))
                }
                let rows = try store.fetch(
                    """
                    SELECT agent_id,
                      SUM(CASE WHEN status = 'scored' AND call_date >= ? THEN 1 ELSE 0 END) AS n1,
                      CAST(AVG(CASE WHEN call_date >= ? THEN score END) AS {real}) AS s1,
                      SUM(CASE WHEN status = 'scored' AND call_date >= ? THEN 1 ELSE 0 END) AS n7,
                      CAST(AVG(CASE WHEN call_date >= ? THEN score END) AS {real}) AS s7,
                      SUM(CASE WHEN status = 'scored' THEN 1 ELSE 0 END) AS n30, CAST(AVG(score) AS {real}) AS s30,
                      SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed
                    FROM calls WHERE \(condition) GROUP BY agent_id ORDER BY agent_id {bin}
                    """, args)
                d.agents = rows.map { r in
                    (
                        r.string("agent_id") ?? "", (r.int("n1") ?? 0, r.double("s1")),
                        (r.int("n7") ?? 0, r.double("s7")), (r.int("n30") ?? 0, r.double("s30")), r.int("failed") ?? 0
                    )
                }
                for r in try ServeQueries.agentRuleCounts(store, from: month) {
                    d.agentRules[r.agent, default: [:]][r.rule] = (r.passed, r.judged)
                }
                var failedArgs: [SQLValue] = [.text(month)]
                var failedCondition = "status = 'failed' AND call_date >= ?"
                if let key {
                    failedCondition += " AND standard_key = ?"
                    failedArgs.append(.text(key))
                }
                d.failed = try store.fetch(
                    """
                    SELECT id, call_date, agent_id, call_id, path, failure_reason FROM calls WHERE \
                    \(failedCondition) ORDER BY call_date DESC, path {bin} LIMIT 200
                    """,
                    failedArgs)
                return d
            }
        }
        guard let last = data.last else {
            return page(
                "Yusu · 总览 Overview",
                """
                <h1>质检总览 Overview</h1><p>No calls in the results database yet: run <code>yusu batch</code> on an \
                archive, or upload a recording to <code>POST /v1/score?store=true</code>.</p>
                """
            )
        }
        var body = "<h1>质检总览 Overview</h1><p class=\"meta\">上一夜 Last night: <b id=\"last-night\">\(e(last))</b></p>"
        body += "<h2>规则通过率 Pass rate per rule</h2><table id=\"rules\" class=\"tight\"><tr><th>规则 Rule</th>"
        for w in data.windows {
            body += "<th class=\"pct\">\(e(w.name))<br><span class=\"en\">\(w.calls) calls</span></th>"
        }
        func calls(_ items: [(String, String)]) -> String { "/calls" + queryString(items) }
        /// The call list's filter of window `k` (the last night, 7 nights, 30 nights).
        func since(_ k: Int) -> [(String, String)] {
            [("from", ServeQueries.day(last, minus: overviewWindows[k].daysBack)), ("to", last)]
        }
        body +=
            "</tr><tr><td>平均分 Mean score</td>"
            + data.windows.enumerated().map { k, w in
                "<td class=\"pct \(scoreClass(w.mean))\"><a href=\"\(e(calls(since(k) + [("sort", "score")])))\">"
                    + "\(num(w.mean))</a></td>"
            }.joined() + "</tr>"
        for rule in RuleBook.ids {
            body +=
                "<tr data-rule=\"\(e(rule))\"><td>\(ruleName(rule))</td>"
                + data.windows.enumerated().map { k, w in
                    """
                    <td class=\"pct \(rateClass(w.rates[rule]))\"><a title=\"the calls that failed it\" \
                    href=\"\(e(calls(since(k) + [("rule_failed", rule)])))\">\(pct(w.rates[rule]))</a></td>
                    """
                }.joined() + "</tr>"
        }
        // Agents, worst first (the 7 nights' mean score; no calls last), each with what to coach.
        let ranked = data.agents.sorted {
            switch ($0.week.1, $1.week.1) {
            case (let a?, let b?): return a != b ? a < b : $0.id < $1.id
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return $0.id < $1.id
            }
        }
        body +=
            """
            </table><h2>谁需要辅导 Who needs coaching, on what</h2><p class=\"meta\">Agents ranked worst first by \
            their mean score over 7 nights. Each number opens the calls behind it; each rule, the calls that \
            failed it.</p><table id=\"agents\" class=\"tight\"><tr><th class=\"pct\">#</th><th>坐席 Agent</th>\
            <th class=\"pct\">上一夜 Last night<br><span class=\"en\">calls · score</span></th>\
            <th class=\"pct\">近7夜 7 nights<br><span class=\"en\">calls · score</span></th>\
            <th class=\"pct\">近30夜 30 nights<br><span class=\"en\">calls · score</span></th>\
            <th>最需改进 Coach on (30 nights, pass rate)</th><th class=\"pct\">未评分 Failed files</th></tr>
            """
        for (rank, a) in ranked.enumerated() {
            let agent = [("agent", a.id)]
            body +=
                "<tr><td class=\"pct\">\(rank + 1)</td><td class=\"nowrap\"><a href=\"/agents/\(e(segment(a.id)))\">"
            body += "\(e(a.id))</a></td>"
            for (k, (n, score)) in [a.last, a.week, a.month].enumerated() {
                body +=
                    """
                    <td class=\"pct \(scoreClass(score))\"><a href=\"\(e(calls(agent + since(k))))\">\(n) · \
                    \(num(score))</a></td>
                    """
            }
            let weakest = (data.agentRules[a.id] ?? [:])
                .compactMap { rule, c -> (String, Double, Int)? in
                    c.judged > 0 && c.passed < c.judged ? (rule, Double(c.passed) / Double(c.judged), c.judged) : nil
                }
                .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
                .prefix(3)
            body += "<td>"
            body +=
                weakest.isEmpty
                ? "<span class=\"meta\">—</span>"
                : weakest.map { rule, rate, judged in
                    """
                    <a class=\"badge \(rateClass(rate))\" title=\"\(judged) calls judged\" \
                    href=\"\(e(calls(agent + since(2) + [("rule_failed", rule)])))\">\(ruleName(rule)) \(pct(rate))</a>
                    """
                }.joined(separator: " ")
            body += "</td><td class=\"pct\">\(a.failed)</td></tr>"
        }
        body += "</table><h2>未能评分的文件 Files that could not be scored (30 nights)</h2>"
        if data.failed.isEmpty {
            body += "<p id=\"failed\">None.</p>"
        } else {
            body +=
                """
                <table id=\"failed\" class=\"tight\"><tr><th>日期 Date</th><th>坐席 Agent</th><th>文件 File</th><th>原因 \
                Reason</th></tr>
                """
            for f in data.failed {
                body +=
                    """
                    <tr><td \
                    class=\"t\">\(e(f.string("call_date") ?? ""))</td><td>\(e(f.string("agent_id") ?? ""))</td>\
                    <td>\(e(f.string("path") ?? ""))</td><td>\(e(f.string("failure_reason") ?? ""))</td></tr>
                    """
            }
            body += "</table>"
        }
        return page("Yusu · 总览 Overview", body)
    }

    // MARK: Calls

    static func callList(_ request: Request, _ state: ServeState) async throws -> Response {
        let filter = try ServeQueries.CallFilter(query: API.query(request))
        let result = try await state.database.run { try ServeQueries.calls($0, filter) }
        var body = "<h1>通话 Calls</h1><form class=\"filters\" method=\"get\" action=\"/calls\">"
        body += "<label>坐席 Agent<input name=\"agent\" value=\"\(e(filter.agent ?? ""))\"></label>"
        body += "<label>从 From<input name=\"from\" type=\"date\" value=\"\(e(filter.from ?? ""))\"></label>"
        body += "<label>到 To<input name=\"to\" type=\"date\" value=\"\(e(filter.to ?? ""))\"></label>"
        body += "<label>未通过 Rule failed<select name=\"rule_failed\"><option value=\"\">—</option>"
        for r in RuleBook.all {
            body +=
                """
                <option value=\"\(e(r.id))\"\(filter.ruleFailed == r.id ? " selected" : "")>\(e(r.chineseName)) \
                \(e(r.englishName))</option>
                """
        }
        body +=
            """
            </select></label><label>最低分 Min score<input name=\"min_score\" inputmode=\"decimal\" \
            value=\"\(filter.minScore.map { String($0) } ?? "")\"></label>
            """
        body +=
            """
            <label>最高分 Max score<input name=\"max_score\" inputmode=\"decimal\" \
            value=\"\(filter.maxScore.map { String($0) } ?? "")\"></label>
            """
        body +=
            """
            <label>排序 Sort<select name=\"sort\"><option value=\"date\"\(filter.sortByScore ? "" : " selected")>\
            日期 Newest first</option><option value=\"score\"\(filter.sortByScore ? " selected" : "")>分数 Lowest \
            score first</option></select></label>
            """
        body += "<button type=\"submit\">筛选 Filter</button></form>"
        body += "<p class=\"meta\" id=\"total\">\(result.total) calls</p>"
        body +=
            """
            <table id=\"calls\" class=\"tight\"><tr><th>日期 Date</th><th>坐席 Agent</th><th>通话 Call</th><th \
            class=\"pct\">得分 Score</th><th class=\"pct\">语速 字/分钟</th><th>未通过 Failed rules</th></tr>
            """
        for c in result.calls {
            let callCell =
                c.status == "scored"
                ? "<a href=\"/calls/\(c.id)\">\(e(c.callId))</a>"
                : "\(e(c.callId)) <span class=\"fail\">未评分 not scored</span>: \(e(c.failureReason ?? ""))"
            body +=
                """
                <tr data-call-row=\"\(c.id)\"><td class=\"t\">\(e(c.date))</td><td><a \
                href=\"/agents/\(e(segment(c.agentId)))\">\(e(c.agentId))</a></td><td>\(callCell)</td>
                """
            body +=
                """
                <td class=\"pct\">\(num(c.score))</td><td \
                class=\"pct\">\(num(c.speechRateCpm, 0))</td><td>\(badges(c))</td></tr>
                """
        }
        body += "</table>"
        let pages = max(1, (result.total + filter.perPage - 1) / filter.perPage)
        body += "<div class=\"pager\">"
        if filter.page > 1 {
            body +=
                """
                <a href=\"/calls\(e(queryString(filter.queryItems + [("page", String(filter.page - 1))])))\">← 上一页 \
                Previous</a>
                """
        }
        body += "<span>\(filter.page) / \(pages)</span>"
        if filter.page < pages {
            body +=
                """
                <a href=\"/calls\(e(queryString(filter.queryItems + [("page", String(filter.page + 1))])))\">下一页 \
                Next →</a>
                """
        }
        body += "</div>"
        return page("Yusu · 通话 Calls", body)
    }

    /// The call's report page, as `yusu score --format html` draws it (re-analysed from its
    /// recording: the database keeps measures, not contours), its player streaming from
    /// the server.
    static func callPage(_ id: Int64, _ state: ServeState) async throws -> Response {
        guard
            let found = try await state.database.run({ store -> (String, Int, String, Standard)? in
                guard let f = try ServeQueries.recordingPath(store, id: id) else { return nil }
                return (f.path, f.agentChannel, f.title, try ServeQueries.standard(store, key: f.standardKey))
            })
        else { throw APIError(status: .notFound, message: "no scored call \(id)") }
        if found.0.hasPrefix("live:") {
            throw APIError(
                status: .gone,
                message:
                    """
                    call \(id) was coached live on a server that keeps no recordings (yusu serve --recordings DIR \
                    keeps them): its measures and verdicts are at /v1/calls/\(id)
                    """)
        }
        let limits = state.configuration.limits
        let html: String? = try await state.scoring {
            let scorer = CallScorer(standard: found.3, limits: limits)
            guard
                let scored = try? scorer.score(
                    path: found.0, options: CallOptions(agentChannel: found.1, keepContour: true))
            else {
                return nil
            }
            return HTMLCallReport.render(
                scored.analysis, scored.card, title: found.2, audio: .link("/v1/calls/\(id)/recording"),
                frame: (nav, style))
        }
        guard let html else {
            throw APIError(
                status: .gone, message: "the recording of call \(id) can no longer be read where it was scored")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("Referrer-Policy")!: "no-referrer",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Agent

    /// A week-by-week line with its axes: the scale's ends on the left (0 and 100, or 0% and
    /// 100%), each week's start under its point (every other one past 8 weeks), and each value
    /// written above its point, so nothing needs a hover. `values` are 0...1; `text` writes one.
    static func trendChart(_ values: [Double?], labels: [String], text: (Double) -> String, axis: (String, String))
        -> String
    {
        let (w, h, left, right, top, bottom) = (420.0, 96.0, 34.0, 14.0, 14.0, 18.0)
        let n = values.count
        func x(_ i: Int) -> Double {
            n <= 1 ? (left + w - right) / 2 : left + (w - left - right) * Double(i) / Double(n - 1)
        }
        func y(_ v: Double) -> Double { h - bottom - (h - top - bottom) * v }
        var points: [String] = []
        var marks = ""
        let every = n > 8 ? 2 : 1
        for (i, v) in values.enumerated() {
            if i % every == 0 || i == n - 1 {
                // "2026-11-02" is shown "11-02".
                let day = labels[i].count == 10 ? String(labels[i].suffix(5)) : labels[i]
                marks += "<text class=\"week\" x=\"\(HTML.n(x(i)))\" y=\"\(HTML.n(h - 4))\" "
                marks += "text-anchor=\"middle\">\(e(day))</text>"
            }
            guard let v else { continue }
            points.append("\(HTML.n(x(i))),\(HTML.n(y(v)))")
            marks +=
                """
                <circle cx=\"\(HTML.n(x(i)))\" cy=\"\(HTML.n(y(v)))\" r=\"3\"><title>\(e(labels[i])): \
                \(e(text(v)))</title></circle><text class=\"value\" x=\"\(HTML.n(x(i)))\" \
                y=\"\(HTML.n(y(v) - 5))\" text-anchor=\"middle\">\(e(text(v)))</text>
                """
        }
        let axes =
            """
            <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(1)))\" x2=\"\(HTML.n(w - right + 6))\" \
            y2=\"\(HTML.n(y(1)))\"/>\
            <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(0)))\" x2=\"\(HTML.n(w - right + 6))\" \
            y2=\"\(HTML.n(y(0)))\"/>\
            <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(1)))\" x2=\"\(HTML.n(left))\" y2=\"\(HTML.n(y(0)))\"/>\
            <text class=\"axis\" x=\"\(HTML.n(left - 4))\" y=\"\(HTML.n(y(1) + 4))\" \
            text-anchor=\"end\">\(e(axis.1))</text><text class=\"axis\" x=\"\(HTML.n(left - 4))\" \
            y=\"\(HTML.n(y(0) + 4))\" text-anchor=\"end\">\(e(axis.0))</text>
            """
        return "<svg class=\"spark\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\">" + axes
            + (points.count > 1 ? "<polyline points=\"\(points.joined(separator: " "))\"/>" : "") + marks + "</svg>"
    }

    static func agentPage(_ agent: String, _ state: ServeState) async throws -> Response {
        struct Data: Sendable {
            var points: [ServeQueries.TrendPoint]
            var worst: ServeQueries.CallPage
            var known: Bool
        }
        let data: Data = try await state.database.run { store in
            let last = try ServeQueries.lastDay(store)
            let since = last.map { ServeQueries.day($0, minus: 7 * 26) }
            var filter = ServeQueries.CallFilter()
            filter.agent = agent
            filter.status = "scored"
            filter.perPage = 10
            filter.sortByScore = true
            let known = try ServeQueries.agentKnown(store, agent)
            return Data(
                points: try ServeQueries.trend(store, agent: agent, weekly: true, since: since),
                worst: try ServeQueries.calls(store, filter), known: known)
        }
        guard data.known else { throw APIError(status: .notFound, message: "no calls of agent '\(agent)'") }
        var body = "<h1>坐席 Agent <span id=\"agent\">\(e(agent))</span></h1>"
        let labels = data.points.map(\.period)
        body +=
            """
            <p class=\"meta\">每周 Per week (starting Monday), last \(data.points.count) weeks with calls: \
            \(data.points.map(\.calls).reduce(0, +)) calls.</p>
            """
        body +=
            """
            <h2>每周趋势 Weekly trend per rule</h2><table id=\"trends\" class=\"tight\"><tr><th>规则 Rule</th><th>通过率 \
            Pass rate, week by week</th><th class=\"pct\">最近一周 Latest week</th></tr>
            """
        let scores = data.points.map { $0.meanScore.map { $0 / 100 } }
        body +=
            """
            <tr data-rule=\"score\"><td>平均分 Mean score</td><td>\(trendChart(
                scores, labels: labels, text: { fixed($0 * 100, 1) }, axis: ("0", "100")))</td><td \
            class=\"pct\">\(num(data.points.last?.meanScore))</td></tr>
            """
        for rule in RuleBook.ids {
            let values = data.points.map { $0.passRate(rule) }
            guard values.contains(where: { $0 != nil }) else { continue }
            body +=
                """
                <tr \
                data-rule=\"\(e(rule))\"><td>\(ruleName(rule))</td><td>\(trendChart(
                    values, labels: labels, text: { pct($0) }, axis: ("0%", "100%")))</td><td \
                class=\"pct\">\(pct(values.last ?? nil))</td></tr>
                """
        }
        body +=
            """
            </table><h2>最差的通话 Worst calls</h2><table id=\"worst\" class=\"tight\"><tr><th>日期 Date</th><th>通话 \
            Call</th><th class=\"pct\">得分 Score</th><th>未通过 Failed rules</th></tr>
            """
        for c in data.worst.calls {
            body +=
                """
                <tr><td class=\"t\">\(e(c.date))</td><td><a href=\"/calls/\(c.id)\">\(e(c.callId))</a></td><td \
                class=\"pct\">\(num(c.score))</td><td>\(badges(c))</td></tr>
                """
        }
        body +=
            "</table><p><a href=\"/calls\(e(queryString([("agent", agent)])))\">所有通话 All calls of this agent →</a></p>"
        return page("Yusu · \(agent)", body)
    }

    // MARK: Nights

    static func runsPage(_ state: ServeState) async throws -> Response {
        let runs = try await state.database.run { try ServeQueries.runs($0, limit: 30) }
        var body =
            """
            <h1>夜间任务 Nights</h1><table id=\"runs\" class=\"tight\"><tr><th>#</th><th>开始 Started</th><th>来源 \
            Source</th><th class=\"pct\">评分 Scored</th><th class=\"pct\">跳过 Skipped</th><th class=\"pct\">失败 \
            Failed</th><th>状态 State</th></tr>
            """
        for r in runs {
            func v(_ k: String) -> String {
                switch r.fields[k] {
                case .str(let s)?: return s
                case .whole(let i)?: return String(i)
                case .boolean(let b)?: return b ? "yes" : "no"
                default: return ""
                }
            }
            let interrupted = r.fields["interrupted"] == .boolean(true)
            body +=
                """
                <tr><td>\(e(v("id")))</td><td class=\"t\">\(e(v("started_at")))</td><td>\(e(v("source")))</td><td \
                class=\"pct\">\(e(v("files_scored")))</td><td class=\"pct\">\(e(v("files_skipped")))</td><td \
                class=\"pct\">\(e(v("files_failed")))</td>\
                <td>\(interrupted ? "<span class=\"fail\">中断 cut short</span>" : "完成 complete")</td></tr>
                """
            for f in r.failedFiles {
                body +=
                    """
                    <tr class=\"failed-file\"><td></td><td colspan=\"2\">\(e(f.path))</td><td \
                    colspan=\"4\">\(e(f.reason))</td></tr>
                    """
            }
        }
        body += "</table>"
        return page("Yusu · 夜间任务 Nights", body)
    }

    // MARK: Live

    static func livePage() -> Response {
        let body = """
            <h1>实时通话 Live calls</h1><p class="meta">Calls streaming to this server now: audio heard, the \
            running rate (last 30 s of talk), a hold in progress, the latest alerts. Refreshed every 2 s; a call \
            that ends is kept under <a href="/calls">通话 Calls</a>.</p>
            <p id="none" class="empty" hidden>目前没有实时通话。No live calls now: a call appears here the moment \
            a client opens <code>/v1/live</code> (see the README's Live calls).</p>
            <table id="live" class="tight"><thead><tr><th>坐席 Agent</th><th>通话 Call</th><th class="pct">已听 \
            Heard</th><th class="pct">语速 Rate<br>字/分钟</th><th>现在 Now</th><th>最新提醒 Latest alerts</th>\
            </tr></thead><tbody></tbody></table>
            <script>
            function clock(s) { if (s == null) return '–'; s = Math.floor(s); return Math.floor(s / 60) + ':' + \
            String(s % 60).padStart(2, '0'); }
            function cell(tr, text, cls) { var td = document.createElement('td'); td.textContent = text; \
            if (cls) td.className = cls; tr.appendChild(td); return td; }
            function row(c) {
              var tr = document.createElement('tr');
              cell(tr, c.agent_id); cell(tr, c.call_id); cell(tr, clock(c.heard_s), 'pct');
              cell(tr, c.last_rate_cpm == null ? '–' : Math.round(c.last_rate_cpm), 'pct');
              cell(tr, c.hold ? '等待中 On hold · ' + clock(c.hold.so_far_s) : '通话中 Talking', \
            c.hold ? 'warn' : '');
              var td = cell(tr, '');
              c.alerts.slice().reverse().forEach(function (a) { var d = document.createElement('div'); \
            d.textContent = clock(a.emitted_at_s) + ' ' + (a.label || a.kind || a.type); td.appendChild(d); });
              return tr; }
            function poll() { fetch('/v1/live/calls', {credentials: 'same-origin'}).then(function (r) { return \
            r.json(); }).then(function (d) {
              var body = document.querySelector('#live tbody'); body.replaceChildren.apply(body, d.calls.map(row));
              document.getElementById('none').hidden = d.calls.length > 0;
              document.getElementById('live').hidden = d.calls.length == 0; }).catch(function () {}); }
            poll(); setInterval(poll, 2000);
            </script>
            """
        return page("Yusu · 实时 Live", body)
    }
}
