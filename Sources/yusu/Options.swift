import ArgumentParser
import YusuDelivery
import YusuSignal

enum ScoreFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, html
}

enum HTMLAudioMode: String, ExpressibleByArgument, CaseIterable {
    case auto, link, none
}

enum FramesFormat: String, ExpressibleByArgument, CaseIterable {
    case csv
}

/// Options shared by the commands that analyse one recording.
struct RecordingOptions: ParsableArguments {
    @Argument(
        help:
            """
            The recording: WAV (PCM, float, μ-law, A-law), FLAC, Ogg (Vorbis, Opus), MP3, AIFF; mono or stereo; \
            8–48 kHz; a regular file.
            """
    )
    var file: String

    @Option(name: .long, help: "Channel that carries the agent in a stereo file (0 or 1); the other is the customer.")
    var agentChannel: Int = 0

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        guard agentChannel == 0 || agentChannel == 1 else {
            throw ValidationError("--agent-channel must be 0 or 1 (got \(agentChannel))")
        }
    }

    /// Scores the recording, printing a one-line error and exiting non-zero on bad input.
    func score(_ standard: Standard, keepContour: Bool = false) throws -> CallScorer.Scored {
        try reportingBadInput {
            try CallScorer(standard: standard, limits: limits.inputLimits)
                .score(path: file, options: CallOptions(agentChannel: agentChannel, keepContour: keepContour))
        }
    }

    /// The analysis alone (the frame dump: no verdicts, no speech needed), errors as `score`'s.
    func analyze(prepare: @escaping (CallStream) -> Void) throws -> CallAnalysis {
        try reportingBadInput {
            try CallScorer(limits: limits.inputLimits)
                .analyze(
                    path: file, options: CallOptions(agentChannel: agentChannel), requireSpeech: false, prepare: prepare
                )
        }
    }

    private func reportingBadInput<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AudioError {
            printError(error.description)
            throw ExitStatus.badInput
        }
    }
}

/// How much work one file may cost, for every command that reads recording files.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: "Refuse files larger than this many megabytes (MiB).")
    var maxFileMb: Double = Double(InputLimits().maximumFileBytes) / 1_048_576

    @OptionGroup var duration: DurationLimitOption

    func validate() throws {
        guard maxFileMb > 0 && maxFileMb <= 1_048_576 else {
            throw ValidationError("--max-file-mb must be above 0 and at most 1048576 (got \(maxFileMb))")
        }
    }

    var inputLimits: InputLimits {
        InputLimits(maximumFileBytes: Int64(maxFileMb * 1_048_576), maximumDurationSeconds: duration.maxDurationS)
    }
}

/// How long a recording or stream may be: score, batch, live and serve alike.
struct DurationLimitOption: ParsableArguments {
    @Option(name: .long, help: "Refuse recordings and streams longer than this many seconds (43200 = 12 hours).")
    var maxDurationS: Double = InputLimits().maximumDurationSeconds

    func validate() throws {
        guard maxDurationS >= 1 && maxDurationS <= 7 * 86_400 else {
            throw ValidationError("--max-duration-s must be from 1 to 604800 (got \(maxDurationS))")
        }
    }
}

/// How often a live call's audio is analysed: live, serve and bench alike, each with its own
/// default (one call alone: every piece as it comes; a service with many calls: 40 ms).
struct AnalysisStepOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            """
            Analyse a live call's audio this many milliseconds at a time, 0–1000 (0: every piece as it comes; \
            default: 0 for live, 40 for serve and bench).
            """,
            discussion:
                """
                A line is written up to one step less one piece later; what is decided, and each line's \
                emitted_at_s, do not change. Larger steps cost a server with many calls on a core less per call.
                """
        ))
    var analysisStepMs: Int?

    func validate() throws {
        if let analysisStepMs, !(0...1_000).contains(analysisStepMs) {
            throw ValidationError("--analysis-step-ms must be from 0 to 1000 (got \(analysisStepMs))")
        }
    }

    /// The step asked for, or `fallback`, seconds.
    func seconds(or fallback: Double) -> Double { analysisStepMs.map { Double($0) / 1000 } ?? fallback }
}

/// The standard the verdicts are judged by: score, batch, live and serve alike.
struct StandardOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A JSON file overriding the default standard (see README: The standard).",
            discussion:
                """
                batch records its name and version with each call; serve without it uses the standard of the \
                database's latest run.
                """
        ))
    var standard: String?

    /// The default standard, or the file's; exits with status 2 and a message if invalid.
    func load() throws -> Standard {
        guard let standard else { return Standard() }
        do {
            return try Standard.load(path: standard)
        } catch let error as Standard.LoadError {
            printError(error.description)
            throw ExitStatus.badStandard
        }
    }
}
