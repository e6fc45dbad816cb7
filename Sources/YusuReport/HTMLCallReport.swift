import Foundation
import YusuDelivery
import YusuSignal

/// One call as a self-contained HTML page: verdicts, a timeline of both parties, the agent's
/// pitch contour, speech rate over time, levels, and every event with its time.
public enum HTMLCallReport {
    /// Width of the drawing area in SVG units; the SVGs scale to the page.
    static let width = 1000.0
    static let left = 70.0

    /// Where the page's player finds the recording.
    public enum Audio: Sendable, Equatable {
        /// A URL (relative to the page, or file://) of a file the browser can play.
        case link(String)
        /// The bytes of a browser-playable file (WAV PCM, FLAC, OGG), embedded as a data URL.
        case embedded(mimeType: String, data: Data)
    }

    /// - Parameters:
    ///   - frame: what a site around the page puts above it (the service's navigation), and
    ///     the style it needs.
    public static func render(
        _ analysis: CallAnalysis, _ card: Scorecard, title: String? = nil, audio: Audio? = nil,
        frame: (html: String, style: String)? = nil
    ) -> String {
        let m = analysis.measures
        let name = (m.file as NSString).lastPathComponent
        var body = (frame?.html ?? "") + "<header>\n<h1>Yusu 语速 — \(HTML.escape(title ?? name))</h1>\n"
        body += "<div class=\"meta\">\(HTML.escape(m.formatName)), \(m.sampleRateHz) Hz, "
        body += m.channels == 2 ? "stereo (agent = channel \(m.agent.channel))" : "mono (agent only)"
        body +=
            """
            , <span class=\"t\">\(HTML.clock(m.durationSeconds))</span> long · standard \
            \(HTML.escape(card.standard.name)) v\(card.standard.version)</div>\n
            """
        body +=
            """
            <div class=\"score\" id=\"score\">\(Scorecard.scoreText(card.score)) <span \
            class=\"en\">/ 100</span></div>\n
            """
        for warning in m.warnings { body += "<div class=\"warning\">⚠ \(HTML.escape(warning))</div>\n" }
        body += player(audio) + "</header>\n"
        body += verdictTable(card)
        let long = card.verdict(LongUtterancesRule().id)
        body += "<h2>时间线 Timeline</h2>\n" + timeline(m, card: card) + timelineLegend(longText: long?.limitText)
        body +=
            """
            <h2>语调 Agent pitch (semitones over the agent's \
            median\(m.agent.medianF0Hz.map { String(format: ", %.0f Hz", $0) } ?? ""))</h2>\n
            """
        body += pitchContour(analysis, card: card)
        body += "<h2>语速 Speech rate per 30 s (字/分钟)</h2>\n" + rateChart(analysis, card: card)
        body += "<h2>音量 Levels (P.56 active level, dBov)</h2>\n" + levels(m, card: card)
        body += "<h2>事件 Events</h2>\n" + eventTable(m, card: card)
        return HTML.page(title: "Yusu — \(title ?? name)", body: body, extraStyle: frame?.style ?? "")
    }

    // MARK: Player

    /// The recording on the page, and a few lines that make every time a way to listen.
    static func player(_ audio: Audio?) -> String {
        guard let audio else { return "" }
        let source: String
        switch audio {
        case .link(let url): source = HTML.escape(url)
        case .embedded(let mime, let data): source = "data:\(mime);base64,\(data.base64EncodedString())"
        }
        return """
            <div class="player"><audio id="player" controls preload="metadata" src="\(source)"></audio>
            <span class="en">Click any time or any speech bar to listen from there.</span></div>
            <script>
            document.addEventListener('click', function (e) {
              var el = e.target.closest ? e.target.closest('[data-t]') : null;
              var p = document.getElementById('player');
              if (!el || !p) return;
              e.preventDefault();
              p.currentTime = parseFloat(el.getAttribute('data-t'));
              p.play();
            });
            // Opened at a moment (a badge's link, #t=seconds): the player starts there, and the
            // evidence at that moment is marked and brought into view.
            document.addEventListener('DOMContentLoaded', function () {
              var start = /^#t=([0-9.]+)$/.exec(location.hash);
              if (!start) return;
              document.getElementById('player').currentTime = parseFloat(start[1]);
              var marked = document.querySelectorAll('[data-t="' + start[1] + '"]');
              marked.forEach(function (m) { m.classList.add('current'); });
              if (marked.length) marked[0].scrollIntoView({block: 'center'});
            });
            </script>

            """
    }

