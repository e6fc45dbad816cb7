import Foundation
import Testing
import YusuSignal
import YusuTestSupport

/// Runs the real `yusu` executable built beside the tests.
struct CLI {
    static var executable: URL {
        // Tests run from the build products directory's test bundle; yusu sits beside it.
        let candidates =
            [
                Bundle.main.bundleURL.appendingPathComponent("yusu"),
                Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("yusu"),
            ] + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent("yusu") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs yusu to completion, with `environment` when given (else the tests' own).
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        try run(executable: executable, arguments, environment: environment)
    }

    /// Runs any program to completion, collecting its output.
    static func run(executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }
}

@Suite("yusu on the command line")
struct CLITests {
    let demo = fixturesDirectory() + "/demo_call.wav"

    @Test("score the bundled demo call as text")
    func scoreText() throws {
        let r = try CLI.run(["score", demo])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("语速适中") && r.stdout.contains("Speech rate"))
        #expect(r.stdout.contains("Score "))
        // Limits said in full and plainly (no brackets inside brackets), evidence where the
        // rate is furthest out.
        #expect(r.stdout.contains("; limit at most 30% of endings sink"))
        #expect(r.stdout.contains("1 utterance over 20 字; limit no utterance over 20 字"))
        #expect(r.stdout.contains("字/分钟, 最快之一 · one of the agent's fastest turns"))
        #expect(!r.stdout.contains("(limit") && !r.stdout.contains("))"), "\(r.stdout)")
        // A duration is its own evidence: no "whole call" line under it.
        #expect(!r.stdout.contains("whole call"))
        // Backchannels and interruptions with their times.
        #expect(
            r.stdout.contains("backchannels (嗯, 对, 好的 inside the other's speech): 1 (agent at 0:06."), "\(r.stdout)")
        #expect(r.stdout.contains("interruptions by the agent: 1 (at 0:44."), "\(r.stdout)")
        // The listening rule has nothing to judge on a call with no long customer turn.
        #expect(
            r.stdout.contains("n/a   适时回应客户 Active listening")
                && r.stdout.contains("not applicable: the customer never held the floor"))
    }

    /// The demo's timeline and summary, written by Fixtures/make_demo_call.py.
    static func demoTruth() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixturesDirectory() + "/demo_call.truth.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test("score as JSON: the demo's measures match its known timeline")
    func scoreJSON() throws {
        let r = try CLI.run(["score", demo, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let truth = try Self.demoTruth()
        let summary = (truth["summary"] as! [String: Any])["agent"] as! [String: Any]
        let events = truth["events"] as! [String: Any]
        #expect(abs((doc["duration_s"] as! Double) - (truth["duration_s"] as! Double)) < 0.01)
        let agent = (doc["speakers"] as! [String: Any])["agent"] as! [String: Any]
        // Real Mandarin speech: within the accuracy the dev corpus shows at 8 kHz (README).
        let syllables = Double(agent["syllables"] as! Int)
        let trueSyllables = Double(summary["syllables"] as! Int)
        #expect(abs(syllables - trueSyllables) / trueSyllables < 0.10, "syllables \(syllables) vs \(trueSyllables)")
        let rate = agent["speech_rate_cpm"] as! Double
        let trueRate = summary["speech_rate_cpm"] as! Double
        #expect(abs(rate - trueRate) / trueRate < 0.10, "speech rate \(rate) vs \(trueRate) 字/分钟")
        #expect(abs((agent["talk_time_s"] as! Double) - (summary["talk_time_s"] as! Double)) < 0.5)
        #expect(abs((agent["active_level_dbov"] as! Double) - (summary["level_dbov"] as! Double)) < 1.5)
        // One agent interruption, one backchannel, one hold, where they were laid out.
        let interruptions = (doc["interruptions"] as! [[String: Any]]).filter { $0["by"] as? String == "agent" }
        let trueInterruption = (events["interruptions"] as! [[String: Any]])[0]["at_s"] as! Double
        #expect(
            interruptions.count == 1 && abs((interruptions.first?["at_s"] as? Double ?? 0) - trueInterruption) < 0.3)
        let backchannels = doc["backchannels"] as! [[String: Any]]
        let trueBackchannel = (events["backchannels"] as! [[String: Any]])[0]["at_s"] as! Double
        #expect(backchannels.count == 1 && abs((backchannels.first?["at_s"] as? Double ?? 0) - trueBackchannel) < 0.3)
        let holds = doc["holds"] as! [[String: Any]]
        let trueHold = (events["holds"] as! [[String: Any]])[0]
        #expect(holds.count == 1)
        #expect(abs((holds.first?["start_s"] as? Double ?? 0) - (trueHold["start_s"] as! Double)) < 0.3)
        #expect(abs((holds.first?["end_s"] as? Double ?? 0) - (trueHold["end_s"] as! Double)) < 0.3)
        // The one sentence over 20 characters is the one flagged.
        let long = (doc["verdicts"] as! [[String: Any]]).first { $0["rule"] as? String == "long_utterances" }!
        let trueLong = (events["agent_utterances"] as! [[String: Any]]).filter { ($0["chars"] as! Int) > 20 }
        let evidence = long["evidence"] as! [[String: Any]]
        #expect(evidence.count == trueLong.count && trueLong.count == 1)
        #expect(abs((evidence.first?["start_s"] as? Double ?? 0) - (trueLong[0]["start_s"] as! Double)) < 0.3)
        #expect((doc["warnings"] as? [String])?.isEmpty == true)
    }

    @Test("--agent-channel 1 makes channel 1 the agent")
    func agentChannel() throws {
        let r = try CLI.run(["score", demo, "--format", "json", "--agent-channel", "1"])
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(((doc["speakers"] as! [String: Any])["agent"] as! [String: Any])["channel"] as? Int == 1)
        let bad = try CLI.run(["score", demo, "--agent-channel", "2"])
        #expect(bad.status == 64 && bad.stderr.contains("--agent-channel must be 0 or 1"))
    }

    @Test("frames as CSV")
    func frames() throws {
        let r = try CLI.run(["frames", demo, "--format", "csv"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "time_s,channel,energy_db,speech,f0_hz")
        let duration = try Self.demoTruth()["duration_s"] as! Double
        #expect(lines.count == 1 + 2 * Int((duration / 0.01).rounded(.down)), "\(lines.count) rows")
    }

    @Test("a standard file changes the limits; a bad one is refused with exit 2")
    func standard() throws {
        let dir = TemporaryDirectory()
        let good = dir.file("s.json")
        try Data(#"{"name": "strict", "version": 3, "call_duration_min_s": 50}"#.utf8).write(
            to: URL(fileURLWithPath: good))
        let r = try CLI.run(["score", demo, "--format", "json", "--standard", good])
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let duration = (doc["verdicts"] as! [[String: Any]]).first { $0["rule"] as? String == "call_duration" }!
        #expect(duration["passed"] as? Bool == true)
        #expect((doc["standard"] as! [String: Any])["version"] as? Int == 3)
        let bad = dir.file("bad.json")
        try Data(#"{"speed": 3}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let rb = try CLI.run(["score", demo, "--standard", bad])
        #expect(rb.status == 2 && rb.stderr.contains("unknown key \"speed\"") && rb.stdout.isEmpty)
    }

    @Test("bad inputs: one clear line naming the file, non-zero exit, no crash")
    func badInputs() throws {
        let dir = TemporaryDirectory()
        let tone = Synth.sine(frequencyHz: 300, amplitude: 0.3, seconds: 1, rateHz: 8000)
        var cases: [(String, String)] = []
        cases.append((dir.file("missing.wav"), "no such file"))
        let empty = dir.file("empty.wav")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        cases.append((empty, "empty"))
        let text = dir.file("text.wav")
        #expect(FileManager.default.createFile(atPath: text, contents: Data("hello".utf8)))
        cases.append((text, "not a readable audio file"))
        let cut = try writeRecording(dir.file("cut.wav"), channels: [tone], rateHz: 8000)
        let data = try Data(contentsOf: URL(fileURLWithPath: cut))
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: cut))
        cases.append((cut, "truncated"))
        cases.append(
            (
                try writeRecording(
                    dir.file("silent.wav"), channels: [[Float](repeating: 0, count: 16000)], rateHz: 8000), "no speech"
            ))
        cases.append((try writeRecording(dir.file("one.wav"), channels: [[0.1]], rateHz: 8000), "too short"))
        cases.append(
            (
                try writeRecording(
                    dir.file("fast.wav"),
                    channels: [Synth.sine(frequencyHz: 300, amplitude: 0.3, seconds: 1, rateHz: 96000)], rateHz: 96000),
                "96000 Hz"
            ))
        cases.append(
            (
                try writeRecording(dir.file("six.wav"), channels: Array(repeating: tone, count: 6), rateHz: 8000),
                "6 channels"
            ))
        for (path, reason) in cases {
            for command in ["score", "frames"] {
                let r = try CLI.run([command, path])
                if command == "frames" && reason == "no speech" {
                    // The dump that shows why no speech was found is always written.
                    #expect(r.status == 0, "frames on a silent file: status \(r.status)")
                    let rows = r.stdout.split(separator: "\n").dropFirst()
                    #expect(
                        rows.count == 200 && rows.allSatisfy { $0.split(separator: ",")[3] == "0" },
                        "\(rows.count) rows")
                    #expect(r.stderr.contains(path) && r.stderr.contains("no speech found"), "\(r.stderr)")
                    continue
                }
                #expect(r.status == 1, "\(command) \(path): status \(r.status)")
                let lines = r.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(r.stderr)")
                #expect(r.stderr.contains(path) && r.stderr.contains(reason), "\(r.stderr)")
                #expect(r.stdout.isEmpty)
            }
        }
    }
}
