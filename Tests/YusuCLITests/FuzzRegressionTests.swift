import Foundation
import Testing
import YusuTestSupport

/// Every input the fuzzer started from or once stumbled on (Fixtures/fuzz/README.md) gets a
/// score or a one-line refusal naming the file: never a signal, never a hang.
@Suite("fuzz regression inputs")
struct FuzzRegressionTests {
    static var inputs: [String] {
        let root = fixturesDirectory()
        let folders = [root + "/fuzz", root + "/../Fuzz/seeds"]
        return folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { !$0.hasSuffix(".md") }.sorted().map { folder + "/" + $0 }
        }
    }

    @Test("there are inputs to replay")
    func present() {
        #expect(Self.inputs.count >= 12, "\(Self.inputs)")
    }

    @Test("each input: exit 0 with a JSON score, or exit 1 with one line naming the file", arguments: inputs)
    func replay(_ path: String) throws {
        let r = try CLI.run(["score", path, "--format", "json"])
        #expect(r.status == 0 || r.status == 1, "\(path): exit \(r.status) \(r.stderr.suffix(300))")
        if r.status == 0 {
            #expect(
                (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) is [String: Any],
                "\(r.stdout.prefix(200))")
        } else {
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("yusu: \(path):"), "\(r.stderr)")
            // A refusal of the input, not a result that could not be written (a NaN measure).
            #expect(!r.stderr.contains("internal error"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }
}
