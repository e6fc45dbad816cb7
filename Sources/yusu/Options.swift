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
    @Argument(help: "The recording: WAV (PCM, float, μ-law, A-law), FLAC or OGG; mono or stereo; 8–48 kHz.")
    var file: String

    @Option(name: .long, help: "Channel that carries the agent in a stereo file (0 or 1); the other is the customer.")
    var agentChannel: Int = 0

    func validate() throws {
        guard agentChannel == 0 || agentChannel == 1 else {
            throw ValidationError("--agent-channel must be 0 or 1 (got \(agentChannel))")
        }
    }

    /// Runs the pipeline, printing a one-line error and exiting non-zero on bad input.
    func analyze(standard: Standard = Standard(), requireSpeech: Bool = true) throws -> CallAnalysis {
        do {
            return try CallAnalyzer(standard: standard).analyze(path: file, options: CallOptions(agentChannel: agentChannel),
                                                                requireSpeech: requireSpeech)
        } catch let error as AudioError {
            printError(error.description)
            throw ExitStatus.badInput
        }
    }
}
