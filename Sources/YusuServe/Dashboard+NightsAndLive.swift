// The nights (runs) page and the live board.
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

extension Dashboard {

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
