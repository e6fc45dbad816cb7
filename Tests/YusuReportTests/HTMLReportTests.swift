import Foundation
import Testing
@testable import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport
import YusuSignal
import YusuTestSupport

/// Counts of `needle` in `haystack`.
func occurrences(_ needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}

/// Values of attribute `name` on the elements whose class list starts with `cls`.
func attributeValues(_ name: String, class cls: String, in html: String) -> [String] {
    let pattern = "class=\"\(NSRegularExpression.escapedPattern(for: cls))[^\"]*\"[^>]*\(name)=\"([^\"]*)\""
    let regex = try! NSRegularExpression(pattern: pattern)
    return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).compactMap {
        Range($0.range(at: 1), in: html).map { String(html[$0]) }
    }
}

@Suite("HTML reports")
struct HTMLReportTests {
    @Test("a call page: verdicts, timeline, pitch, rate, levels and events carry the measured numbers")
    func callPage() throws {
        let dir = TemporaryDirectory()
        let (path, at) = try writeInterruptedCall(in: dir)
        // The page draws the contour: the analysis keeps it (score --format html asks the same).
        let analysis = try CallScorer().analyze(path: path, options: CallOptions(keepContour: true))
        let m = analysis.measures
        let card = Standard().evaluate(m)
        let html = HTMLCallReport.render(analysis, card)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<meta charset=\"utf-8\">"))
        // Self-contained: no scripts, no external resources.
        #expect(
            !html.contains("<script") && !html.contains("http://") && !html.contains("https://")
                && !html.contains("<link"))
        // Verdicts: one row per rule, passed state as the scorecard says, Chinese beside English.
        #expect(occurrences("<tr data-rule=", in: html) == RuleBook.all.count)
        for v in card.verdicts {
            let state = v.passed.map { $0 ? "true" : "false" } ?? "null"
            #expect(
                html.contains(
                    "<tr data-rule=\"\(v.rule)\" data-passed=\"\(state)\" data-near-limit=\"\(v.nearLimit)\">"))
            #expect(html.contains(v.chineseName) && html.contains(v.englishName))
        }
        #expect(html.contains("id=\"score\">\(Scorecard.scoreText(card.score))"))
        // Timeline: one bar per utterance of each party, the interruption and the hold marked.
        let utterances = m.agent.utterances.count + (m.customer?.utterances.count ?? 0)
        #expect(occurrences("class=\"utterance ", in: html) == utterances)
        #expect(occurrences("class=\"interruption\"", in: html) == (m.interruptions?.count ?? 0))
        #expect(m.interruptions?.contains { $0.by == .agent } == true)
        #expect(
            html.contains(
                "agent interrupts at \(TextReport.clock(m.interruptions!.first { $0.by == .agent }!.atSeconds))"))
        #expect(abs(m.interruptions!.first { $0.by == .agent }!.atSeconds - at) < 0.15)
        #expect(occurrences("class=\"hold\"", in: html) == m.holds.count && m.holds.count == 1)
        // Events table: every event with its time, sorted.
        let times = attributeValues("data-time", class: "event", in: html).compactMap(Double.init)
        #expect(times == times.sorted() && times.count >= 2)
        // Pitch contour drawn; rate windows as computed; levels as measured.
        #expect(html.contains("<path class=\"contour\" d=\"M"))
        let rates = attributeValues("data-rate", class: "rate-window", in: html).compactMap(Double.init)
        let expected = analysis.agentRateWindows().compactMap(\.rate)
        #expect(rates.count == expected.count && zip(rates, expected).allSatisfy { abs($0 - $1) <= 0.06 })
        let levels = attributeValues("data-dbov", class: "level", in: html).compactMap(Double.init)
        #expect(levels.count == 2 && abs(levels[0] - (m.agent.activeLevelDbov ?? 0)) <= 0.06)
    }

    @Test("rate windows tile the call, the last cut at its end, and the page names and draws them so")
    func rateWindowsTile() throws {
        let dir = TemporaryDirectory()
        let seconds = 70.0
        // Talk throughout: a train of 14 syllables every 5 s, so every window holds over 5 s of talk.
        var agent = Synth.noise(seconds: seconds, rateHz: 8000, rmsDbov: -60, seed: 1)
        for start in stride(from: 0.5, to: seconds - 4, by: 5) {
            agent = Synth.mix(
                agent,
                Synth.place(Synth.syllableTrain(count: 14), atSeconds: start, totalSeconds: seconds, rateHz: 8000))
        }
        let path = try writeRecording(dir.file("long.wav"), channels: [agent], rateHz: 8000)
        let analysis = try CallScorer().analyze(path: path)
        let duration = analysis.measures.durationSeconds
        let windows = analysis.agentRateWindows()
        #expect(CallAnalysis.rateWindowSeconds == 30)
        #expect(windows.map(\.start) == [0, 30, 60])
        #expect(windows.map(\.end) == [30, 60, duration])
        #expect(windows.allSatisfy { $0.rate != nil })
        let html = HTMLCallReport.render(analysis, Standard().evaluate(analysis.measures))
        #expect(html.contains("Speech rate per 30 s") && html.contains("aria-label=\"Speech rate per 30 seconds\""))
        let titles = windows.map { "\(HTML.clock($0.start))–\(HTML.clock($0.end)): " }
        #expect(titles.last == "1:00.0–\(HTML.clock(duration)): ")
        #expect(titles.allSatisfy { html.contains($0) })
        #expect(occurrences("class=\"rate-window\"", in: html) == 3)
    }

    @Test("the templates escape every value a call page shows: a title, a warning and a player link with markup")
    func callPageEscapes() throws {
        let dir = TemporaryDirectory()
        let (path, _) = try writeInterruptedCall(in: dir)
        var analysis = try CallScorer().analyze(path: path, options: CallOptions(keepContour: true))
        analysis.measures.warnings = ["clipped <b>&</b> 'twice'"]
        let card = Standard().evaluate(analysis.measures)
        let html = HTMLCallReport.render(
            analysis, card, title: "<i>call</i> & \"1\"", audio: .link("x.wav\"><script>alert(1)</script>"))
        #expect(html.contains("<title>Yusu — &lt;i&gt;call&lt;/i&gt; &amp; &quot;1&quot;</title>"))
        #expect(html.contains("<h1>Yusu 语速 — &lt;i&gt;call&lt;/i&gt; &amp; &quot;1&quot;</h1>"))
        #expect(html.contains("<div class=\"warning\">⚠ clipped &lt;b&gt;&amp;&lt;/b&gt; &#39;twice&#39;</div>"))
        #expect(html.contains("src=\"x.wav&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""))
        #expect(!html.contains("<i>call") && !html.contains("<b>&") && !html.contains("<script>alert"))
        // The page's own markup is not escaped: one player, its script, every chart.
        #expect(occurrences("<audio id=\"player\"", in: html) == 1 && occurrences("<script>", in: html) == 1)
        for id in ["timeline", "pitch", "rate", "levels"] { #expect(html.contains("<svg id=\"\(id)\"")) }
    }

    @Test("a view model's numbers of every width, enums, optionals and nested lists reach the template as values")
    func viewModelValues() {
        enum Level: String, Encodable { case low, high }
        struct Item: Encodable { let name: String, weight: Float }
        struct Model: Encodable {
            let small: Float, wide: Int64, byte: UInt8, whole: Int, real: Double, flag: Bool
            let level: Level
            let missing: String?
            let items: [Item]
        }
        let set = TemplateSet([
            (
                "t",
                Array(
                    """
                    {{small}} {{wide}} {{byte}} {{whole}} {{real}} {{#flag}}yes{{/flag}} {{level}} \
                    [{{missing}}]{{#items}} {{name}}={{weight}}{{/items}}
                    """.utf8)
            )
        ])
        let text = set.render(
            "t",
            Model(
                small: 0.5, wide: 1 << 40, byte: 7, whole: 3, real: 2.25, flag: true, level: .high, missing: nil,
                items: [Item(name: "a<b", weight: 1.5), Item(name: "c", weight: 2)]))
        #expect(text == "0.5 1099511627776 7 3 2.25 yes high [] a&lt;b=1.5 c=2.0", "\(text)")
    }

    @Test(
        """
        escaping reads bytes, not Characters: a quote or bracket carrying a combining mark (one Character, which a \
        Character comparison passes over) is still escaped, and the text around it is kept as it is
        """
    )
    func escapingByBytes() throws {
        let dir = TemporaryDirectory()
        let (path, _) = try writeInterruptedCall(in: dir)
        let analysis = try CallScorer().analyze(path: path, options: CallOptions(keepContour: true))
        let card = Standard().evaluate(analysis.measures)
        let hostile = "坐席\"\u{301} onmouseover=alert(3) <\u{301}b>"
        let link = "x.wav\"\u{301} onerror=alert(4)"
        let html = HTMLCallReport.render(analysis, card, title: hostile, audio: .link(link))
        #expect(!html.contains("\"\u{301}") && !html.contains("<\u{301}b"))
        #expect(html.contains("<title>Yusu — 坐席&quot;\u{301} onmouseover=alert(3) &lt;\u{301}b&gt;</title>"))
        #expect(html.contains("src=\"x.wav&quot;\u{301} onerror=alert(4)\""))
    }

    @Test("the night page: one row per agent and per day, pass rates, links only to written pages")
    func nightPage() throws {
        let worst = NightlySummary.WorstCall(
            callId: "c<1>", path: "/a/c1.wav", agentChannel: 0, score: 40,
            failures: [
                .init(
                    rule: "speech_rate", value: 150,
                    evidence: [.init(startSeconds: 75.5, endSeconds: 80, note: "agent turn")])
            ])
        func group(_ agent: String, _ date: String, _ score: Double, _ rate: Double) -> NightlySummary.Group {
            NightlySummary.Group(
                agentId: agent, date: date, calls: 4, failed: 1, meanScore: score,
                passRate: Dictionary(uniqueKeysWithValues: RuleBook.ids.map { ($0, Optional(rate)) }),
                meanSpeechRateCharactersPerMinute: 131, interruptionsPerCall: 0.25, fallingEndingShare: 0.1,
                worstCalls: [worst])
        }
        let summary = NightlySummary(
            standardKey: "default@1#x", since: "2026-11-20",
            groups: [
                group("A", "2026-11-20", 60, 0.5), group("A", "2026-11-21", 80, 1.0),
                group("B", "2026-11-21", 70, 0.25),
            ])
        let page = HTMLNightReport.callPageName(worst)
        let html = HTMLNightReport.render(summary, linked: [page])
        #expect(occurrences("<tr class=\"agent\"", in: html) == 2)
        #expect(occurrences("<tr class=\"day\"", in: html) == 3)
        // Agent A: 8 calls, 2 failed files, mean score 70; its weakest rules at 75% (two days
        // of 4 calls at 50% and 100%).
        #expect(
            html.contains(
                """
                data-agent=\"A\"><td>A</td><td class=\"num\">8</td><td class=\"num\"><span \
                class=\"fail\">2</span></td><td class=\"num\">70</td>
                """
            ), "\(html)")
        #expect(html.contains("<span class=\"\">语速适中 75%</span>"))
        // One row per rule, all agents: (4·0.5 + 4·1.0 + 4·0.25) / 12 = 58%, agent B under 50%.
        #expect(occurrences("<tr data-rule=", in: html) == RuleBook.all.count)
        #expect(html.contains("<td class=\"num \">58%</td><td class=\"num\">12</td><td>B 25%</td>"))
        #expect(html.contains("<a class=\"worst\" href=\"\(page)\">c&lt;1&gt; (40.0)</a>"))
        #expect(html.contains("语速适中 <span class=\"t\">1:15.5</span>"))
        #expect(occurrences("<svg class=\"trend\"", in: html) == 2)
        let unlinked = HTMLNightReport.render(summary, linked: [])
        #expect(!unlinked.contains("<a class=\"worst\"") && unlinked.contains("<span class=\"worst\">"))
    }
}