    // MARK: Verdicts

    static func verdictTable(_ card: Scorecard) -> String {
        var out =
            """
            <h2>规范 Verdicts</h2>\n<table id=\"verdicts\">\n<thead><tr><th>规范 \
            Rule</th><th>Result</th><th>Value</th><th>Limit</th><th>Evidence</th></tr></thead>\n<tbody>\n
            """
        for v in card.verdicts {
            var (cls, label) = v.passed == nil ? ("na", "n/a") : (v.passed! ? ("pass", "PASS") : ("fail", "FAIL"))
            // The limit lies inside the measure's 90% interval: say so beside the point verdict.
            if v.nearLimit && v.passed != nil {
                cls += " near"
                label += "<br><span class=\"near-label\">near the limit</span>"
            }
            let value = v.valueText
            let limit = v.limitText
            var evidence = v.reason.map { HTML.escape($0) } ?? ""
            if v.passed == false {
                evidence = v.evidence.prefix(6).map { "\(HTML.timeLink($0.startSeconds)) \(HTML.escape($0.note))" }
                    .joined(separator: "<br>")
                if v.evidence.count > 6 { evidence += "<br>… \(v.evidence.count - 6) more below" }
            }
            let unweighted =
                (card.standard.weights[v.rule] ?? 0) == 0
                ? "<br><span class=\"en\">weight 0: not in the score</span>" : ""
            out +=
                """
                <tr data-rule=\"\(v.rule)\" data-passed=\"\(v.passed.map { $0 ? "true" : "false" } ?? "null")\" \
                data-near-limit=\"\(v.nearLimit)\">
                """
            out += "<td><span class=\"zh\">\(v.chineseName)</span><br><span class=\"en\">\(v.englishName)</span></td>"
            out +=
                """
                <td class=\"\(cls)\">\(label)</td><td \
                class=\"num\">\(value)</td>\
                <td>\(HTML.escape(limit))\(unweighted)</td>\
                <td>\(evidence)</td></tr>\n
                """
        }
        return out + "</tbody>\n</table>\n"
    }

    // MARK: Timeline

    static func x(_ t: Double, _ duration: Double) -> Double { left + (width - left - 10) * t / max(duration, 1e-9) }

    static func timeAxis(_ duration: Double, top: Double, bottom: Double) -> String {
        let step = duration > 600 ? 120.0 : (duration > 240 ? 60.0 : (duration > 90 ? 30.0 : 10.0))
        var out = ""
        var t = 0.0
        while t <= duration + 1e-9 {
            let px = HTML.n(x(t, duration))
            out += "<line x1=\"\(px)\" y1=\"\(HTML.n(top))\" x2=\"\(px)\" y2=\"\(HTML.n(bottom))\" stroke=\"#e3e3e3\"/>"
            out += "<text x=\"\(px)\" y=\"\(HTML.n(bottom + 14))\" text-anchor=\"middle\">\(HTML.clock(t))</text>\n"
            t += step
        }
        return out
    }

    /// The agent utterances a verdict flags.
    static func flagged(_ card: Scorecard, _ rule: String) -> Set<Int> {
        Set(card.verdict(rule)?.flaggedUtterances ?? [])
    }

