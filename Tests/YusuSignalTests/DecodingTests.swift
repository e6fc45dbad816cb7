import Foundation
import Testing
import YusuSignal
import YusuTestSupport

@Suite("Decoding with libsndfile")
struct DecodingTests {
    let tone = Synth.sine(frequencyHz: 440, amplitude: 0.5, seconds: 1.0, rateHz: 8000)

    @Test("every supported format decodes to the samples written", arguments: AudioFileFormat.allCases)
    func roundTrip(format: AudioFileFormat) throws {
        let dir = TemporaryDirectory()
        let other = Synth.sine(frequencyHz: 220, amplitude: 0.25, seconds: 1.0, rateHz: 8000)
        let path = try writeRecording(
            dir.file("t.\(format.fileExtension)"), channels: [tone, other], rateHz: 8000, format: format)
        let reader = try AudioFileReader(path: path)
        #expect(reader.info.channelCount == 2)
        #expect(reader.info.sampleRateHz == 8000)
        var block = [Float](repeating: 0, count: 2 * 1000)
        var left: [Float] = []
        var right: [Float] = []
        while true {
            let got = try reader.read(into: &block)
            if got == 0 { break }
            for i in 0..<got {
                left.append(block[2 * i])
                right.append(block[2 * i + 1])
            }
        }
        #expect(abs(left.count - tone.count) <= 2_000)  // Vorbis, Opus and MP3 may pad the start or end
        // Lossy codecs differ sample by sample; compare levels (dB) and, for PCM, samples.
        let n = min(tone.count, left.count)
        #expect(abs(Synth.levelDbov(Array(left.prefix(n))) - Synth.levelDbov(tone)) < 0.5)
        #expect(abs(Synth.levelDbov(Array(right.prefix(n))) - Synth.levelDbov(other)) < 0.5)
        let tolerance: Float
        switch format {
        case .wavPCM16, .flac: tolerance = 1e-4
        case .wavPCM24, .wavPCM32, .wavFloat: tolerance = 1e-6
        case .wavMuLaw, .wavALaw: tolerance = 0.02
        case .ogg, .opus, .mp3: tolerance = .infinity
        }
        if tolerance.isFinite {
            let worst = zip(left, tone).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < tolerance, "largest sample error \(worst)")
        }
    }

    @Test("the format is named from the header")
    func formatName() throws {
        let dir = TemporaryDirectory()
        let path = try writeRecording(dir.file("u.wav"), channels: [tone], rateHz: 8000, format: .wavMuLaw)
        #expect(try AudioFileReader(path: path).info.formatName == "WAV μ-law")
    }

    @Test("failed opens on many threads each report their own file's reason (libsndfile's error slot is global)")
    func concurrentOpenErrors() throws {
        let dir = TemporaryDirectory()
        // Two kinds of bad file whose libsndfile reasons differ.
        var paths: [(String, String)] = []
        for i in 0..<16 {
            if i % 2 == 0 {
                let p = dir.file("text\(i).wav")
                #expect(FileManager.default.createFile(atPath: p, contents: Data("hello world, not audio".utf8)))
                paths.append((p, "not a readable audio file"))
            } else {
                var header =
                    Data("RIFF".utf8) + Data([36, 0, 0, 0]) + Data("WAVEfmt ".utf8) + Data([16, 0, 0, 0, 1, 0, 0, 0])
                header += Data(repeating: 0, count: 24)
                let p = dir.file("zero\(i).wav")
                #expect(FileManager.default.createFile(atPath: p, contents: header))
                paths.append((p, "No 'data' chunk marker"))
            }
        }
        final class Messages: @unchecked Sendable {
            let lock = NSLock()
            var text = [String](repeating: "", count: 400)
        }
        let messages = Messages()
        let files = paths.map(\.0)
        DispatchQueue.concurrentPerform(iterations: 400) { k in
            do { _ = try AudioFileReader(path: files[k % files.count]) } catch {
                messages.lock.lock()
                messages.text[k] = "\(error)"
                messages.lock.unlock()
            }
        }
        for k in 0..<400 {
            let (path, expected) = paths[k % paths.count]
            #expect(messages.text[k].hasPrefix(path) && messages.text[k].contains(expected), "\(messages.text[k])")
            // A text file never gets the WAV file's reason, as it could when threads shared the slot.
            if expected == "not a readable audio file" { #expect(!messages.text[k].contains("data' chunk")) }
        }
    }

    @Test("a folder and an unreadable file are not 'no such file'")
    func cannotOpen() throws {
        let dir = TemporaryDirectory()
        #expect(throws: AudioError.cannotOpen(path: dir.path, reason: "it is a folder, not a file")) {
            try AudioFileReader(path: dir.path)
        }
        // An unreadable file (root reads everything, so the CLI tests check it as another
        // user): HardeningCLITests.unreadableFolder.
    }

    @Test("a missing file is reported by name")
    func missing() {
        #expect(throws: AudioError.notFound(path: "/nonexistent/call.wav")) {
            try AudioFileReader(path: "/nonexistent/call.wav")
        }
    }

    @Test("an empty file is reported as empty")
    func empty() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("empty.wav")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(throws: AudioError.empty(path: path)) { try AudioFileReader(path: path) }
    }

    @Test("a text file is not audio")
    func notAudio() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("notes.wav")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("this is not a recording\n".utf8)))
        do {
            _ = try AudioFileReader(path: path)
            Issue.record("expected an error")
        } catch let error as AudioError {
            guard case .unreadable(let p, _, _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(p == path)
            #expect(error.description.contains("not a readable audio file"))
        }
    }

    @Test("a truncated file is reported as truncated")
    func truncated() throws {
        let dir = TemporaryDirectory()
        let path = try writeRecording(dir.file("cut.wav"), channels: [tone], rateHz: 8000)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        do {
            _ = try AudioFileReader(path: path)
            Issue.record("a truncated WAV opened without complaint")
        } catch AudioError.truncated(let p, let expected, let read) {
            #expect(p == path && expected == 8000 && (3900..<4000).contains(read))
        }
        // FLAC: the stream info promises more samples than the frames that remain.
        let flac = try writeRecording(dir.file("cut.flac"), channels: [tone], rateHz: 8000, format: .flac)
        let flacData = try Data(contentsOf: URL(fileURLWithPath: flac))
        try flacData.prefix(flacData.count / 2).write(to: URL(fileURLWithPath: flac))
        #expect(throws: AudioError.self) {
            let reader = try AudioFileReader(path: flac)
            var block = [Float](repeating: 0, count: 4096)
            while try reader.read(into: &block) > 0 {}
        }
    }

    @Test("six channels are refused")
    func sixChannels() throws {
        let dir = TemporaryDirectory()
        let path = try writeRecording(dir.file("six.wav"), channels: Array(repeating: tone, count: 6), rateHz: 8000)
        #expect(throws: AudioError.unsupportedChannelCount(path: path, channels: 6)) { try AudioFileReader(path: path) }
    }

    @Test("96 kHz is refused")
    func tooFast() throws {
        let dir = TemporaryDirectory()
        let path = try writeRecording(dir.file("fast.wav"), channels: [tone], rateHz: 96_000)
        #expect(throws: AudioError.unsupportedSampleRate(path: path, sampleRateHz: 96_000, supported: 8_000...48_000)) {
            try AudioFileReader(path: path)
        }
    }

    @Test("16 kHz and 44.1 kHz recordings analyse on the same 10 ms grid as 8 kHz")
    func grid() throws {
        for rate in [8000, 16000, 44100] {
            var x = Synth.sine(frequencyHz: 300, amplitude: 0.5, seconds: 2.0, rateHz: rate)
            let front = SignalFrontEnd(sampleRateHz: rate, channelCount: 1)
            try x.withUnsafeMutableBufferPointer { try front.push($0, frames: $0.count) }
            front.finish()
            #expect(front.frameCount == 200)
            #expect(abs(front.durationSeconds - 2.0) < 1e-9)
            // A 300 Hz sine at amplitude 0.5 is -9.03 dBov whatever the file's rate.
            let mid = front.frame(channel: 0, index: 100).energyDb
            #expect(abs(Double(mid) - (20 * log10(0.5) - 3.01)) < 0.3)
        }
    }

    @Test("a sample that is not a number is named by its frame and channel; overs are clipped and counted")
    func sampleChecks() throws {
        let front = SignalFrontEnd(sampleRateHz: 8000, channelCount: 2)
        var block: [Float] = [0.1, 0.2, 3, -0.1, 0.1, .nan]
        do {
            try block.withUnsafeMutableBufferPointer { try front.push($0, frames: 3) }
            Issue.record("a NaN sample was taken")
        } catch SampleError.nonFinite(let frame, let channel, let value) {
            #expect(frame == 2 && channel == 1 && value.isNaN)
        }
        let clean = SignalFrontEnd(sampleRateHz: 8000, channelCount: 2)
        var overs: [Float] = [0.1, 2, -5, 0.3]
        try overs.withUnsafeMutableBufferPointer { try clean.push($0, frames: 2) }
        #expect(clean.clippedSamples == 2 && overs == [0.1, 1, -1, 0.3])
        // In a long block (checked eight samples at a time until one is out of range): an over
        // late in it is clipped and counted, an infinity named where it is.
        var long = (0..<2000).map { Float(sin(Double($0) * 0.01)) * 0.5 }
        long[1603] = 1.5
        long[1777] = -1.25
        let front2 = SignalFrontEnd(sampleRateHz: 8000, channelCount: 2)
        var copy = long
        try copy.withUnsafeMutableBufferPointer { try front2.push($0, frames: 1000) }
        #expect(front2.clippedSamples == 2 && copy[1603] == 1 && copy[1777] == -1 && copy[1602] == long[1602])
        long[1201] = -.infinity
        do {
            try long.withUnsafeMutableBufferPointer { try front2.push($0, frames: 1000) }
            Issue.record("an infinite sample was taken")
        } catch SampleError.nonFinite(let frame, let channel, let value) {
            #expect(frame == 1000 + 600 && channel == 1 && value == -.infinity)
        }
    }

    @Test("once the channels are decided, the correlation's sums stop and the frames are the same")
    func correlationOff() throws {
        let n = 16000
        var stereo = [Float](repeating: 0, count: 2 * n)
        for j in 0..<n {
            stereo[2 * j] = Float(0.4 * sin(Double(j) * 0.2))
            stereo[2 * j + 1] = Float(0.1 * sin(Double(j) * 0.07))
        }
        let measuring = SignalFrontEnd(sampleRateHz: 8000, channelCount: 2)
        let decided = SignalFrontEnd(sampleRateHz: 8000, channelCount: 2)
        decided.measuresCorrelation = false
        for front in [measuring, decided] {
            var block = stereo
            try block.withUnsafeMutableBufferPointer { try front.push($0, frames: n) }
            front.finish()
        }
        #expect(measuring.channelCorrelation != nil && decided.channelCorrelation == nil)
        #expect(measuring.frameCount == decided.frameCount && measuring.frameCount > 150)
        for c in 0..<2 {
            for i in 0..<measuring.frameCount {
                let a = measuring.frame(channel: c, index: i)
                let b = decided.frame(channel: c, index: i)
                #expect(a.energyDb == b.energyDb && a.hopMeanSquare == b.hopMeanSquare, "channel \(c) frame \(i)")
            }
        }
    }

    /// A tone from 1.000 s to 1.500 s, encoded by LAME with and without its gapless tag
    /// (Fixtures/mp3): every decoding must start the tone at 1.000 s. Untagged files decode
    /// 1105 samples late unless the reader drops LAME's delay (69 ms at 16 kHz, 138 ms at 8).
    @Test(
        "an MP3 starts on time, with or without a gapless tag",
        arguments: [
            "burst_16k_32kbps_untagged.mp3", "burst_8k_16kbps_untagged.mp3", "burst_16k_64kbps_tagged.mp3",
        ])
    func mp3StartsOnTime(file: String) throws {
        let path = fixturesDirectory() + "/mp3/" + file
        let reader = try AudioFileReader(path: path)
        let rate = Double(reader.info.sampleRateHz)
        var block = [Float](repeating: 0, count: 4096)
        var samples: [Float] = []
        while true {
            let got = try reader.read(into: &block)
            if got == 0 { break }
            samples.append(contentsOf: block.prefix(got))
        }
        let onset = try #require(samples.firstIndex { abs($0) > 0.1 })
        let offset = try #require(samples.lastIndex { abs($0) > 0.1 })
        #expect(abs(Double(onset) / rate - 1.0) < 0.006, "tone starts at \(Double(onset) / rate) s")
        #expect(abs(Double(offset) / rate - 1.5) < 0.006, "tone ends at \(Double(offset) / rate) s")
        // The header's length, less the delay, is what is read (the end keeps LAME's padding).
        #expect(Int64(samples.count) == reader.info.frameCount)
        #expect(reader.info.durationSeconds >= 2.5 && reader.info.durationSeconds < 2.6)
    }

    @Test("the gapless tag is found after the frame header and side information, past an ID3v2 tag")
    func mp3TagDetection() {
        // MPEG-2 Layer III, 32 kbit/s, 16 kHz, mono, no CRC: side information of 9 bytes.
        let header: [UInt8] = [0xFF, 0xF3, 0x48, 0xC4]
        let body = [UInt8](repeating: 0, count: 200)
        var tagged = header + [UInt8](repeating: 0, count: 9) + Array("Info".utf8)
        tagged += body
        #expect(MP3StartDelay.samplesToSkip(head: tagged) == 0)
        #expect(MP3StartDelay.samplesToSkip(head: header + body) == 1105)
        // MPEG-1 stereo (side information 32 bytes) with "Xing", behind a 20-byte ID3v2 tag.
        let id3: [UInt8] = Array("ID3".utf8) + [4, 0, 0, 0, 0, 0, 20] + [UInt8](repeating: 0x41, count: 20)
        let mpeg1: [UInt8] = [0xFF, 0xFB, 0x90, 0x04] + [UInt8](repeating: 0, count: 32) + Array("Xing".utf8) + body
        #expect(MP3StartDelay.samplesToSkip(head: id3 + mpeg1) == 0)
        // No Layer III frame at all (a WAV header, junk): nothing is skipped.
        #expect(MP3StartDelay.samplesToSkip(head: Array("RIFF....WAVEfmt ".utf8) + body) == 0)
    }
}
