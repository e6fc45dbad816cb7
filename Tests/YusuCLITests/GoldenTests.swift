import Foundation
import Testing
import YusuSignal
import YusuTestSupport

/// The dev calls (`../shared/corpus/dev/calls`, beside the checkout) and the demo call;
/// CI sets YUSU_REQUIRE_CORPUS=1, so there a missing corpus fails instead of skipping.
private let corpusCalls = URL(fileURLWithPath: fixturesDirectory()).deletingLastPathComponent()
    .deletingLastPathComponent()
    .appendingPathComponent("shared/corpus/dev/calls").path
private let corpusRequired = ProcessInfo.processInfo.environment["YUSU_REQUIRE_CORPUS"] == "1"
private let listeningCalls = URL(fileURLWithPath: corpusCalls).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("dev-listening/calls").path
private func present(_ folder: String) -> Bool {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasSuffix(".wav") }
}
/// Without the corpus the dev calls' tests are skipped, and say so; where CI requires it they
/// run, and fail on what is missing.
private let corpusTests = present(corpusCalls) || corpusRequired
private let listeningTests = present(listeningCalls) || corpusRequired
private let goldenCalls: [(folder: String, file: String)] =
    [(fixturesDirectory(), "demo_call.wav")] + (corpusTests ? (0..<6).map { (corpusCalls, "call_0\($0).wav") } : [])

/// Every output byte for byte as `scripts/golden.sh` recorded it (Fixtures/golden/): a change
/// that moves a number, a word or a digit of formatting fails here until it is meant, and
/// then the script is run again and the commit says why.
@Suite("outputs pinned over the dev calls and the demo call")
struct GoldenTests {
    static let outputs: [(suffix: String, arguments: [String], stdin: Bool)] = [
        ("score.json", ["score", "--format", "json"], false),
        ("score.txt", ["score"], false),
        ("score.html", ["score", "--format", "html", "--audio", "none"], false),
        ("live.jsonl", ["live", "-", "--name"], true),
    ]

    @Test(
        "the dev calls beside the checkout, for their golden files",
        .enabled(if: corpusTests, "no ../shared/corpus/dev/calls beside the checkout: only the demo call is compared"))
    func corpus() {
        #expect(present(corpusCalls), "YUSU_REQUIRE_CORPUS=1 but \(corpusCalls) holds no calls")
    }

