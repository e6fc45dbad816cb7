import ArgumentParser
import Foundation
import YusuDelivery
import YusuReport

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score one call recording against the service standard.",
        discussion: """
        Text output is for people (verdicts first, Chinese rule names beside English);
        JSON output follows ../shared/eval/CONTRACT.md. Exit status: 0 scored (whatever
        the verdicts), 1 the recording cannot be analysed, 2 the standard file is invalid.
        """
    )

    @OptionGroup var recording: RecordingOptions

    @Option(name: .long, help: "Output format: text, json, or html (one self-contained page: verdicts, timeline, pitch, rate, levels, events).")
    var format: ScoreFormat = .text

    @Option(name: .long, help: "A JSON file overriding the default standard (see README: The standard).")
    var standard: String?

    func run() throws {
        let rules = try loadStandard(standard)
        let analysis = try recording.analyze(standard: rules)
        let card = rules.evaluate(analysis.measures)
        switch format {
        case .json: print(JSONReport.render(analysis.measures, card))
        case .text: print(TextReport.render(analysis.measures, card), terminator: "")
        case .html: print(HTMLCallReport.render(analysis, card), terminator: "")
        }
    }
}

/// The default standard, or the one in `path`; exits with status 2 and a message if invalid.
func loadStandard(_ path: String?) throws -> Standard {
    guard let path else { return Standard() }
    do {
        return try Standard.load(path: path)
    } catch let error as Standard.LoadError {
        printError(error.description)
        throw ExitStatus.badStandard
    }
}
