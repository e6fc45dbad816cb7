import Foundation
import Testing
import YusuSignal
import YusuTestSupport

/// `yusu live` with its standard input written by the test, piece by piece.
struct LiveRun {
    var status: Int32
    var lines: [[String: Any]]
    var raw: [String]
    var stderr: String

    var summary: [String: Any]? {
        lines.last.flatMap { $0["type"] as? String == "summary" ? $0["document"] as? [String: Any] : nil }
    }
    func of(_ type: String) -> [[String: Any]] { lines.filter { $0["type"] as? String == type } }
    func alerts(_ kind: String) -> [[String: Any]] { of("alert").filter { $0["kind"] as? String == kind } }

    /// Runs yusu live with `arguments`; `feed` writes standard input (then it is closed,
    /// unless `feed` returns false) and may signal the process.
    static func run(_ arguments: [String], feed: (FileHandle, Process) throws -> Bool) throws -> LiveRun {
        _ = ignoreBrokenPipes
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["live"] + arguments
        let input = Pipe()
        let out = Pipe()
        let err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both outputs while the input is written, so that no pipe fills up.
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let close = try feed(input.fileHandleForWriting, process)
        if close { try input.fileHandleForWriting.close() }
        process.waitUntilExit()
        group.wait()
        if !close { try? input.fileHandleForWriting.close() }
        let raw = String(decoding: outData, as: UTF8.self).split(separator: "\n").map(String.init)
        let lines = raw.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        return LiveRun(
            status: process.terminationStatus, lines: lines, raw: raw, stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A write into a child that has already exited fails with EPIPE rather than killing the
    /// test process with SIGPIPE. The tests share one process, so a SIGPIPE ended every test
    /// in flight with "exited with unexpected signal code 13": a refused stream can exit while
    /// the rest of its bytes are still being written (`badInput`'s six channels, which did so
    /// now and then at 96 KB, and at 960 KB every time without this).
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Writes `bytes` in pieces of random size.
    static func write(_ bytes: Data, to handle: FileHandle, seed: UInt64, largest: Int = 20_000) throws {
        var rng = Synth.Random(seed: seed)
        var i = 0
        while i < bytes.count {
            let n = min(bytes.count - i, 1 + Int(rng.next() % UInt64(largest)))
            try handle.write(contentsOf: bytes[i..<(i + n)])
            i += n
        }
    }
}

/// The data chunk of a WAV file libsndfile wrote (for raw-input tests).
func wavData(_ path: String) throws -> Data {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var i = 12
    while i + 8 <= bytes.count {
        let size = Int(bytes[i + 4]) | Int(bytes[i + 5]) << 8 | Int(bytes[i + 6]) << 16 | Int(bytes[i + 7]) << 24
        if String(decoding: bytes[i..<(i + 4)], as: UTF8.self) == "data" {
            return Data(bytes[(i + 8)..<min(bytes.count, i + 8 + size)])
        }
        i += 8 + size + (size & 1)
    }
    throw CocoaError(.fileReadCorruptFile)
}

@Suite("yusu live: a call coached as it comes")
struct LiveCLITests {
    let demo = fixturesDirectory() + "/demo_call.wav"

    func score(_ path: String) throws -> [String: Any] {
        let r = try CLI.run(["score", path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    /// Equal as JSON (key order aside).
    func same(_ a: [String: Any]?, _ b: [String: Any], except: Set<String> = []) -> Bool {
        guard var a else { return false }
        var b = b
        for k in except {
            a[k] = nil
            b[k] = nil
        }
        return json(a) == json(b)
    }

    func json(_ x: Any) -> String {
        String(
            decoding: (try? JSONSerialization.data(withJSONObject: ["x": x], options: [.sortedKeys, .fragmentsAllowed]))
                ?? Data(), as: UTF8.self)
    }

    @Test("the demo call in random pieces: every event line is the score's, the summary is score's document")
    func matchesScore() throws {
        let expected = try score(demo)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: demo))
        // Seeds 1–3 a piece at a time (live's default), seed 4 with serve's 40 ms steps, seed 5
        // a second at a time: the lines are the same whatever the pieces and the steps.
        var firstLines: [String]? = nil
        for seed: UInt64 in [1, 2, 3, 4, 5] {
            let step = seed == 4 ? ["--analysis-step-ms", "40"] : seed == 5 ? ["--analysis-step-ms", "1000"] : []
            let r = try LiveRun.run(["-", "--name", "demo_call.wav"] + step) { h, _ in
                try LiveRun.write(bytes, to: h, seed: seed, largest: seed == 1 ? 7 : 30_000)
                return true
            }
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.lines.count == r.raw.count, "every line is JSON")
            // Byte for byte, emitted_at_s included.
            if let firstLines { #expect(r.raw == firstLines, "seed \(seed): the lines differ from seed 1's") }
            firstLines = firstLines ?? r.raw
            #expect(
                r.lines.first?["type"] as? String == "started" && r.lines.first?["format"] as? String == "WAV μ-law")
            #expect(same(r.summary, expected), "seed \(seed): the summary differs from score's document")
            // Each utterance line is the summary's utterance of the same index.
            let agent = (expected["speakers"] as! [String: Any])["agent"] as! [String: Any]
            let utterances = agent["utterances"] as! [[String: Any]]
            let lines = r.of("utterance")
            #expect(lines.count == utterances.count)
            for (line, u) in zip(lines, utterances) {
                for key in ["start_s", "end_s", "syllables", "falling_ending"] {
                    #expect(json(line[key] ?? NSNull()) == json(u[key] ?? NSNull()), "\(key): \(line) vs \(u)")
                }
            }
            #expect(r.of("sinking_ending").count == agent["falling_endings"] as! Int)
            let fillers = agent["filled_pauses"] as! [[String: Any]]
            #expect(r.of("filled_pause").map { $0["start_s"] as! Double } == fillers.map { $0["start_s"] as! Double })
            let interruptions = expected["interruptions"] as! [[String: Any]]
            #expect(
                r.of("interruption").map { $0["at_s"] as! Double }.sorted()
                    == interruptions.map { $0["at_s"] as! Double })
            #expect(
                r.alerts("talking_over_customer").count == interruptions.filter { $0["by"] as? String == "agent" }.count
            )
            let backchannels = expected["backchannels"] as! [[String: Any]]
            #expect(
                r.of("backchannel").map { $0["at_s"] as! Double }.sorted() == backchannels.map { $0["at_s"] as! Double }
            )
            #expect(r.of("hold").count == (expected["holds"] as! [Any]).count)
            // Lines come in the order they were emitted, each after its evidence.
            let times = r.lines.dropLast().map { $0["emitted_at_s"] as! Double }
            #expect(times == times.sorted())
            for line in lines { #expect((line["emitted_at_s"] as! Double) >= (line["end_s"] as! Double)) }
        }
    }

