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

    /// Every operation's query parameters in the spec, "GET /v1/calls" -> names, read with
    /// yaml (references to `components/parameters` followed): nil without such a python.
    static func specQueryParameters() throws -> [String: [String]]? {
        guard let python = specPython else { return nil }
        let spec = URL(fileURLWithPath: fixturesDirectory()).deletingLastPathComponent()
            .appendingPathComponent("schema/openapi.v1.yaml")
        let script = """
            import json, sys, yaml
            spec = yaml.safe_load(open(sys.argv[1]))
            def resolve(p):
                while '$ref' in p:
                    node = spec
                    for key in p['$ref'].lstrip('#/').split('/'): node = node[key]
                    p = node
                return p
            out = {}
            for path, ops in spec['paths'].items():
                for method, op in ops.items():
                    params = [resolve(p) for p in op.get('parameters', [])]
                    out[method.upper() + ' ' + path] = [p['name'] for p in params if p['in'] == 'query']
            print(json.dumps(out))
            """
        let r = try CLI.run(executable: python, ["-c", script, spec.path])
        guard r.status == 0, let data = r.stdout.data(using: .utf8) else {
            Issue.record("reading the spec's parameters failed: \(r.stderr)")
            return [:]
        }
        return try JSONDecoder().decode([String: [String]].self, from: data)
    }

    @Test(
        """
        every API operation takes exactly the query parameters the spec gives it (the table the \
        server refuses other names by)
        """,
        .enabled(
            if: specPython != nil, "no python3 imports both jsonschema and yaml (python3-jsonschema, python3-yaml)"))
    func parametersMatchSpec() throws {
        let spec = try #require(try Self.specQueryParameters())
        // The read itself: an operation with many parameters, and one reached by a reference.
        #expect(spec["GET /v1/calls"]?.count == 10)
        #expect(spec["GET /v1/calls/{id}"] == [])
        for (operation, names) in spec where operation != "GET /healthz" && operation != "GET /metrics" {
            #expect(
                API.queryParameters[operation].map(Set.init) == Set(names),
                "\(operation): the server takes \(API.queryParameters[operation] ?? []), the spec \(names)")
        }
        #expect(
            Set(API.queryParameters.keys) == Set(spec.keys).subtracting(["GET /healthz", "GET /metrics"]),
            "operations in one table only")
    }

    @Test("a name an operation does not take, or a name twice, is a 400 that names it")
    func unknownAndRepeatedNames() throws {
        let calls = try #require(API.queryParameters["GET /v1/calls"])
        #expect(throws: Never.self) {
            try API.checkQueryNames(["page", "per_page"], operation: "GET /v1/calls", taken: calls)
        }
        for (names, said) in [
            (["per-page"], "unknown parameter 'per-page': GET /v1/calls takes agent, from"),
            (["page", "page"], "page is given more than once"),
        ] {
            do {
                try API.checkQueryNames(names.map { Substring($0) }, operation: "GET /v1/calls", taken: calls)
                Issue.record("\(names) passed")
            } catch let error as APIError {
                #expect(error.status == .badRequest && error.message.hasPrefix(said), "\(error.message)")
            }
        }
        do {
            try API.checkQueryNames(["x"], operation: "GET /v1/agents", taken: [])
            Issue.record("a name on an operation without parameters passed")
        } catch let error as APIError {
            #expect(error.message == "unknown parameter 'x': GET /v1/agents takes no parameters")
        }
    }
}
