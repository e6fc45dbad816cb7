import ArgumentParser
import Foundation
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuPostgres
import YusuReport

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, csv, json, html
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise a results database per agent and day.",
        discussion:
            """
            Calls, pass rate per rule, mean speech rate, interruptions per call, sinking-ending share, and the \
            worst calls with the moments that failed.
            """
    )

    @Option(
        name: .long,
        help:
            """
            The results database written by 'yusu batch': an SQLite file, or postgres://user@host:port/dbname \
            (password from PGPASSWORD or a password file).
            """
    )
    var db: String

    @Option(name: .long, help: "Only calls on or after this day (yyyy-MM-dd).")
    var since: String?

    @Option(name: .long, help: "Output format: text, csv, json or html.")
    var format: ReportFormat = .text

    @Option(
        name: .long,
        help:
            """
            With --format html: a folder to write index.html and a page per worst call (calls/*.html) into, \
            instead of printing the index.
            """
    )
    var out: String?

    @Option(name: .long, help: "Standard key to report on (default: the standard of the latest run).")
    var standardKey: String?

    @Option(name: .long, help: "Worst calls listed per agent and day.")
    var worst: Int = 3

    func validate() throws {
        if let since, PathPatterns.calendarDay(since) == nil {
            throw ValidationError("--since must be a real day as yyyy-MM-dd (got '\(since)')")
        }
        guard worst >= 0 else { throw ValidationError("--worst must be >= 0") }
    }

    func run() throws {
        let summary = try reportingDatabaseErrors {
            try NightlySummary.load(
                from: try openResults(db), since: since, standardKey: standardKey, worstPerGroup: worst)
        }
        switch format {
        case .text: print(ArchiveSource.printableLines(NightReport.text(summary)), terminator: "")
        case .csv: print(try NightReport.csv(summary), terminator: "")
        case .json: print(NightReport.json(summary))
        case .html:
            guard let out else {
                print(HTMLNightReport.render(summary), terminator: "")
                return
            }
            try writeSite(summary, to: out)
        }
    }

    /// index.html plus one page per worst call, re-analysed from its recording (the
    /// database keeps measures, not the pitch contour a page draws).
    func writeSite(_ summary: NightlySummary, to folder: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder + "/calls", withIntermediateDirectories: true)
        var linked = Set<String>()
        let standard = summary.standard
        for group in summary.groups {
            for call in group.worstCalls {
                let page = HTMLNightReport.callPageName(call)
                guard !linked.contains(page) else { continue }
                do {
                    let scored = try CallScorer(standard: standard)
                        .score(
                            path: call.path, options: CallOptions(agentChannel: call.agentChannel, keepContour: true))
                    let html = HTMLCallReport.render(
                        scored.analysis, scored.card, title: "\(group.agentId) · \(call.callId)",
                        audio: .link(URL(fileURLWithPath: call.path).standardizedFileURL.absoluteString))
                    try Data(html.utf8).write(to: URL(fileURLWithPath: folder + "/" + page))
                    linked.insert(page)
                } catch {
                    printError("\(call.path): no page for this call (\(error))")
                }
            }
        }
        try Data(HTMLNightReport.render(summary, linked: linked).utf8).write(
            to: URL(fileURLWithPath: folder + "/index.html"))
        FileHandle.standardError.write(
            Data("yusu report: wrote \(folder)/index.html and \(linked.count) call pages\n".utf8))
    }
}
