import Foundation
import Testing
import YusuTestSupport

/// The API's answers held to schema/openapi.v1.yaml field for field. Every JSON object the
/// service writes is closed in the spec (`additionalProperties: false`, or
/// `unevaluatedProperties: false` where a schema extends another) and lists every field it
/// writes as required. A field added on one side only, renamed, or dropped fails here, as a
/// generated type would fail to compile. Free-form parts are the documents with schemas of
/// their own (the score document, the night summary), the stored verdicts and metadata, and a
/// live call's alerts (live lines, schema/live.v1.schema.json).
@Suite(
    "every /v1 answer is schema/openapi.v1.yaml's, field for field", .serialized,
    .enabled(if: curlPresent, "no /usr/bin/curl (Debian: curl)"))
struct SpecAnswersTests {
    static let spec = fixturesDirectory() + "/../schema/openapi.v1.yaml"

    /// Where operation `path`'s answer with `status` is described.
    static func schema(_ path: String, _ status: String) -> [String] {
        ["paths", path, "get", "responses", status, "content", "application/json", "schema"]
    }

    static func errorSchema(_ response: String) -> [String] {
        ["components", "responses", response, "content", "application/json", "schema"]
    }

    @Test(
        """
        health, calls (a page, a scored call, a failed call), agents, a trend, runs, live calls and the errors: each \
        answer validates; one field more, or one less, does not
        """,
        // Skipped, not passed, without the validator; CI requires it (`SchemaTests.present`).
        .enabled(if: specPython != nil, "no python3 imports both jsonschema and yaml (python3-yaml)"))
    func answers() throws {
        let python = specPython!
        let night = ServedNight.shared
        let dir = TemporaryDirectory()
        let server = try ServeProcess(["--db", night.db], in: dir)
        defer { server.stop() }
        let scored = try night.callRow(callId: "demo")
        let failed = try night.callRow(callId: "gone")
        let cases: [(name: String, path: String, status: Int, schema: [String])] = [
            ("healthz", "/healthz", 200, Self.schema("/healthz", "200")),
            ("calls", "/v1/calls?per_page=500", 200, Self.schema("/v1/calls", "200")),
            ("call-scored", "/v1/calls/\(scored)", 200, Self.schema("/v1/calls/{id}", "200")),
            ("call-failed", "/v1/calls/\(failed)", 200, Self.schema("/v1/calls/{id}", "200")),
            ("agents", "/v1/agents", 200, Self.schema("/v1/agents", "200")),
            ("trend", "/v1/agents/\(percent("王芳"))/trend?by=day", 200, Self.schema("/v1/agents/{agent}/trend", "200")),
            ("runs", "/v1/runs", 200, Self.schema("/v1/runs", "200")),
            ("live", "/v1/live/calls", 200, Self.schema("/v1/live/calls", "200")),
            ("not-found", "/v1/calls/999999", 404, Self.errorSchema("NotFound")),
            ("bad-request", "/v1/calls?page=abc", 400, Self.errorSchema("BadRequest")),
        ]
        var answers: [String: String] = [:]
        for c in cases {
            let answer = try curl(server.base + c.path, token: night.readToken)
            #expect(answer.status == c.status, "\(c.name): \(answer.status) \(answer.text.prefix(300))")
            answers[c.name] = answer.text
            let complaints = try SchemaTests().validate(
                [c.name: answer.text], schema: Self.spec, at: c.schema, python: python)
            #expect(complaints.isEmpty, "\(c.name) (\(c.path)) against the spec: \(complaints)")
        }
        // What the night holds reaches the checks: a failed call with its reason, a scored one
        // with utterances and events, a run with its failed file.
        let failedCall = try JSONSerialization.jsonObject(with: Data(answers["call-failed", default: ""].utf8))
        #expect((failedCall as? [String: Any])?["status"] as? String == "failed", "\(failedCall)")
        let scoredCall =
            (try JSONSerialization.jsonObject(with: Data(answers["call-scored", default: ""].utf8)) as? [String: Any])
            ?? [:]
        #expect(
            ((scoredCall["utterances"] as? [Any])?.count ?? 0) > 0
                && ((scoredCall["events"] as? [Any])?.count ?? 0) > 0,
            "\(scoredCall.keys.sorted())")
        let runs =
            (try JSONSerialization.jsonObject(with: Data(answers["runs", default: ""].utf8)) as? [String: Any])?["runs"]
            as? [[String: Any]] ?? []
        #expect(runs.contains { !(($0["failed_files"] as? [Any]) ?? []).isEmpty }, "\(runs)")

        // The schemas are closed and complete: a field the spec does not have, or one of its
        // fields left out, is refused at every level checked.
        func edited(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
            var object = try JSONSerialization.jsonObject(with: Data(answers[name, default: ""].utf8)) as! [String: Any]
            edit(&object)
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let broken: [(name: String, text: String, schema: [String], says: String)] = [
            (
                "call-extra",
                try edited("call-scored") { $0["rate_bonus"] = 1 },
                Self.schema("/v1/calls/{id}", "200"), "rate_bonus"
            ),
            (
                "call-missing",
                try edited("call-scored") { $0.removeValue(forKey: "sample_rate_hz") },
                Self.schema("/v1/calls/{id}", "200"), "'sample_rate_hz' is a required property"
            ),
            (
                "agent-extra",
                try edited("call-scored") {
                    var agent = $0["agent"] as! [String: Any]
                    agent["pace"] = "fast"
                    $0["agent"] = agent
                },
                Self.schema("/v1/calls/{id}", "200"), "pace"
            ),
            (
                "summary-extra",
                try edited("calls") {
                    var calls = $0["calls"] as! [[String: Any]]
                    calls[0]["path"] = "/archive/a.wav"
                    $0["calls"] = calls
                },
                Self.schema("/v1/calls", "200"), "path"
            ),
            (
                "run-missing",
                try edited("runs") {
                    var runs = $0["runs"] as! [[String: Any]]
                    runs[0].removeValue(forKey: "files_skipped")
                    $0["runs"] = runs
                },
                Self.schema("/v1/runs", "200"), "'files_skipped' is a required property"
            ),
            (
                "health-extra",
                try edited("healthz") { $0["version"] = "1" },
                Self.schema("/healthz", "200"), "version"
            ),
        ]
        for b in broken {
            let complaints = try SchemaTests().validate(
                [b.name: b.text], schema: Self.spec, at: b.schema, python: python)
            #expect(complaints.contains(b.says), "\(b.name): the spec let it through: \(complaints)")
        }
    }
}