    static func timeline(_ m: CallMeasures, card: Scorecard) -> String {
        let longOnes = flagged(card, LongUtterancesRule().id)
        let sinking = flagged(card, FallingEndingsRule().id)
        let d = m.durationSeconds
        let laneAgent = 30.0
        let laneCustomer = 80.0
        let laneHeight = 26.0
        var svg =
            """
            <svg id=\"timeline\" viewBox=\"0 0 \(HTML.n(width)) 150\" role=\"img\" aria-label=\"Timeline of the \
            call\">\n
            """
        svg += timeAxis(d, top: 18, bottom: 120)
        svg +=
            """
            <text x=\"4\" y=\"\(HTML.n(laneAgent + 17))\">坐席 agent</text><text x=\"4\" \
            y=\"\(HTML.n(laneCustomer + 17))\">客户 customer</text>\n
            """
        for hold in m.holds {
            svg +=
                """
                <rect class=\"hold\" x=\"\(HTML.n(x(hold.startSeconds, d)))\" y=\"20\" \
                width=\"\(HTML.n(x(hold.endSeconds, d) - x(hold.startSeconds, d)))\" height=\"96\" \
                fill=\"#9e9e9e\" fill-opacity=\"0.25\">
                """
            svg +=
                """
                <title>hold / dead air \(HTML.clock(hold.startSeconds))–\(HTML.clock(hold.endSeconds)) \
                (\(String(format: "%.0f", hold.durationSeconds)) s)</title></rect>\n
                """
        }
        func lane(_ s: SpeakerMeasures?, y: Double, color: String, party: String) {
            guard let s else { return }
            for (k, u) in s.utterances.enumerated() {
                let long = party == "agent" && longOnes.contains(k)
                svg +=
                    """
                    <rect class=\"utterance \(party)\" data-t=\"\(String(format: "%.2f", u.startSeconds))\" \
                    x=\"\(HTML.n(x(u.startSeconds, d)))\" y=\"\(HTML.n(y))\" \
                    width=\"\(HTML.n(max(1, x(u.endSeconds, d) - x(u.startSeconds, d))))\" \
                    height=\"\(HTML.n(laneHeight))\" fill=\"\(color)\" fill-opacity=\"0.75\"
                    """
                svg += long ? " stroke=\"#e65100\" stroke-width=\"2.5\"" : ""
                svg +=
                    """
                    ><title>\(party) \(HTML.clock(u.startSeconds))–\(HTML.clock(u.endSeconds)), \(u.syllables) \
                    syllables\(long ? " (long)" : "")</title></rect>\n
                    """
            }
        }
        lane(m.agent, y: laneAgent, color: "#2f6db5", party: "agent")
        lane(m.customer, y: laneCustomer, color: "#c77c0e", party: "customer")
        for f in m.agent.filledPauses {
            svg +=
                """
                <rect class=\"filled-pause\" data-t=\"\(String(format: "%.2f", f.startSeconds))\" \
                x=\"\(HTML.n(x(f.startSeconds, d)))\" y=\"\(HTML.n(laneAgent + laneHeight - 7))\" \
                width=\"\(HTML.n(max(3, x(f.endSeconds, d) - x(f.startSeconds, d))))\" height=\"7\" \
                fill=\"#7b1fa2\"><title>filled pause (嗯/呃) at \(HTML.clock(f.startSeconds))</title></rect>\n
                """
        }
        for (k, u) in m.agent.utterances.enumerated() where sinking.contains(k) {
            let px = HTML.n(x(u.endSeconds, d))
            svg +=
                """
                <path class=\"falling\" d=\"M\(px) \(HTML.n(laneAgent - 2)) l-5 -9 h10 z\" \
                fill=\"#b3261e\"><title>sinking ending at \(HTML.clock(u.endSeconds))</title></path>\n
                """
        }
        for i in m.interruptions ?? [] {
            let y = i.by == .agent ? laneAgent : laneCustomer
            svg +=
                """
                <rect class=\"interruption\" x=\"\(HTML.n(x(i.atSeconds, d)))\" y=\"\(HTML.n(y - 4))\" \
                width=\"\(HTML.n(max(2, x(i.atSeconds + i.overlapSeconds, d) - x(i.atSeconds, d))))\" \
                height=\"\(HTML.n(laneHeight + 8))\" fill=\"none\" stroke=\"#b3261e\" stroke-width=\"2.5\">
                """
            svg +=
                """
                <title>\(i.by.rawValue) interrupts at \(HTML.clock(i.atSeconds)), overlap \
                \(String(format: "%.1f", i.overlapSeconds)) s</title></rect>\n
                """
        }
        for b in m.backchannels ?? [] {
            let y = b.by == .agent ? laneAgent : laneCustomer
            svg +=
                """
                <circle class=\"backchannel\" cx=\"\(HTML.n(x(b.atSeconds, d)))\" \
                cy=\"\(HTML.n(y + laneHeight + 6))\" r=\"3.5\" fill=\"#1b7f3b\"><title>\(b.by.rawValue) \
                backchannel at \(HTML.clock(b.atSeconds))</title></circle>\n
                """
        }
        return svg + "</svg>\n"
    }

