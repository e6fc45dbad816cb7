import Foundation
import Hummingbird
import Logging
import Prometheus
import Testing
import YusuBatch
import YusuTestSupport

@testable import YusuServe

/// The API's routes and schema/openapi.v1.yaml's operations, held together: a route added,
/// renamed or dropped on one side only fails here, before any client meets it. (Answers are
/// held to the spec's schemas by the schemathesis test in ServeTests.)
@Suite("The API's routes are the spec's operations")
struct SpecRoutesTests {
    /// "GET /v1/calls/{id}" for every operation under the spec's `paths:` (the router
    /// describes its captures the same way).
    static func specOperations() throws -> Set<String> {
        let spec = URL(fileURLWithPath: fixturesDirectory()).deletingLastPathComponent()
            .appendingPathComponent("schema/openapi.v1.yaml")
        let lines = try String(contentsOf: spec, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        var inPaths = false
        var path: String?
        var operations: Set<String> = []
        for line in lines {
            if !line.hasPrefix(" ") && !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path {
                let key = line.trimmingCharacters(in: .whitespaces).split(separator: ":").first.map(String.init) ?? ""
                if methods.contains(key) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    @Test("every API route is an operation of the spec, and every operation a route")
    func routesMatchSpec() throws {
        let dir = TemporaryDirectory()
        let db = dir.file("results.db")
        _ = try ResultsDatabase(path: db)
        let database = try ServeDatabase(.sqlite(path: db), connections: 1)
        defer { database.close() }
        let state = ServeState(
            configuration: ServeConfiguration(database: .sqlite(path: db)), database: database,
            registry: PrometheusCollectorRegistry(), logger: Logger(label: "spec-routes"))
        let router = Router(context: ServeContext.self)
        API.add(to: router, state: state)
        let routes = Set(router.routes.map { "\($0.method) \($0.path)" })

        let operations = try Self.specOperations()
        // The parse itself: the spec's first and last operations are read.
        #expect(operations.contains("GET /healthz"))
        #expect(operations.contains("POST /v1/score"))
        #expect(operations.contains("GET /v1/calls/{id}/recording"))
        #expect(routes.subtracting(operations).sorted() == [], "routes the spec does not describe")
        #expect(operations.subtracting(routes).sorted() == [], "operations no route serves")
    }
}
