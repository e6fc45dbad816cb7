import ArgumentParser
import CFFTW
import Foundation
import YusuDelivery
import YusuReport
import YusuSignal

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time each analysis stage and the whole score on one core, and N analyses in parallel.",
        discussion: """
            The stages are timed inside one run of the whole analysis on one thread (the best of --repeat runs): \
            decoding, frames (resampling, FFT, YIN, P.56 hops), channel levels, pitch tracking, voice activity, \
            syllable nuclei, utterances, the call's timeline, verdicts; then the whole 'score' from the file with no \
            clock read, and FFTW alone on the same transforms (the floor the frame loop can approach). With --jobs N, \
            N whole analyses run at once and the throughput is reported. With --live N, N live calls run at once on \
            this one thread, each fed the recording in 20 ms pieces as a phone line delivers it and analysed a step \
            at a time (--analysis-step-ms, default 40 ms as serve does), each coached (its lines rendered) and scored \
            at its end: the aggregate × real time is how many calls one core can coach; the lines' delay past their \
            emitted_at_s is reported with it. The first line names the processor the analysis was compiled for \
            (haswell, or the default target: see the README's Performance), which the figures depend on.
            """
    )

    @Argument(help: "A recording (default: the bundled Fixtures/demo_call.wav).")
    var file: String?

    @Option(name: .long, help: "Parallel whole analyses for the throughput line (0: skip).")
    var jobs: Int = 0

    @Option(name: .long, help: "Live calls coached at once on one core (0: skip).")
    var live: Int = 0

    @Option(
        name: .long,
        help:
            """
            With --live: the audio each call receives at a time, ms (a phone line's packets are 20 ms; a coach may \
            gather a few).
            """
    )
    var livePieceMs: Int = 20

    @OptionGroup var step: AnalysisStepOption

    @Option(name: .long, help: "Runs per measurement; the best is reported.")
    var `repeat`: Int = 5

    @Option(name: .long, help: "Output format: text or json.")
    var format: BenchFormat = .text

    func validate() throws {
        guard `repeat` >= 1 && `repeat` <= 1000 else { throw ValidationError("--repeat must be 1...1000") }
        guard jobs >= 0 && jobs <= 256 else { throw ValidationError("--jobs must be 0...256") }
        guard live >= 0 && live <= 10_000 else { throw ValidationError("--live must be 0...10000") }
        guard livePieceMs >= 1 && livePieceMs <= 10_000 else {
            throw ValidationError("--live-piece-ms must be 1...10000")
        }
    }

    static func demoPath() -> String? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            "Fixtures/demo_call.wav",
            executable.deletingLastPathComponent().appendingPathComponent("../../Fixtures/demo_call.wav").standardized
                .path,
            executable.deletingLastPathComponent().appendingPathComponent("../../../Fixtures/demo_call.wav")
                .standardized.path,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    func run() throws {
        guard let path = file ?? Self.demoPath() else {
            printError(
                "no FILE given and Fixtures/demo_call.wav not found; run from the repository or name a recording")
            throw ExitCode(64)
        }
        let result: BenchResult
        do {
            result = try BenchRunner(
                path: path, repeats: `repeat`, jobs: jobs, liveCalls: live, livePieceMs: livePieceMs,
                liveStepSeconds: step.seconds(or: CallOptions.serviceAnalysisStepSeconds)
            ).run()
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
    /// Frames whose pitch search ran, all channels (the rest were background): FFTW alone runs
    /// the pitch transforms this many times.
    var pitchSearches: Int
    var jobs: Int
    var parallelWallSeconds: Double?
    var live: LiveBench?

    var stageSum: Double { stages.reduce(0) { $0 + $1.1 } }

    /// The processor the analysis modules were compiled for (Package.swift): `haswell` when the
    /// building machine had AVX2, FMA and BMI2, else the toolchain's default or YUSU_TARGET_CPU's.
    static var analysisTarget: String {
        #if YUSU_ANALYSIS_HASWELL
            "haswell"
        #else
            "default"
        #endif
    }

    var text: String {
        var out =
            "yusu bench — \((file as NSString).lastPathComponent): "
            + String(format: "%.1f s, %d channel(s), %d frames per channel", durationSeconds, channels, frames)
            + "; analysis compiled for the \(Self.analysisTarget) target\n\n"
        out += "Stages, timed inside one run of the whole analysis on one core (best of the runs):\n"
        out += "stage                                        time (ms)   share   × real time\n"
        for (name, seconds) in stages {
            out +=
                "  " + name.padding(toLength: 42, withPad: " ", startingAt: 0)
                + String(
                    format: " %9.2f  %5.1f%%  %11.0f\n", seconds * 1000, 100 * seconds / instrumentedSeconds,
                    durationSeconds / seconds)
        }
        let other = max(0, instrumentedSeconds - stageSum)
        out +=
            "  " + "between stages (queues, bookkeeping)".padding(toLength: 42, withPad: " ", startingAt: 0)
            + String(format: " %9.2f  %5.1f%%\n", other * 1000, 100 * other / instrumentedSeconds)
        out +=
            "  " + "= that run, with its clocks".padding(toLength: 42, withPad: " ", startingAt: 0)
            + String(format: " %9.2f\n", instrumentedSeconds * 1000)
        out +=
            "  " + "whole score, no clocks (from file)".padding(toLength: 42, withPad: " ", startingAt: 0)
            + String(format: " %9.2f          %11.0f\n", wholeSeconds * 1000, durationSeconds / wholeSeconds)
        out += String(
            format: "\nFFTW alone on the same transforms (%d pitch searches of %d frames): %.2f ms; "
                + "frame stage / FFTW alone = %.2f\n",
            pitchSearches, frames * channels, fftwAloneSeconds * 1000, frameLoopSeconds / fftwAloneSeconds)
        if let wall = parallelWallSeconds {
            let throughput = Double(jobs) * durationSeconds / wall
            out += String(
                format: "%d analyses in parallel: %.2f s wall, %.0f × real time in all (%.1f h of audio per minute)\n",
                jobs, wall, throughput, throughput * 60 / 3600)
        }
        if let live {
            out += String(
                format:
                    """
                    %d live calls on one core, %d ms pieces analysed %@: %.2f s wall, %.0f × real time in all \
                    (%.2f ms of work per second of a call's audio), %d lines, written at most %.0f ms after their \
                    emitted_at_s, peak memory %.0f MiB (%.2f MiB a call)\n
                    """,
                live.calls, live.pieceMs, live.stepMs == 0 ? "as they come" : "\(live.stepMs) ms at a time",
                live.wallSeconds, live.aggregateRealTime, 1000 / live.aggregateRealTime, live.lines,
                live.maximumLineDelaySeconds * 1000, live.peakMebibytes, live.mebibytesPerCall)
        }
        return out
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Every value is a finite number or a string, which JSONEncoder always encodes.
        let data = (try? encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The `--format json` document: keys carry their units; the parallel and live figures only
/// when they were measured.
extension BenchResult: Encodable {
    enum Key: String, CodingKey {
        case file, duration_s, channels, frames_per_channel, analysis_target, stages_ms, stages_sum_ms, instrumented_ms
        case whole_score_ms, whole_score_x_realtime, fftw_alone_ms, frame_loop_over_fftw, pitch_searches
        case parallel_jobs, parallel_wall_s, parallel_x_realtime
        case live_calls, live_piece_ms, live_step_ms, live_wall_s, live_x_realtime, live_lines, live_line_delay_max_ms
        case live_peak_mib, live_mib_per_call
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(file, forKey: .file)
        try c.encode(durationSeconds, forKey: .duration_s)
        try c.encode(channels, forKey: .channels)
        try c.encode(frames, forKey: .frames_per_channel)
        try c.encode(Self.analysisTarget, forKey: .analysis_target)
        try c.encode(Dictionary(uniqueKeysWithValues: stages.map { ($0.0, $0.1 * 1000) }), forKey: .stages_ms)
        try c.encode(stageSum * 1000, forKey: .stages_sum_ms)
        try c.encode(instrumentedSeconds * 1000, forKey: .instrumented_ms)
        try c.encode(wholeSeconds * 1000, forKey: .whole_score_ms)
        try c.encode(durationSeconds / wholeSeconds, forKey: .whole_score_x_realtime)
        try c.encode(fftwAloneSeconds * 1000, forKey: .fftw_alone_ms)
        try c.encode(frameLoopSeconds / fftwAloneSeconds, forKey: .frame_loop_over_fftw)
        try c.encode(pitchSearches, forKey: .pitch_searches)
        if let wall = parallelWallSeconds {
            try c.encode(jobs, forKey: .parallel_jobs)
            try c.encode(wall, forKey: .parallel_wall_s)
            try c.encode(Double(jobs) * durationSeconds / wall, forKey: .parallel_x_realtime)
        }
        if let live {
            try c.encode(live.calls, forKey: .live_calls)
            try c.encode(live.pieceMs, forKey: .live_piece_ms)
            try c.encode(live.stepMs, forKey: .live_step_ms)
            try c.encode(live.wallSeconds, forKey: .live_wall_s)
            try c.encode(live.aggregateRealTime, forKey: .live_x_realtime)
            try c.encode(live.lines, forKey: .live_lines)
            try c.encode(live.maximumLineDelaySeconds * 1000, forKey: .live_line_delay_max_ms)
            try c.encode(live.peakMebibytes, forKey: .live_peak_mib)
            try c.encode(live.mebibytesPerCall, forKey: .live_mib_per_call)
        }
    }
}

/// N live calls on one thread.
struct LiveBench {
    var calls: Int
    var pieceMs: Int
    var stepMs: Int
    var wallSeconds: Double
    var aggregateRealTime: Double
    var lines: Int
    /// The longest a line waited, in audio heard, past its `emitted_at_s`: the frames'
    /// look-ahead, the piece and the step it was decided in.
    var maximumLineDelaySeconds: Double
    var peakMebibytes: Double
    var mebibytesPerCall: Double
}

struct BenchRunner {
    var path: String
    var repeats: Int
    var jobs: Int
    var liveCalls = 0
    var livePieceMs = 20
    var liveStepSeconds = CallOptions.serviceAnalysisStepSeconds

    func run() throws -> BenchResult {
        let config = AnalysisConfig()
        var best: (StageClock, Double)? = nil
        var info: AudioFileInfo!
        var pitchSearches = 0
        for _ in 0..<repeats {
            let clock = StageClock(enabled: true)
            let start = DispatchTime.now().uptimeNanoseconds
            var searches = 0
            _ = try CallScorer().score(path: path) { stream in
                stream.clock = clock
                stream.onFinish = { searches = $0.pitchSearchCount }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if best == nil || seconds < best!.1 { best = (clock, seconds) }
            pitchSearches = searches
        }
        info = try AudioFileReader(path: path).info
        var whole = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try CallScorer().score(path: path)
            whole = min(whole, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let (clock, instrumented) = best!
        let stages = StageClock.Stage.allCases.map { ($0.name, clock.seconds($0)) }
        let frameCount = Int((info.durationSeconds / config.hopSeconds).rounded(.up))
        var fftw = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            TransformsAlone.run(frames: frameCount * info.channelCount, pitchSearches: pitchSearches, config: config)
            fftw = min(fftw, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        var wall: Double? = nil
        if jobs > 0 {
            let group = DispatchGroup()
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<jobs {
                DispatchQueue.global().async(group: group) {
                    _ = try? CallScorer().score(path: path)
                }
            }
            group.wait()
            wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let live =
            liveCalls > 0
            ? try Self.live(path: path, calls: liveCalls, pieceMs: livePieceMs, stepSeconds: liveStepSeconds) : nil
        return BenchResult(
            file: path, durationSeconds: info.durationSeconds, channels: info.channelCount, stages: stages,
            instrumentedSeconds: instrumented, wholeSeconds: whole, fftwAloneSeconds: fftw,
            frameLoopSeconds: clock.seconds(.frames), frames: frameCount, pitchSearches: pitchSearches, jobs: jobs,
            parallelWallSeconds: wall,
            live: live)
    }

    /// `calls` live calls of the recording at once on this thread: each fed 20 ms at a
    /// time, round robin, coached (lines rendered), finished and scored.
    static func live(path: String, calls: Int, pieceMs: Int, stepSeconds: Double) throws -> LiveBench {
        let reader = try AudioFileReader(path: path)
        let info = reader.info
        var samples: [Float] = []
        var block = [Float](repeating: 0, count: 8192 * info.channelCount)
        while true {
            let n = try reader.read(into: &block)
            if n == 0 { break }
            samples += block[0..<(n * info.channelCount)]
        }
        let residentBefore = peakResidentMebibytes()
        var lines = 0
        var delay = 0.0
        let standard = Standard()
        var streams: [CallStream] = []
        var coaches: [LiveCoach] = []
        for _ in 0..<calls {
            let s = CallStream(
                sampleRateHz: info.sampleRateHz, channelCount: info.channelCount,
                options: CallOptions(analysisStepSeconds: stepSeconds))
            let c = LiveCoach(standard: standard) { [unowned s] line in
                lines += LiveJSON.render(line).utf8.count > 0 ? 1 : 0
                delay = max(delay, s.durationSeconds - line.emittedAtSeconds)
            }
            s.listener = c
            streams.append(s)
            coaches.append(c)
        }
        let piece = max(1, info.sampleRateHz * pieceMs / 1000)
        var buffer = [Float](repeating: 0, count: piece * info.channelCount)
        let frames = samples.count / info.channelCount
        let start = DispatchTime.now().uptimeNanoseconds
        var offset = 0
        while offset < frames {
            let n = min(piece, frames - offset)
            for s in streams {
                // Each call receives its own copy of the piece, as it would from its line.
                buffer.withUnsafeMutableBufferPointer { b in
                    samples.withUnsafeBufferPointer { x in
                        for k in 0..<(n * info.channelCount) { b[k] = x[offset * info.channelCount + k] }
                    }
                }
                do { try s.push(&buffer, frames: n) } catch {
                    throw AudioError.unreadable(path: path, reason: "\(error)", status: 0)
                }
            }
            offset += n
        }
        for s in streams {
            let scored = try CallScorer(standard: standard).finish(s, name: path, formatName: info.formatName)
            var bytes = 0
            try? LiveJSON.writeSummary(scored.measures, scored.card, emittedAtSeconds: s.durationSeconds) {
                bytes += $0.utf8.count
            }
            lines += bytes > 0 ? 1 : 0
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let peak = peakResidentMebibytes()
        withExtendedLifetime(coaches) {}
        return LiveBench(
            calls: calls, pieceMs: pieceMs, stepMs: Int((stepSeconds * 1000).rounded()), wallSeconds: wall,
            aggregateRealTime: Double(calls) * info.durationSeconds / wall, lines: lines,
            maximumLineDelaySeconds: delay,
            peakMebibytes: peak, mebibytesPerCall: max(0, peak - residentBefore) / Double(calls))
    }

    /// The process's peak resident memory so far, MiB.
    static func peakResidentMebibytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