    @Test(
        "raw input in each encoding: the same samples as the WAV, the same document",
        arguments: ["s16le", "ulaw", "alaw"])
    func rawEncodings(encoding: String) throws {
        let dir = TemporaryDirectory()
        let reader = try AudioFileReader(path: demo)
        var samples: [Float] = []
        var block = [Float](repeating: 0, count: 8192)
        while true {
            let n = try reader.read(into: &block)
            if n == 0 { break }
            samples += block[0..<(2 * n)]
        }
        let format: AudioFileFormat = encoding == "s16le" ? .wavPCM16 : encoding == "ulaw" ? .wavMuLaw : .wavALaw
        let wav = dir.file("call.wav")
        try AudioFileWriter.write(path: wav, samples: samples, channels: 2, sampleRateHz: 8000, format: format)
        let expected = try score(wav)
        let data = try wavData(wav)
        let r = try LiveRun.run([
            "-", "--rate", "8000", "--channels", "2", "--encoding", encoding, "--name", "call.wav",
        ]) { h, _ in
            try LiveRun.write(data, to: h, seed: 9)
            return true
        }
        #expect(r.status == 0, "\(r.stderr)")
        let name = encoding == "s16le" ? "PCM 16-bit" : encoding == "ulaw" ? "μ-law" : "A-law"
        #expect(r.lines.first?["format"] as? String == "raw \(name)")
        #expect(same(r.summary, expected, except: ["format"]), "raw \(encoding): summary differs")
        #expect(r.summary?["format"] as? String == "raw \(name)")
    }

