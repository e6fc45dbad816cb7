import ArgumentParser
import CFFTW
import Foundation
import YusuDelivery
import YusuSignal

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time each analysis stage and the whole score on one core, and N analyses in parallel.",
        discussion: """
        Stages run one after another on one thread, each the best of --repeat runs: decode (libsndfile + resampling), frames (FFT frame analysis and P.56 sums), pitch, voice activity, syllable nuclei, measures and verdicts; then the whole 'score' from the file, and FFTW alone on the same frames (the floor the frame loop can approach). With --jobs N, N whole analyses run at once and the throughput is reported.
        """
    )

    @Argument(help: "A recording (default: the bundled Fixtures/demo_call.wav).")
    var file: String?

    @Option(name: .long, help: "Parallel whole analyses for the throughput line (0: skip).")
    var jobs: Int = 0

    @Option(name: .long, help: "Runs per measurement; the best is reported.")
    var `repeat`: Int = 5

    @Option(name: .long, help: "Output format: text or json.")
    var format: BenchFormat = .text

    func validate() throws {
        guard `repeat` >= 1 && `repeat` <= 1000 else { throw ValidationError("--repeat must be 1...1000") }
        guard jobs >= 0 && jobs <= 256 else { throw ValidationError("--jobs must be 0...256") }
    }

    static func demoPath() -> String? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            "Fixtures/demo_call.wav",
            executable.deletingLastPathComponent().appendingPathComponent("../../Fixtures/demo_call.wav").standardized.path,
            executable.deletingLastPathComponent().appendingPathComponent("../../../Fixtures/demo_call.wav").standardized.path,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    func run() throws {
        guard let path = file ?? Self.demoPath() else {
            printError("no FILE given and Fixtures/demo_call.wav not found; run from the repository or name a recording")
            throw ExitCode(64)
        }
        let result: BenchResult
        do {
            result = try BenchRunner(path: path, repeats: `repeat`, jobs: jobs).run()
        } catch let error as AudioError {
            printError(error.description)
            throw ExitStatus.badInput
        }
        switch format {
        case .text: print(result.text, terminator: "")
        case .json: print(result.json)
        }
    }
}

enum BenchFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct BenchResult {
    var file: String
    var durationSeconds: Double
    var channels: Int
    var stages: [(String, Double)]
    var wholeSeconds: Double
    var fftwAloneSeconds: Double
    var frameLoopSeconds: Double
    var frames: Int
    var jobs: Int
    var parallelWallSeconds: Double?