    @Test(
        "score (JSON, text, HTML) and live print what they printed when pinned", arguments: goldenCalls.map { $0.file })
    func pinned(file: String) throws {
        let folder = goldenCalls.first { $0.file == file }!.folder
        try #require(FileManager.default.fileExists(atPath: folder + "/" + file), "\(folder)/\(file) is missing")
        let stem = String(file.dropLast(4))
        for output in Self.outputs {
            let golden = try String(
                contentsOfFile: fixturesDirectory() + "/golden/\(stem).\(output.suffix)", encoding: .utf8)
            let actual = try Self.run(
                output.arguments + [file], in: folder, stdin: output.stdin ? folder + "/" + file : nil)
            if actual != golden && !(Self.otherFFTW && Self.alike(actual, golden)) {
                let kept = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "yusu-golden-\(stem).\(output.suffix)")
                try? Data(actual.utf8).write(to: kept)
                let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
                let g = golden.split(separator: "\n", omittingEmptySubsequences: false)
                let line = (0..<min(a.count, g.count)).first { a[$0] != g[$0] } ?? min(a.count, g.count)
                Issue.record(
                    """
                    \(stem).\(output.suffix) differs from Fixtures/golden at line \(line + 1) (now kept in \
                    \(kept.path)):
                      golden: \(line < g.count ? String(g[line].prefix(300)) : "(end)")
                      now:    \(line < a.count ? String(a[line].prefix(300)) : "(end)")
                    """)
            }
        }
    }

    /// Whether this machine's FFTW rounds differently from the one the golden files were
    /// written on (FFTW picks SIMD kernels by the processor): then numbers may differ in their
    /// last digits, and `alike` is the comparison; everywhere else it is byte for byte.
    static let otherFFTW: Bool = {
        let recorded = try? String(
            contentsOfFile: fixturesDirectory() + "/golden/fftw-fingerprint.txt", encoding: .utf8)
        return recorded?.trimmingCharacters(in: .whitespacesAndNewlines) != fftwFingerprint()
    }()

    /// The bit patterns of FFTW's forward and inverse transforms, at both sizes the analysis
    /// uses, of a fixed signal, hashed (FNV-1a).
    static func fftwFingerprint() -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for size in [256, 512] {
            let fft = RealFFT(size: size)
            for i in 0..<size { fft.real[i] = Float(sin(Double(i) * 0.37) + 0.25 * cos(Double(i * i) * 0.011)) }
            fft.forward()
            for k in 0..<(2 * fft.binCount) { hash = (hash ^ UInt64(fft.spectrum[k].bitPattern)) &* 0x100_0000_01b3 }
            fft.inverse()
            for i in 0..<size { hash = (hash ^ UInt64(fft.real[i].bitPattern)) &* 0x100_0000_01b3 }
        }
        return String(hash, radix: 16)
    }

    /// The same text but for numbers within 2% (or 0.02) of each other: what another
    /// processor's rounding can move; a word or a verdict never.
    static func alike(_ a: String, _ b: String) -> Bool {
        let number = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/
        func parts(_ s: String) -> (text: [Substring], numbers: [Double]) {
            var text: [Substring] = []
            var numbers: [Double] = []
            var rest = s[...]
            while let m = rest.firstMatch(of: number) {
                text.append(rest[..<m.range.lowerBound])
                numbers.append(Double(m.output) ?? .nan)
                rest = rest[m.range.upperBound...]
            }
            text.append(rest)
            return (text, numbers)
        }
        let (x, y) = (parts(a), parts(b))
        return x.text == y.text && x.numbers.count == y.numbers.count
            && zip(x.numbers, y.numbers).allSatisfy { abs($0 - $1) <= max(0.02, 0.02 * max(abs($0), abs($1))) }
    }

    @Test("FFTW's rounding here against the golden files' (printed, for scripts/golden.sh); the fallback comparison")
    func fingerprint() {
        print("FFTW fingerprint: \(Self.fftwFingerprint())")
        if Self.otherFFTW { print("GoldenTests: this machine's FFTW rounds differently; numbers compared within 2%") }
        #expect(Self.alike("rate 203.042 字/分钟", "rate 203.05 字/分钟") && !Self.alike("PASS 1", "FAIL 1"))
        #expect(!Self.alike("89 syllables", "95 syllables") && !Self.alike("1 2", "1 2 3"))
    }

    /// Runs yusu in `folder` (so names in the output are the bare file names the golden
    /// files hold), with `stdin` from a file when given.
    static func run(_ arguments: [String], in folder: String, stdin: String?) throws -> String {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdin)) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        _ = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(
            process.terminationStatus == 0,
            "yusu \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        return String(decoding: o, as: UTF8.self)
    }
}

/// The listening calls (`dev-listening`): live's no_acknowledgement alerts and score's
/// listening verdict read the same floors (CallTimeline's), so they name the same turns.
@Suite("live alerts and verdicts judge the same customer floors")
struct SameFloorsTests {
    static let folder = listeningCalls

    @Test(
        "every no_acknowledgement alert is a turn the verdict lists, and every listed turn was alerted",
        .enabled(if: listeningTests, "no ../shared/corpus/dev-listening/calls beside the checkout"))
    func sameFloors() throws {
        let calls = ((try? FileManager.default.contentsOfDirectory(atPath: Self.folder)) ?? [])
            .filter { $0.hasSuffix(".wav") }
        try #require(!calls.isEmpty, "YUSU_REQUIRE_CORPUS=1 but \(Self.folder) holds no calls")
        var alerted = 0
        for call in calls.sorted() {
            let live = try GoldenTests.run(
                ["live", "-", "--name", call], in: Self.folder, stdin: Self.folder + "/" + call)
            let alerts = live.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { $0["kind"] as? String == "no_acknowledgement" }.compactMap { $0["start_s"] as? Double }
            let score = try GoldenTests.run(["score", "--format", "json", call], in: Self.folder, stdin: nil)
            let document = try JSONSerialization.jsonObject(with: Data(score.utf8)) as? [String: Any]
            let verdict = (document?["verdicts"] as? [[String: Any]])?.first { $0["rule"] as? String == "listening" }
            let listed = (verdict?["evidence"] as? [[String: Any]] ?? []).compactMap { $0["start_s"] as? Double }
            #expect(alerts == listed, "\(call): alerts at \(alerts), verdict lists \(listed)")
            alerted += alerts.count
        }
        #expect(alerted > 0, "the listening calls raised no alert at all")
    }
}
