import ArgumentParser
import CHostCPU
import Foundation
import YusuBatch
import YusuDelivery

@main
struct Yusu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yusu",
        abstract: "Yusu 语速 — speech rate and voice delivery of call-centre recordings, from the audio alone.",
        discussion: """
            Scores a call recording (agent on one channel, customer on the other) against a call-centre service \
            standard, with no speech recogniser. The rules, each with its default limit (change them with --standard \
            FILE):

            \(ruleList)

            Start with 'yusu score Fixtures/demo_call.wav'. Exit statuses: 0 done, 1 the input cannot be used, 2 the \
            standard file is invalid, 64 bad usage, 69 a build for a newer processor (see the README's Performance); \
            'yusu help batch' for a batch's.
            """,
        version: "0.1.0",
        subcommands: [
            Score.self, Live.self, Frames.self, Batch.self, Report.self, Db.self, Bench.self, Serve.self, Token.self,
        ]
    )

    /// Checks what ArgumentParser would misread, then runs the command.
    ///
    /// - No arguments: the help goes to standard error and the exit status is 64, so a
    ///   script that lost its arguments never sees success.
    /// - A word that starts with one dash (`-dash.wav`): ArgumentParser reads it as a bundle
    ///   of short flags, and the `h` in it as `-h`, printing help and exiting 0. Yusu has no
    ///   short options but `-h`, so such a word is refused with a hint.
    static func main() {
        if let problem = Self.processorProblem() {
            printError(problem)
            Foundation.exit(ExitStatus.wrongProcessor.rawValue)
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.isEmpty {
            FileHandle.standardError.write(Data((Yusu.helpMessage() + "\n").utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        if let problem = Self.misreadArgument(arguments) {
            printError(problem)
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        Self.main(arguments)
    }

    /// Why this processor cannot run this build, or nil: a release build's analysis is compiled
    /// for the building machine's processor (`haswell` when it has AVX2, FMA and BMI2; see
    /// Package.swift), and a binary carried to an older one would die on its first illegal
    /// instruction. This code is compiled for any x86-64, so it runs first and says so.
    static func processorProblem() -> String? {
        #if YUSU_ANALYSIS_HASWELL
            if yusu_host_cpu_runs_haswell_code() == 0 {
                return
                    "this build's analysis was compiled for processors with AVX2, FMA and BMI2 (Intel from 2013, AMD "
                    + "from 2015), and this one lacks them; build it here (swift build -c release), or anywhere with "
                    + "YUSU_TARGET_CPU=x86-64 swift build -c release for a binary that runs on any x86-64"
            }
        #endif
        return nil
    }

    /// The first argument ArgumentParser would take for something it is not, said as a
    /// one-line error; nil when there is none.
    static func misreadArgument(_ arguments: [String]) -> String? {
        for argument in arguments {
            if argument == "--" { return nil }
            guard argument.hasPrefix("-"), !argument.hasPrefix("--"), argument != "-", argument != "-h" else {
                continue
            }
            // A negative number:
            if let second = argument.dropFirst().first, second.isNumber || second == "." { continue }
            return "unknown option '\(argument)': Yusu's options are words after two dashes (--format). "
                + "To name a file that starts with '-', write ./\(argument) or put -- before it."
        }
        return nil
    }
}

/// Prints `message` as one line on standard error, prefixed with the tool's name; control
/// characters in it (a file name's escape sequences or line breaks) are shown, not sent.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("yusu: \(ArchiveSource.printable(message, limit: .max))\n".utf8))
}

/// Exit statuses: 0 success, 1 the input could not be analysed, 2 the standard file is
/// invalid, 64 usage errors (ArgumentParser's), 69 a build for a newer processor.
enum ExitStatus {
    static let badInput = ExitCode(1)
    static let badStandard = ExitCode(2)
    /// The build's analysis needs instructions this processor lacks (EX_UNAVAILABLE).
    static let wrongProcessor = ExitCode(69)
}

/// The rules, one a line, for the overview's help: id, Chinese name, default limit.
private let ruleList = RuleBook.all.map {
    "  " + $0.id.padding(toLength: 20, withPad: " ", startingAt: 0) + "\($0.chineseName)  \($0.defaultLimitText)"
}.joined(separator: "\n")
