import ArgumentParser
import Foundation
import YusuBatch
import YusuDelivery
import YusuReport

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score one call recording against the service standard.",
        discussion: """
            Text output is for people (verdicts first, Chinese rule names beside English); JSON output follows \
            schema/score.v1.schema.json in the repository; HTML is one page with the recording on it. Exit status: 0 \
            scored (whatever the verdicts), 1 the recording cannot be analysed (one line on stderr says why), 2 the \
            standard file is invalid.
            """
    )

    @OptionGroup var recording: RecordingOptions
    var file: String { recording.file }

    @Option(
        name: .long,
        help:
            """
            Output format: text, json, or html (one self-contained page: verdicts, timeline, pitch, rate, levels, \
            events).
            """
    )
    var format: ScoreFormat = .text

    @Option(
        name: .long,
        help:
            """
            With --format html: how the page plays the recording. auto embeds it when small (telephone μ-law/A-law \
            decoded to PCM so browsers play it), else links to it; link always links (file://); none leaves the \
            player out.
            """
    )
    var audio: HTMLAudioMode = .auto

    @OptionGroup var standard: StandardOption

    func run() throws {
        let rules = try standard.load()
        let scored = try recording.score(rules, keepContour: format == .html)
        let (analysis, card) = (scored.analysis, scored.card)
        for warning in analysis.measures.warnings { printError("\(file): warning: \(warning)") }
        switch format {
        case .json:
            do {
                // Written as it is made: a long call's document never sits in one string.
                let out = FileHandle.standardOutput
                try JSONReport.write(analysis.measures, card) { out.write(Data($0.utf8)) }
                out.write(Data("\n".utf8))
            } catch {
                printError("\(file): internal error, the result cannot be written as JSON (\(error))")
                throw ExitStatus.badInput
            }
        case .text: print(ArchiveSource.printableLines(TextReport.render(analysis.measures, card)), terminator: "")
        case .html:
            let audio: HTMLCallReport.Audio? =
                switch self.audio {
                case .auto: .forRecording(path: file)
                case .link: .link(URL(fileURLWithPath: file).standardizedFileURL.absoluteString)
                case .none: nil
                }
            print(HTMLCallReport.render(analysis, card, audio: audio), terminator: "")
        }
    }
}
