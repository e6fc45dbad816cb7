import Foundation
import Testing
import YusuTestSupport

/// Headless Chromium, if installed (Debian: chromium). CI installs it and sets
/// YUSU_REQUIRE_CHROMIUM=1, so there its absence is a failure, not a skip.
let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }
let chromiumRequired = ProcessInfo.processInfo.environment["YUSU_REQUIRE_CHROMIUM"] == "1"

@Suite("HTML in a real browser", .serialized)
struct HTMLRenderTests {
    func runChromium(_ arguments: [String]) throws -> CLI.Result {
        try CLI.run(
            executable: URL(fileURLWithPath: chromiumPath!),
            ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
                + arguments)
    }

    @Test("Chromium is there when CI requires it")
    func present() {
        #expect(!chromiumRequired || chromiumPath != nil, "YUSU_REQUIRE_CHROMIUM=1 but no chromium found")
    }

    @Test(
        "the demo call's page renders in headless Chromium without errors",
        .enabled(if: chromiumPath != nil, "no Chromium (Debian: chromium)"))
    func renders() throws {
        let dir = TemporaryDirectory()
        let page = dir.file("demo.html")
        let r = try CLI.run(["score", fixturesDirectory() + "/demo_call.wav", "--format", "html"])
        #expect(r.status == 0)
        try Data(r.stdout.utf8).write(to: URL(fileURLWithPath: page))
        // The DOM as Chromium parsed it: every part of the page is there.
        let dom = try runChromium(["--dump-dom", "file://" + page])
        #expect(dom.status == 0, "\(dom.stderr.suffix(500))")
        for id in ["verdicts", "timeline", "pitch", "rate", "levels", "events", "score"] {
            #expect(dom.stdout.contains("id=\"\(id)\""), "element #\(id) missing from the rendered DOM")
        }
        #expect(dom.stdout.contains("语速适中"))
        // No page errors (console errors, failed loads) in Chromium's log.
        let errors = dom.stderr.split(separator: "\n").filter {
            $0.contains("CONSOLE") || $0.contains("Uncaught") || $0.contains("ERR_FILE_NOT_FOUND")
        }
        #expect(errors.isEmpty, "\(errors)")
        // And it paints: a screenshot of a real size.
        let png = dir.file("demo.png")
        let shot = try runChromium(["--window-size=1200,2400", "--screenshot=\(png)", "file://" + page])
        #expect(shot.status == 0)
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 30_000, "screenshot is \(size) bytes")
    }

    @Test(
        "the rule names render as Chinese glyphs, not empty boxes",
        .enabled(if: chromiumPath != nil, "no Chromium (Debian: chromium)"))
    func chineseGlyphs() throws {
        let dir = TemporaryDirectory()
        let r = try CLI.run(["score", fixturesDirectory() + "/demo_call.wav", "--format", "html", "--audio", "none"])
        // The page's own head (its font stack), and a body holding one rule name, large.
        let head = String(r.stdout[..<r.stdout.range(of: "<body>")!.lowerBound])
        let names = r.stdout.components(separatedBy: "<span class=\"zh\">").dropFirst().map {
            String($0.prefix { $0 != "<" })
        }
        #expect(names.count >= 7 && names.contains("语速适中"))
        func shot(_ text: String, _ name: String) throws -> Data {
            let page = dir.file(name + ".html")
            let png = dir.file(name + ".png")
            try Data((head + "<body><p class=\"zh\" style=\"font-size:64px;margin:0\">\(text)</p></body></html>").utf8)
                .write(to: URL(fileURLWithPath: page))
            let result = try runChromium(["--window-size=600,120", "--screenshot=\(png)", "file://" + page])
            #expect(result.status == 0)
            return try Data(contentsOf: URL(fileURLWithPath: png))
        }
        // Without a CJK font every character is the same empty box, so two different names
        // of the same length paint the same pixels. With glyphs they differ. The same name
        // twice must paint the same, or the comparison proves nothing.
        let first = try shot(names[0], "a")
        let again = try shot(names[0], "b")
        let other = try names.dropFirst().first { $0.count == names[0].count && $0 != names[0] }.map {
            try shot($0, "c")
        }
        #expect(first == again, "screenshots are not deterministic")
        #expect(
            other != nil && other != first,
            "'\(names[0])' paints like another name: no CJK glyphs (install fonts-noto-cjk)")
    }

    @Test(
        """
        the night page reads on a laptop screen: nothing spills off a 1366-pixel window, headers stay short, the \
        trend is a line
        """,
        .enabled(if: chromiumPath != nil, "no Chromium (Debian: chromium)"))
    func nightPageOnALaptop() throws {
        let dir = TemporaryDirectory()
        // Three days, two agents, so each has a trend of several points; and a failed file.
        var lines = "path,agent_id,call_id,date\n"
        for (k, day) in ["2026-11-20", "2026-11-21", "2026-11-22"].enumerated() {
            for agent in ["王芳", "agent_with_a_rather_long_identifier_0042"] {
                let path = try writeRecording(
                    dir.file("\(agent)-\(k).wav"), channels: HardeningCLITests.call(seconds: 6 + Double(k)),
                    rateHz: 8000)
                lines += "\(path),\(agent),c\(k),\(day)\n"
            }
        }
        lines += "/nonexistent/missing.wav,王芳,gone,2026-11-22\n"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: dir.file("m.csv")))
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("m.csv"), "--db", db, "--quiet"]).status == 3)
        let site = dir.file("site")
        let report = try CLI.run(["report", "--db", db, "--format", "html", "--out", site])
        #expect(report.status == 0, "\(report.stderr)")
        let page = site + "/index.html"
        var html = try String(contentsOfFile: page, encoding: .utf8)
        // Measured by the browser: the page's width, the tallest header cell, the trend line's stroke.
        html = html.replacingOccurrences(
            of: "</body>",
            with: """
                <script>
                var heads = Array.from(document.querySelectorAll('#agents th, #rules th, #days th')).map(function (e) \
                { return e.getBoundingClientRect().height; });
                var line = document.querySelector('.trend polyline');
                document.body.setAttribute('data-measured', [document.documentElement.scrollWidth, \
                Math.max.apply(null, heads),
                  line ? line.getBoundingClientRect().width : 0, line ? getComputedStyle(line).strokeWidth : \
                '0'].join(' '));
                </script></body>
                """)
        let measured = dir.file("measured.html")
        try Data(html.utf8).write(to: URL(fileURLWithPath: measured))
        let dom = try runChromium(["--window-size=1366,768", "--dump-dom", "file://" + measured])
        #expect(dom.status == 0)
        guard let attribute = dom.stdout.range(of: #"data-measured="([^"]*)""#, options: .regularExpression) else {
            Issue.record("no measurement in the DOM")
            return
        }
        let values = dom.stdout[attribute].dropFirst("data-measured=\"".count).dropLast().split(separator: " ")
        let width = Double(values[0]) ?? 9999
        let tallestHeader = Double(values[1]) ?? 9999
        let trendWidth = Double(values[2]) ?? 0
        #expect(width <= 1366, "the page is \(width) px wide in a 1366 px window")
        #expect(tallestHeader <= 60, "a header cell is \(tallestHeader) px tall (wrapped over several lines)")
        #expect(trendWidth >= 100, "the trend line is \(trendWidth) px wide")
        #expect(String(values[3]) == "2.5px")
        // What the page says: both agents, their calls, the failed file and its reason.
        #expect(dom.stdout.contains("王芳") && dom.stdout.contains("agent_with_a_rather_long_identifier_0042"))
        #expect(dom.stdout.contains("/nonexistent/missing.wav</td><td>no such file</td>"), "\(dom.stdout.suffix(1500))")
        // And a screenshot of it, kept for a person to look at when this fails.
        let png = dir.file("night.png")
        #expect(try runChromium(["--window-size=1366,900", "--screenshot=\(png)", "file://" + page]).status == 0)
        #expect(((try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0) > 20_000)
        if let keep = ProcessInfo.processInfo.environment["YUSU_KEEP_SCREENSHOTS"] {
            try? FileManager.default.copyItem(atPath: png, toPath: keep + "/night.png")
        }
    }
}