    var text: String {
        var out = "yusu bench — \((file as NSString).lastPathComponent): " + String(format: "%.1f s, %d channel(s), %d frames per channel\n\n", durationSeconds, channels, frames)
        out += "stage (one core)             time (ms)   × real time\n"
        for (name, seconds) in stages {
            out += "  " + name.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " %9.2f   %11.0f\n", seconds * 1000, durationSeconds / seconds)
        }
        out += "  " + "whole score (from file)".padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: " %9.2f   %11.0f\n", wholeSeconds * 1000, durationSeconds / wholeSeconds)
        out += String(format: "\nFFTW alone on the same transforms: %.2f ms; frame loop / FFTW alone = %.2f\n", fftwAloneSeconds * 1000, frameLoopSeconds / fftwAloneSeconds)
        if let wall = parallelWallSeconds {
            let throughput = Double(jobs) * durationSeconds / wall
            out += String(format: "%d analyses in parallel: %.2f s wall, %.0f × real time in all (%.1f h of audio per minute)\n",
                          jobs, wall, throughput, throughput * 60 / 3600)
        }
        return out
    }

    var json: String {
        var d: [String: Any] = [
            "file": file, "duration_s": durationSeconds, "channels": channels, "frames_per_channel": frames,
            "stages_ms": Dictionary(uniqueKeysWithValues: stages.map { ($0.0, $0.1 * 1000) }),
            "whole_score_ms": wholeSeconds * 1000, "whole_score_x_realtime": durationSeconds / wholeSeconds,
            "fftw_alone_ms": fftwAloneSeconds * 1000, "frame_loop_over_fftw": frameLoopSeconds / fftwAloneSeconds,
        ]
        if let wall = parallelWallSeconds {
            d["parallel_jobs"] = jobs
            d["parallel_wall_s"] = wall
            d["parallel_x_realtime"] = Double(jobs) * durationSeconds / wall
        }
        let data = (try? JSONSerialization.data(withJSONObject: d, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

struct BenchRunner {
    var path: String
    var repeats: Int
    var jobs: Int

    func best(_ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    func run() throws -> BenchResult {
        let config = AnalysisConfig()
        let analyzer = CallAnalyzer()
        // Decode: the whole file to analysis-rate channels (kept in memory for the stages).
        var channels: [[Float]] = []
        var info: AudioFileInfo!
        let decode = try best {
            let reader = try AudioFileReader(path: path)
            info = reader.info
            var block = [Float](repeating: 0, count: 8192 * info.channelCount)
            var resamplers = (0..<info.channelCount).map { _ in Resampler(inputRateHz: info.sampleRateHz, outputRateHz: config.analysisRateHz) }
            var out = [[Float]](repeating: [], count: info.channelCount)
            var scratch = [Float](repeating: 0, count: 8192)
            while true {
                let got = try reader.read(into: &block)
                if got == 0 { break }
                for c in 0..<info.channelCount {
                    for j in 0..<got { scratch[j] = block[j * info.channelCount + c] }
                    scratch.withUnsafeBufferPointer { resamplers[c].process(UnsafeBufferPointer(rebasing: $0[0..<got]), into: &out[c]) }
                }
            }
            for c in 0..<info.channelCount { resamplers[c].finish(into: &out[c]) }
            channels = out
        }
        // P.56 sums need the file's own rate; measured inside 'frames' below on the analysis-rate samples.
        var features: [FrameFeatures] = []
        var pitchSearches = 0
        let frames = best {
            pitchSearches = 0
            features = channels.map { samples in
                let a = FrameAnalyzer(config: config, expectedSamples: samples.count)
                a.process(samples)
                a.finish()
                var level = LevelAccumulator(sampleRateHz: config.analysisRateHz, expectedHops: samples.count / config.hopSamples + 2)
                for x in samples { level.add(x) }
                level.finish()
                a.attachLevel(level)
                pitchSearches += a.pitchSearchCount
                return a.features
            }
        }
        // Levels measured once per channel with the analyser's settings, as `score` does;
        // every stage after them is handed the same levels.
        var levels: [ChannelLevels] = []
        let levelTime = best { levels = features.map { ChannelLevels.measure($0, config: analyzer.channelLevels) } }
        var tracks: [PitchTrack] = []
        let pitch = best { tracks = features.indices.map { PitchTracker(config: analyzer.pitch).track(features[$0], levels: levels[$0]) } }
        var speech: [[Bool]] = []
        let vad = best {
            speech = features.indices.map { c in
                VoiceActivityDetector(config: analyzer.voiceActivity).detect(features[c], pitch: tracks[c], other: features.count == 2 ? features[1 - c] : nil,
                                                                              levels: levels[c])
            }
        }
        let nuclei = best {
            for c in features.indices {
                _ = SyllableNucleusDetector(config: analyzer.nuclei).detect(features[c], pitch: tracks[c], speech: speech[c], levels: levels[c])
            }
        }
        let recording = RecordingAnalyzer.Result(info: info, channels: features, durationSeconds: info.durationSeconds)
        let signal = analyzer.signalStages(recording)
        let measures = best { _ = Standard().evaluate(analyzer.measure(signal, recording: recording, options: CallOptions()).measures) }
        let whole = try best { _ = Standard().evaluate(try analyzer.analyze(path: path).measures) }
        let frameCount = features.first?.frameCount ?? 0
        let fftw = best { Self.fftwAlone(frames: frameCount * features.count, pitchFrames: pitchSearches, config: config) }

        var wall: Double? = nil
        if jobs > 0 {
            let group = DispatchGroup()
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<jobs {
                DispatchQueue.global().async(group: group) {
                    _ = try? CallAnalyzer().analyze(path: path)
                }
            }
            group.wait()
            wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return BenchResult(
            file: path, durationSeconds: info.durationSeconds, channels: info.channelCount,
            stages: [("decode", decode), ("frames (FFT analysis)", frames), ("channel levels", levelTime), ("pitch tracking", pitch),
                     ("voice activity", vad), ("syllable nuclei", nuclei), ("measures and verdicts", measures)],
            wholeSeconds: whole, fftwAloneSeconds: fftw, frameLoopSeconds: frames, frames: frameCount,
            jobs: jobs, parallelWallSeconds: wall)
    }

    /// The transforms the frame loop ran, and nothing else: per frame one 256-point r2c and,
    /// on each frame whose pitch search ran, two 512-point r2c and one c2r.
    static func fftwAlone(frames: Int, pitchFrames: Int, config: AnalysisConfig) {
        let spectral = RealFFT(size: config.spectralWindowSamples)
        var pitchSize = 64
        while pitchSize < config.pitchIntegrationSamples + config.maxLagSamples + 1 { pitchSize *= 2 }
        let pitch = RealFFT(size: pitchSize)
        for i in 0..<spectral.size { spectral.real[i] = Float(i % 7) * 0.01 }
        for i in 0..<pitch.size { pitch.real[i] = Float(i % 5) * 0.01 }
        for _ in 0..<frames { spectral.forward() }
        for _ in 0..<pitchFrames {
            pitch.forward()
            pitch.forward()
            pitch.inverse()
        }
    }
}