    static func timelineLegend(longText: String?) -> String {
        """
        <div class="legend"><span><i class="swatch" style="background:#2f6db5"></i>agent speech</span><span><i \
        class="swatch" style="background:#c77c0e"></i>customer speech</span><span><i class="swatch" style="border:2px \
        solid #b3261e"></i>interruption</span><span><i class="swatch" \
        style="background:#1b7f3b;border-radius:6px"></i>backchannel</span><span><i class="swatch" \
        style="background:#9e9e9e;opacity:.5"></i>hold / dead air</span><span><i class="swatch" style="border:2px \
        solid #e65100"></i>too long (\(HTML.escape(longText ?? "")))</span><span><i class="swatch" \
        style="background:#b3261e;clip-path:polygon(0 0,100% 0,50% 100%)"></i>sinking ending</span><span><i \
        class="swatch" style="background:#7b1fa2"></i>filled pause (嗯/呃)</span></div>

        """
    }

    // MARK: Pitch

    static func pitchContour(_ analysis: CallAnalysis, card: Scorecard) -> String {
        let m = analysis.measures
        let d = m.durationSeconds
        let height = 180.0
        let top = 10.0
        let range = 12.0
        func y(_ st: Double) -> Double {
            top + (height - top - 20) * (range - max(-range, min(range, st))) / (2 * range)
        }
        var svg =
            """
            <svg id=\"pitch\" viewBox=\"0 0 \(HTML.n(width)) \(HTML.n(height + 10))\" role=\"img\" \
            aria-label=\"Agent pitch contour\">\n
            """
        svg += timeAxis(d, top: top, bottom: height - 10)
        for st in stride(from: -12.0, through: 12.0, by: 6.0) {
            svg +=
                """
                <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(st)))\" x2=\"\(HTML.n(width - 10))\" \
                y2=\"\(HTML.n(y(st)))\" stroke=\"\(st == 0 ? "#888" : "#eee")\"/>
                """
            svg +=
                """
                <text x=\"\(HTML.n(left - 6))\" y=\"\(HTML.n(y(st) + 4))\" \
                text-anchor=\"end\">\(st > 0 ? "+" : "")\(Int(st)) st</text>\n
                """
        }
        guard let median = m.agent.medianF0Hz, !analysis.agentContour.isEmpty else {
            return svg
                + """
                <text x=\"\(HTML.n(width / 2))\" y=\"90\" text-anchor=\"middle\">no voiced agent \
                speech</text></svg>\n
                """
        }
        // One point per 50 ms of voiced speech, joined within voiced runs.
        var path = ""
        var previous = -1.0
        for point in analysis.agentContour {
            let t = Double(point.timeSeconds)
            let st = 12 * log2(Double(point.f0Hz) / median)
            path += "\(previous >= 0 && t - previous < 0.06 ? "L" : "M")\(HTML.n(x(t, d))) \(HTML.n(y(st))) "
            previous = t
        }
        svg += "<path class=\"contour\" d=\"\(path)\" fill=\"none\" stroke=\"#2f6db5\" stroke-width=\"1.2\"/>\n"
        for k in flagged(card, FallingEndingsRule().id).sorted() {
            let u = m.agent.utterances[k]
            let s = u.endingSpan ?? u.span
            svg +=
                """
                <rect class=\"falling\" x=\"\(HTML.n(x(s.startSeconds, d) - 1))\" y=\"\(HTML.n(top))\" \
                width=\"\(HTML.n(max(3, x(s.endSeconds, d) - x(s.startSeconds, d) + 2)))\" \
                height=\"\(HTML.n(height - top - 20))\" fill=\"#b3261e\" fill-opacity=\"0.18\" stroke=\"#b3261e\" \
                stroke-width=\"1\">
                """
            svg +=
                """
                <title>sinking ending \(HTML.clock(s.startSeconds))–\(HTML.clock(s.endSeconds)): \
                \(endingLabel(u))</title>\
                </rect>\n
                """
        }
        return svg + "</svg>\n"
    }

    /// "ends 2.1 st below the register", and the tracker's octave jump when one was left out.
    static func endingLabel(_ u: Utterance) -> String {
        guard let e = u.shownEnding else { return "" }
        return e.endPhrase("the register") + (e.octaveJump ? " (an octave jump of the pitch tracker left out)" : "")
    }

