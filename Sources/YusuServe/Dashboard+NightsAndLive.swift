// The nights (runs) page and the live board.
import Foundation
import Hummingbird
import NIOCore
import YusuBatch
import YusuDelivery
import YusuNightReport
import YusuReport

extension Dashboard {

    static func runsPage(_ state: ServeState) async throws -> Response {
        let runs = try await state.database.run { try ServeQueries.runs($0, limit: 30) }
        return page("Yusu · 夜间任务 Nights", templates.render("runs", Runs(runs: runs.map(Runs.Run.init))))
    }

    /// The fields of Templates/runs.mustache: the last 30 batches, each with its failed files.
    struct Runs: Encodable {
        struct FailedFile: Encodable { let path, reason: String }
        struct Run: Encodable {
            let id, started, source, scored, skipped, failed: String
            let interrupted: Bool
            let failedFiles: [FailedFile]

            init(_ r: ServeQueries.Run) {
                func v(_ k: String) -> String {
                    switch r.fields[k] {
                    case .str(let s)?: return s
                    case .whole(let i)?: return String(i)
                    case .boolean(let b)?: return b ? "yes" : "no"
                    default: return ""
                    }
                }
                (id, started, source) = (v("id"), v("started_at"), v("source"))
                (scored, skipped, failed) = (v("files_scored"), v("files_skipped"), v("files_failed"))
                interrupted = r.fields["interrupted"] == .boolean(true)
                failedFiles = r.failedFiles.map { FailedFile(path: $0.path, reason: $0.reason) }
            }
        }
        let runs: [Run]
    }

    // MARK: Live

    /// The live board: its rows are drawn by the page's script from `/v1/live/calls`.
    static func livePage() -> Response { page("Yusu · 实时 Live", constant("live")) }
}
