import ArgumentParser
import Foundation

@main
struct Yusu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yusu",
        abstract: "Yusu 语速 — speech rate and voice delivery of call-centre recordings, from the audio alone.",
        discussion: """
        Scores a call recording (agent on one channel, customer on the other) against a
        call-centre service standard: speech rate 100–120 字/分钟, no sinking sentence
        endings, no interrupting the customer, call duration, speaking level, holds and
        dead air, sentence length.
        """,
        version: "0.1.0",
        subcommands: [Score.self, Frames.self, Batch.self, Report.self, Db.self, Bench.self]
    )
}

/// Prints `message` as one line on standard error, prefixed with the tool's name.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("yusu: \(message)\n".utf8))
}

/// Exit statuses: 0 success, 1 the input could not be analysed, 2 the standard file is
/// invalid, 64 usage errors (ArgumentParser's).
enum ExitStatus {
    static let badInput = ExitCode(1)
    static let badStandard = ExitCode(2)
}
