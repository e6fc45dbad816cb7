import ArgumentParser
import Foundation
import YusuBatch
import YusuReport

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, csv, json
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise a results database per agent and day.",
        discussion: "Calls, pass rate per rule, mean speech rate, interruptions per call, sinking-ending share, and the worst calls with the moments that failed."
    )

    @Option(name: .long, help: "The results database written by 'yusu batch'.")
    var db: String

    @Option(name: .long, help: "Only calls on or after this day (yyyy-MM-dd).")
    var since: String?

    @Option(name: .long, help: "Output format: text, csv or json.")
    var format: ReportFormat = .text

    @Option(name: .long, help: "Standard key to report on (default: the standard of the latest run).")
    var standardKey: String?

    @Option(name: .long, help: "Worst calls listed per agent and day.")
    var worst: Int = 3

    func validate() throws {
        if let since, since.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) == nil {
            throw ValidationError("--since must be a day as yyyy-MM-dd (got '\(since)')")
        }
        guard worst >= 0 else { throw ValidationError("--worst must be >= 0") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: db) else {
            printError("\(db): no such results database")
            throw ExitCode(1)
        }
        let summary: NightlySummary
        do {
            summary = try NightlySummary.load(from: try ResultsDatabase(path: db), since: since, standardKey: standardKey, worstPerGroup: worst)
        } catch let error as ResultsDatabase.DatabaseError {
            printError(error.description)
            throw ExitCode(1)
        }
        switch format {
        case .text: print(BatchReport.text(summary), terminator: "")
        case .csv: print(try BatchReport.csv(summary), terminator: "")
        case .json: print(BatchReport.json(summary))
        }
    }
}