    // MARK: Speech rate

    static func rateChart(_ analysis: CallAnalysis, card: Scorecard) -> String {
        let d = analysis.measures.durationSeconds
        let windows = analysis.agentRateWindows()
        let height = 180.0
        let top = 10.0
        let maxRate = max(300.0, (windows.compactMap(\.rate).max() ?? 0) * 1.1)
        func y(_ r: Double) -> Double { top + (height - top - 20) * (1 - min(r, maxRate) / maxRate) }
        var svg =
            """
            <svg id=\"rate\" viewBox=\"0 0 \(HTML.n(width)) \(HTML.n(height + 10))\" role=\"img\" \
            aria-label=\"Speech rate per 30 seconds\">\n
            """
        svg += timeAxis(d, top: top, bottom: height - 10)
        let rate = card.standard[SpeechRateRule.self]
        let (lo, hi) = (rate.minimumCharactersPerMinute, rate.maximumCharactersPerMinute)
        for r in stride(from: 0.0, through: maxRate, by: 100) {
            svg += "<text x=\"\(HTML.n(left - 6))\" y=\"\(HTML.n(y(r) + 4))\" text-anchor=\"end\">\(Int(r))</text>"
        }
        for w in windows {
            guard let rate = w.rate else { continue }
            let x0 = x(w.start + 2, d)
            let x1 = x(min(d, w.start + 28), d)
            let inBand = rate >= lo && rate <= hi
            svg +=
                """
                <rect class=\"rate-window\" data-rate=\"\(HTML.n(rate))\" x=\"\(HTML.n(x0))\" \
                y=\"\(HTML.n(y(rate)))\" width=\"\(HTML.n(max(1, x1 - x0)))\" height=\"\(HTML.n(y(0) - y(rate)))\" \
                fill=\"\(inBand ? "#1b7f3b" : "#2f6db5")\" fill-opacity=\"0.7\">
                """
            svg +=
                """
                <title>\(HTML.clock(w.start))–\(HTML.clock(min(d, w.start + 30))): \(String(format: "%.0f", rate)) \
                字/分钟</title></rect>\n
                """
        }
        // The standard's band on top of the bars, so it shows where every window stands.
        svg +=
            """
            <rect class=\"band\" x=\"\(HTML.n(left))\" y=\"\(HTML.n(y(hi)))\" \
            width=\"\(HTML.n(width - left - 10))\" height=\"\(HTML.n(y(lo) - y(hi)))\" fill=\"#1b7f3b\" \
            fill-opacity=\"0.25\"><title>standard: \(Verdict.trim(lo))–\(Verdict.trim(hi)) 字/分钟</title></rect>\n
            """
        for limit in [lo, hi] {
            svg +=
                """
                <line x1=\"\(HTML.n(left))\" y1=\"\(HTML.n(y(limit)))\" x2=\"\(HTML.n(width - 10))\" \
                y2=\"\(HTML.n(y(limit)))\" stroke=\"#1b7f3b\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>
                """
        }
        svg +=
            """
            <text x=\"\(HTML.n(width - 14))\" y=\"\(HTML.n(y(hi) - 4))\" text-anchor=\"end\" \
            fill=\"#1b7f3b\">\(Verdict.trim(lo))–\(Verdict.trim(hi)) 字/分钟</text>\n
            """
        return svg + "</svg>\n"
    }

    // MARK: Levels

