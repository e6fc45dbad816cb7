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
    /// Each stage's time inside one instrumented run of the whole analysis.
    var stages: [(String, Double)]
    /// That instrumented run's whole time: the stages plus the bookkeeping between them.
    var instrumentedSeconds: Double
    /// The whole score with no clock read (the figure to compare).
    var wholeSeconds: Double
    var fftwAloneSeconds: Double
    var frameLoopSeconds: Double
    var frames: Int
    var jobs: Int
    var parallelWallSeconds: Double?

    var stageSum: Double { stages.reduce(0) { $0 + $1.1 } }

    var text: String {
        var out = "yusu bench — \((file as NSString).lastPathComponent): " + String(format: "%.1f s, %d channel(s), %d frames per channel\n\n", durationSeconds, channels, frames)
        out += "Stages, timed inside one run of the whole analysis on one core (best of the runs):\n"
        out += "stage                                        time (ms)   share   × real time\n"
        for (name, seconds) in stages {
            out += "  " + name.padding(toLength: 42, withPad: " ", startingAt: 0)
                + String(format: " %9.2f  %5.1f%%  %11.0f\n", seconds * 1000, 100 * seconds / instrumentedSeconds, durationSeconds / seconds)
        }
        let other = max(0, instrumentedSeconds - stageSum)
        out += "  " + "between stages (queues, bookkeeping)".padding(toLength: 42, withPad: " ", startingAt: 0)
            + String(format: " %9.2f  %5.1f%%\n", other * 1000, 100 * other / instrumentedSeconds)
        out += "  " + "= that run, with its clocks".padding(toLength: 42, withPad: " ", startingAt: 0) + String(format: " %9.2f\n", instrumentedSeconds * 1000)
        out += "  " + "whole score, no clocks (from file)".padding(toLength: 42, withPad: " ", startingAt: 0)
            + String(format: " %9.2f          %11.0f\n", wholeSeconds * 1000, durationSeconds / wholeSeconds)
        out += String(format: "\nFFTW alone on the same transforms: %.2f ms; frame stage / FFTW alone = %.2f\n", fftwAloneSeconds * 1000, frameLoopSeconds / fftwAloneSeconds)
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
            "stages_sum_ms": stageSum * 1000, "instrumented_ms": instrumentedSeconds * 1000,
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

    func run() throws -> BenchResult {
        let config = AnalysisConfig()
        var best: (StageClock, Double)? = nil
        var info: AudioFileInfo!
        var pitchSearches = 0
        for _ in 0..<repeats {
            let clock = StageClock(enabled: true)
            let start = DispatchTime.now().uptimeNanoseconds
            var searches = 0
            let analysis = try CallAnalyzer().analyze(path: path) { stream in
                stream.clock = clock
                stream.onFinish = { searches = $0.pitchSearchCount }
            }
            let t = clock.start()
            _ = Standard().evaluate(analysis.measures)
            clock.stop(.verdicts, t)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if best == nil || seconds < best!.1 { best = (clock, seconds) }
            pitchSearches = searches
        }
        info = try AudioFileReader(path: path).info
        var whole = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = Standard().evaluate(try CallAnalyzer().analyze(path: path).measures)
            whole = min(whole, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let (clock, instrumented) = best!
        let stages = StageClock.Stage.allCases.map { ($0.name, clock.seconds($0)) }
        let frameCount = Int((info.durationSeconds / config.hopSeconds).rounded(.up))
        var fftw = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            Self.fftwAlone(frames: frameCount * info.channelCount, pitchFrames: pitchSearches, config: config)
            fftw = min(fftw, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
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
            file: path, durationSeconds: info.durationSeconds, channels: info.channelCount, stages: stages,
            instrumentedSeconds: instrumented, wholeSeconds: whole, fftwAloneSeconds: fftw,
            frameLoopSeconds: clock.seconds(.frames), frames: frameCount, jobs: jobs, parallelWallSeconds: wall)
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