    @Test(
        """
        --follow: a WAV written while yusu reads it; lines come before the writer is done; the end comes after \
        --idle-seconds
        """
    )
    func follow() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("recording.wav")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: demo))
        // What a recorder writes: the header with a placeholder data size, then the audio as it comes.
        var header = [UInt8](bytes.prefix(4096))
        let dataAt = try { () throws -> Int in
            var i = 12
            while i + 8 <= header.count {
                let size =
                    Int(header[i + 4]) | Int(header[i + 5]) << 8 | Int(header[i + 6]) << 16 | Int(header[i + 7]) << 24
                if String(decoding: header[i..<(i + 4)], as: UTF8.self) == "data" { return i }
                i += 8 + size + (size & 1)
            }
            throw CocoaError(.fileReadCorruptFile)
        }()
        for k in 4..<8 { header[dataAt + k] = 0 }
        let audio = bytes[(dataAt + 8)...]
        #expect(FileManager.default.createFile(atPath: path, contents: Data(header[0..<(dataAt + 8)])))
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["live", "--follow", path, "--idle-seconds", "1.5"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var linesBeforeDone = 0
        nonisolated(unsafe) var outData = Data()
        let writerDone = NSLock()
        nonisolated(unsafe) var done = false
        let reading = DispatchGroup()
        reading.enter()
        DispatchQueue.global().async {
            let h = out.fileHandleForReading
            while true {
                let d = h.availableData
                if d.isEmpty { break }
                outData += d
                writerDone.withLock {
                    if !done { linesBeforeDone = outData.split(separator: UInt8(ascii: "\n")).count }
                }
            }
            reading.leave()
        }
        // 20 pieces over about 2 s.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        let piece = audio.count / 20 + 1
        var i = audio.startIndex
        while i < audio.endIndex {
            let end = min(audio.endIndex, i + piece)
            try handle.write(contentsOf: audio[i..<end])
            i = end
            usleep(100_000)
        }
        try handle.close()
        writerDone.withLock { done = true }
        let written = Date()
        process.waitUntilExit()
        let waited = Date().timeIntervalSince(written)
        reading.wait()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(errText)")
        let lines = String(decoding: outData, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(linesBeforeDone >= 3, "only \(linesBeforeDone) lines while the recording was being written")
        #expect(waited >= 1.4, "ended \(waited) s after the last write, before --idle-seconds")
        let summary = lines.last?["document"] as? [String: Any]
        let expected = try score(demo)
        #expect(summary?["file"] as? String == "recording.wav")
        #expect(same(summary, expected, except: ["file"]), "the followed recording's summary differs from score's")
    }

    @Test("hold music starting as the agent's last word ends: the utterance line within 1 s, not after a 2 s window")
    func toneAfterSpeech() throws {
        // 12 syllables (pitch wandering, level swinging), then 50 ms on a synthesised note as
        // steady as a machine's (261.6 Hz, 16 dB under the speech) for 6 s: call_04's hold.
        let rate = 8000
        let total = 12.0
        let train = Synth.syllableTrain(count: 12, f0Hz: 190, leadSeconds: 0)
        let trainEnd = 0.5 + Double(train.count) / Double(rate) - 0.07
        var agent = Synth.place(train, atSeconds: 0.5, totalSeconds: total, rateHz: rate)
        let note = Synth.harmonicTone(seconds: 6, rateHz: rate, amplitude: 0.03) { _ in 261.6 }
        agent = Synth.mix(agent, Synth.place(note, atSeconds: trainEnd + 0.05, totalSeconds: total, rateHz: rate))
        agent = Synth.mix(agent, Synth.noise(seconds: total, rateHz: rate, rmsDbov: -62, seed: 5))
        let customer = Synth.noise(seconds: total, rateHz: rate, rmsDbov: -62, seed: 6)
        let dir = TemporaryDirectory()
        let path = try writeRecording(dir.file("hold.wav"), channels: [agent, customer], rateHz: rate)
        let r = try LiveRun.run(["-"]) { h, _ in
            try h.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: path)))
            return true
        }
        #expect(r.status == 0, "\(r.stderr)")
        let utterances = r.of("utterance").filter { $0["party"] as? String == "agent" }
        #expect(utterances.count == 1, "\(utterances)")
        guard let u = utterances.first else { return }
        let end = u["end_s"] as! Double
        #expect(abs(end - trainEnd) < 0.1, "the utterance ends at \(end) s, the speech at \(trainEnd) s")
        let late = (u["emitted_at_s"] as! Double) - end
        #expect(late <= 1.0, "the utterance line came \(late) s after it ended")
        // The note is no speech: the call holds one utterance, and the rest is silence or music.
        #expect(
            (r.summary?["speakers"] as? [String: Any]).map {
                ($0["agent"] as! [String: Any])["utterance_count"] as? Int
            } == 1)
    }

    @Test("a stream cut mid-frame: the whole frames are scored, the cut is a warning line and in the summary")
    func cutMidFrame() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: demo))
        let cut = bytes.prefix(bytes.count * 2 / 3 + 1)  // μ-law stereo: 2-byte frames, cut after an odd byte
        let r = try LiveRun.run(["-"]) { h, _ in
            try h.write(contentsOf: cut)
            return true
        }
        #expect(r.status == 0, "\(r.stderr)")
        let warnings = r.of("warning").map { $0["message"] as! String }
        #expect(warnings.contains { $0.contains("1 bytes into a sample frame of 2 bytes") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("sample frames its header announced") }, "\(warnings)")
        let summaryWarnings = r.summary?["warnings"] as? [String] ?? []
        #expect(Set(warnings).isSubset(of: Set(summaryWarnings)))
        let duration = r.summary?["duration_s"] as? Double ?? 0
        let expected = Double(bytes.count * 2 / 3 - 60) / 2 / 8000
        #expect(abs(duration - expected) < 0.01, "\(duration) s scored")
    }

    @Test("Ctrl-C or SIGTERM mid-call: the summary of what was heard, then exit 130")
    func stopped() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: demo))
        let r = try LiveRun.run(["-"]) { h, process in
            try h.write(contentsOf: bytes.prefix(bytes.count / 2))
            usleep(500_000)
            process.terminate()
            return false
        }
        #expect(r.status == 130, "\(r.stderr)")
        #expect(r.stderr.contains("stopping"))
        let warnings = r.summary?["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.hasPrefix("stopped before the stream ended") }, "\(r.raw.suffix(2))")
    }

    @Test("bad streams and misuse: one clear line, the right exit status")
    func badInput() throws {
        let dir = TemporaryDirectory()
        func live(_ args: [String], _ input: Data) throws -> LiveRun {
            try LiveRun.run(args) { h, _ in
                // A refused stream may end before all of it is written: the broken pipe is
                // expected, and the exit status and message are what is checked.
                try? h.write(contentsOf: input)
                return true
            }
        }
        var r = try live(["-"], Data("hello, this is not audio".utf8))
        #expect(
            r.status == 1 && r.stderr.contains("-: not a WAV stream: it does not start with RIFF") && r.lines.isEmpty,
            "\(r.stderr)")
        r = try live(["-"], Data())
        #expect(r.status == 1 && r.stderr.contains("ended before a WAV header"), "\(r.stderr)")
        // Ten seconds (960 KB, far more than a pipe holds): yusu refuses at the header while
        // the test is still writing, so the write meets a closed pipe every time.
        let six = try writeRecording(
            dir.file("six.wav"),
            channels: Array(
                repeating: Synth.sine(frequencyHz: 300, amplitude: 0.3, seconds: 10, rateHz: 8000), count: 6),
            rateHz: 8000)
        r = try live(["-"], try Data(contentsOf: URL(fileURLWithPath: six)))
        #expect(r.status == 1 && r.stderr.contains("6 channels"), "\(r.stderr)")
        let silent = try writeRecording(
            dir.file("silent.wav"), channels: [[Float](repeating: 0, count: 16000)], rateHz: 8000)
        r = try live(["-"], try Data(contentsOf: URL(fileURLWithPath: silent)))
        #expect(r.status == 1 && r.stderr.contains("no speech"), "\(r.stderr)")
        // A raw stream longer than --max-duration-s is refused when it gets there.
        r = try live(
            ["-", "--rate", "8000", "--channels", "1", "--encoding", "s16le", "--max-duration-s", "2"],
            Data(count: 8000 * 2 * 3))
        #expect(
            r.status == 1 && r.stderr.contains("the stream passed the limit of 2 s (--max-duration-s)"), "\(r.stderr)")
        // A standard with a misspelt key: exit 2, the key named.
        let standard = dir.file("s.json")
        try Data(#"{"speech_rate_max_cmp": 130}"#.utf8).write(to: URL(fileURLWithPath: standard))
        r = try live(["-", "--standard", standard], Data())
        #expect(r.status == 2 && r.stderr.contains("speech_rate_max_cmp"), "\(r.stderr)")
        for args in [
            ["live"], ["live", demo], ["live", "-", "--rate", "8000"], ["live", "-", "--follow", demo],
            ["live", "-", "--rate", "96000", "--channels", "1", "--encoding", "ulaw"],
            ["live", "-", "--analysis-step-ms", "1001"], ["live", "-", "--analysis-step-ms", "-1"],
        ] {
            let m = try CLI.run(args)
            #expect(m.status == 64, "\(args): \(m.status) \(m.stderr)")
        }
        #expect(
            try CLI.run(["live", "-", "--analysis-step-ms", "1001"]).stderr.contains(
                "--analysis-step-ms must be from 0 to 1000 (got 1001)"))
        #expect(try CLI.run(["live", demo]).stderr.contains("yusu score"))
        let missing = try CLI.run(["live", "--follow", dir.file("nothing.wav")])
        #expect(missing.status == 1 && missing.stderr.contains("no such file"), "\(missing.stderr)")
    }

    @Test(
        "every line follows schema/live.v1 (the summary's document score.v1)",
        .enabled(if: jsonSchemaAvailable, Comment(rawValue: jsonSchemaMissing)))
    func schema() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: demo))
        let r = try LiveRun.run(["-"]) { h, _ in
            try h.write(contentsOf: bytes)
            return true
        }
        let dir = TemporaryDirectory()
        let file = dir.file("lines.jsonl")
        try Data((r.raw.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let script = """
            import json, sys, jsonschema
            live = json.load(open(sys.argv[1], encoding='utf-8'))
            score = json.load(open(sys.argv[2], encoding='utf-8'))
            jsonschema.Draft202012Validator.check_schema(live)
            resolver = jsonschema.RefResolver.from_schema(live, store={score['$id']: score})
            v = jsonschema.Draft202012Validator(live, resolver=resolver)
            bad = 0
            for n, line in enumerate(open(sys.argv[3], encoding='utf-8')):
                for e in v.iter_errors(json.loads(line)):
                    bad += 1
                    print(f"line {n}: {e.message[:200]}")
            print(f"checked {n + 1} lines, {bad} errors")
            sys.exit(1 if bad else 0)
            """
        let schemas = fixturesDirectory() + "/../schema/"
        let v = try CLI.run(
            executable: jsonSchemaPython!,
            ["-c", script, schemas + "live.v1.schema.json", schemas + "score.v1.schema.json", file])
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        #expect(
            r.raw.count > 10
                && Set(r.lines.map { $0["type"] as! String }).isSuperset(of: ["started", "utterance", "summary"]))
    }
}