    static func levels(_ m: CallMeasures, card: Scorecard) -> String {
        let lo = -60.0
        let hi = 0.0
        let level = card.standard[AgentLevelRule.self]
        let (bandLo, bandHi) = (level.minimumDbov, level.maximumDbov)
        func x(_ db: Double) -> Double { left + 90 + (width - left - 110) * (max(lo, min(hi, db)) - lo) / (hi - lo) }
        var svg =
            """
            <svg id=\"levels\" viewBox=\"0 0 \(HTML.n(width)) 110\" role=\"img\" aria-label=\"Active speech \
            levels\">\n
            """
        svg +=
            """
            <rect x=\"\(HTML.n(x(bandLo)))\" y=\"8\" width=\"\(HTML.n(x(bandHi) - x(bandLo)))\" height=\"70\" \
            fill=\"#1b7f3b\" fill-opacity=\"0.12\"><title>agent band \(Verdict.trim(bandLo)) to \
            \(Verdict.trim(bandHi)) dBov</title></rect>\n
            """
        for db in stride(from: lo, through: hi, by: 10) {
            svg +=
                """
                <line x1=\"\(HTML.n(x(db)))\" y1=\"8\" x2=\"\(HTML.n(x(db)))\" y2=\"80\" stroke=\"#eee\"/><text \
                x=\"\(HTML.n(x(db)))\" y=\"96\" text-anchor=\"middle\">\(Int(db))</text>
                """
        }
        for (row, s) in [m.agent, m.customer].enumerated() {
            guard let s else { continue }
            let y = 14.0 + Double(row) * 34
            svg += "<text x=\"4\" y=\"\(HTML.n(y + 15))\">\(s.party.chineseName) \(s.party.rawValue)</text>"
            if let level = s.activeLevelDbov {
                svg +=
                    """
                    <rect class=\"level \(s.party.rawValue)\" data-dbov=\"\(HTML.n(level))\" \
                    x=\"\(HTML.n(x(lo)))\" y=\"\(HTML.n(y))\" width=\"\(HTML.n(x(level) - x(lo)))\" height=\"22\" \
                    fill=\"\(s.party == .agent ? "#2f6db5" : "#c77c0e")\" \
                    fill-opacity=\"0.75\"><title>\(String(format: "%.1f", level)) dBov</title></rect>
                    """
                svg +=
                    """
                    <text x=\"\(HTML.n(x(level) + 6))\" y=\"\(HTML.n(y + 15))\">\(String(format: "%.1f", level)) \
                    dBov</text>\n
                    """
            }
        }
        return svg + "</svg>\n"
    }

    // MARK: Events

    static func eventTable(_ m: CallMeasures, card: Scorecard) -> String {
        var rows: [(Double, String, String)] = []
        for i in m.interruptions ?? [] {
            rows.append(
                (
                    i.atSeconds, "interruption",
                    """
                    \(i.by == .agent ? "坐席打断客户 agent interrupts" : "客户打断坐席 customer interrupts"), overlap \
                    \(String(format: "%.1f", i.overlapSeconds)) s
                    """
                ))
        }
        for b in m.backchannels ?? [] {
            rows.append(
                (
                    b.atSeconds, "backchannel",
                    "\(b.by.rawValue) backchannel (\(String(format: "%.1f", b.durationSeconds)) s)"
                ))
        }
        for h in m.holds {
            rows.append(
                (
                    h.startSeconds, "hold",
                    "hold / dead air until \(HTML.clock(h.endSeconds)) (\(String(format: "%.0f", h.durationSeconds)) s)"
                ))
        }
        for k in flagged(card, FallingEndingsRule().id).sorted() {
            let u = m.agent.utterances[k]
            rows.append(
                (
                    (u.endingSpan ?? u.span).startSeconds, "falling",
                    """
                    句尾下沉 sinking ending, \
                    \(endingLabel(u))
                    """
                ))
        }
        for f in m.agent.filledPauses {
            rows.append(
                (
                    f.startSeconds, "filled-pause",
                    "语气词 filled pause (嗯/呃), \(String(format: "%.1f", f.durationSeconds)) s"
                ))
        }
        for k in flagged(card, LongUtterancesRule().id).sorted() {
            let u = m.agent.utterances[k]
            rows.append((u.startSeconds, "long", "单句过长 \(u.syllables) syllables until \(HTML.clock(u.endSeconds))"))
        }
        rows.sort { $0.0 < $1.0 }
        var out = "<table id=\"events\">\n<thead><tr><th>Time</th><th>Event</th></tr></thead>\n<tbody>\n"
        for r in rows {
            out +=
                """
                <tr class=\"event \(r.1)\" \
                data-time=\"\(String(format: "%.2f", r.0))\"><td>\(HTML.timeLink(r.0))</td><td>\(HTML.escape(r.2))</td>\
                </tr>\n
                """
        }
        if rows.isEmpty {
            out += "<tr><td colspan=\"2\">No interruptions, holds, sinking endings or long utterances.</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}
