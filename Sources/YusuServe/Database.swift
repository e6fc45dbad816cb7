import Foundation
import NIOCore
import NIOPosix
import YusuBatch
import YusuDelivery
import YusuPostgres

/// The results database as the service uses it: the same file or server `yusu batch`
/// writes and `yusu report` reads, through the same statements (`ResultsSQL`,
/// `NightlySummary`). Its calls block, so they run on a thread pool of their own, never on
/// the server's event loops: SQLite through one GRDB pool (concurrent readers, one
/// writer), PostgreSQL through one connection per thread.
public final class ServeDatabase: @unchecked Sendable {
    public enum Engine: Sendable {
        case sqlite(path: String)
        case postgres(PostgresTarget)
    }

    public let engine: Engine
    private let stores: [any ResultsStore]
    private let threads: NIOThreadPool
    private let lock = NSLock()
    private var free: [Int]
    private let available: DispatchSemaphore

    public struct OpenError: Error, CustomStringConvertible { public var description: String }

    /// Opens the database: an SQLite file that must exist (a `batch` made it, or `yusu token
    /// create` did), migrated to this Yusu's schema; or a PostgreSQL database, whose older
    /// schema is refused with the `yusu db migrate` advice.
    public init(_ engine: Engine, connections: Int = 4) throws {
        self.engine = engine
        switch engine {
        case .sqlite(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw OpenError(
                    description:
                        """
                        \(path): no such results database (create it with 'yusu batch ... --db \(path)' or 'yusu \
                        token create --db \(path)')
                        """
                )
            }
            do { stores = [try ResultsDatabase(path: path)] } catch {
                throw OpenError(description: "\(error)")
            }
        case .postgres(let target):
            var opened: [any ResultsStore] = []
            for k in 0..<max(1, connections) {
                let results = try PostgresResults(target: target, reconnectSeconds: 30)
                if k == 0 { try results.migrate(upgrade: .refuse) }
                opened.append(results)
            }
            stores = opened
        }
        free = Array(stores.indices)
        available = DispatchSemaphore(value: stores.count)
        threads = NIOThreadPool(numberOfThreads: max(2, connections))
        threads.start()
    }

    deinit { try? threads.syncShutdownGracefully() }

    /// Leaves an SQLite file complete on its own (its WAL folded in), as a batch does when
    /// it ends: a copy of the file alone is the whole database.
    public func close() {
        for store in stores { (store as? ResultsDatabase)?.closeForCopying() }
    }

    public var dialect: SQLDialect { stores[0].dialect }

    /// Runs `body` with a store. SQLite reads (a WAL reader never waits for a writer, and
    /// a page's statements take well under a millisecond) run where the request is; a
    /// thread hop cost more than the query. PostgreSQL waits on the network: its calls run
    /// on the database threads, never on the server's.
    public func run<T: Sendable>(_ body: @escaping @Sendable (any ResultsStore) throws -> T) async throws -> T {
        if stores[0].sharedAcrossThreads { return try body(stores[0]) }
        return try await threads.runIfActive { [self] in try now(body) }
    }

    /// Runs a writing `body` on the database threads, whatever the engine: a write may wait
    /// for another writer (a batch), never on the server's own threads.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any ResultsStore) throws -> T) async throws -> T {
        try await threads.runIfActive { [self] in try now(body) }
    }

    /// The same, from synchronous code (the scoring threads, the CLI's token commands).
    /// A PostgreSQL connection serves one caller at a time: this waits for a free one.
    public func now<T>(_ body: (any ResultsStore) throws -> T) throws -> T {
        if stores[0].sharedAcrossThreads { return try body(stores[0]) }
        available.wait()
        let index = lock.withLock { free.removeLast() }
        defer {
            lock.withLock { free.append(index) }
            available.signal()
        }
        return try body(stores[index])
    }
}
