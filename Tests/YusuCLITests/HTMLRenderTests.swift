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
        try CLI.run(executable: URL(fileURLWithPath: chromiumPath!),
                    ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"] + arguments)
    }

    @Test("Chromium is there when CI requires it")
    func present() {
        #expect(!chromiumRequired || chromiumPath != nil, "YUSU_REQUIRE_CHROMIUM=1 but no chromium found")
    }

    @Test("the demo call's page renders in headless Chromium without errors", .enabled(if: chromiumPath != nil))
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
        let errors = dom.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") || $0.contains("ERR_FILE_NOT_FOUND") }
        #expect(errors.isEmpty, "\(errors)")
        // And it paints: a screenshot of a real size.
        let png = dir.file("demo.png")
        let shot = try runChromium(["--window-size=1200,2400", "--screenshot=\(png)", "file://" + page])
        #expect(shot.status == 0)
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 30_000, "screenshot is \(size) bytes")
    }

    @Test("the rule names render as Chinese glyphs, not empty boxes", .enabled(if: chromiumPath != nil))
    func chineseGlyphs() throws {
        let dir = TemporaryDirectory()
        let r = try CLI.run(["score", fixturesDirectory() + "/demo_call.wav", "--format", "html", "--audio", "none"])
        // The page's own head (its font stack), and a body holding one rule name, large.
        let head = String(r.stdout[..<r.stdout.range(of: "<body>")!.lowerBound])
        let names = r.stdout.components(separatedBy: "<span class=\"zh\">").dropFirst().map { String($0.prefix { $0 != "<" }) }
        #expect(names.count >= 7 && names.contains("语速适中"))
        func shot(_ text: String, _ name: String) throws -> Data {
            let page = dir.file(name + ".html"), png = dir.file(name + ".png")
            try Data((head + "<body><p class=\"zh\" style=\"font-size:64px;margin:0\">\(text)</p></body></html>").utf8)
                .write(to: URL(fileURLWithPath: page))
            let result = try runChromium(["--window-size=600,120", "--screenshot=\(png)", "file://" + page])
            #expect(result.status == 0)
            return try Data(contentsOf: URL(fileURLWithPath: png))
        }
        // Without a CJK font every character is the same empty box, so two different names
        // of the same length paint the same pixels. With glyphs they differ. The same name
        // twice must paint the same, or the comparison proves nothing.
        let first = try shot(names[0], "a"), again = try shot(names[0], "b")
        let other = try names.dropFirst().first { $0.count == names[0].count && $0 != names[0] }.map { try shot($0, "c") }
        #expect(first == again, "screenshots are not deterministic")
        #expect(other != nil && other != first, "'\(names[0])' paints like another name: no CJK glyphs (install fonts-noto-cjk)")
    }
}
