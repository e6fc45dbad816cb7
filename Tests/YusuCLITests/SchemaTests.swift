import Foundation
import Testing
import YusuBatch
import YusuTestSupport

/// The first python3 on the PATH (then /usr/bin's) that can import jsonschema (Debian:
/// python3-jsonschema; PyPI: jsonschema), if any. CI installs it and sets
/// YUSU_REQUIRE_JSONSCHEMA=1, so there its absence is a failure, not a skip.
let jsonSchemaPython: URL? = python3(importing: "jsonschema")
/// The same with yaml too (Debian: python3-yaml), to read the API's OpenAPI file.
let specPython: URL? = python3(importing: "jsonschema, yaml")

/// The first python3 on the PATH, then /usr/bin's, that can import `modules`.
func python3(importing modules: String) -> URL? {
    let folders =
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
    for folder in folders {
        let candidate = URL(fileURLWithPath: folder).appendingPathComponent("python3")
        guard FileManager.default.isExecutableFile(atPath: candidate.path),
            let r = try? CLI.run(executable: candidate, ["-c", "import \(modules)"]), r.status == 0
        else { continue }
        return candidate
    }
    return nil
}
let jsonSchemaAvailable = jsonSchemaPython != nil
/// What a skip says: where python3 was looked for.
let jsonSchemaMissing = "no python3 on the PATH or in /usr/bin can import jsonschema (Debian: python3-jsonschema)"
let jsonSchemaRequired = ProcessInfo.processInfo.environment["YUSU_REQUIRE_JSONSCHEMA"] == "1"

@Suite("the JSON interface against its published schema")
struct SchemaTests {
    static let schema = fixturesDirectory() + "/../schema/score.v1.schema.json"
    static let reportSchema = fixturesDirectory() + "/../schema/report.v1.schema.json"

    /// Validates each document with a real JSON Schema (2020-12) validator; returns its complaints.
    /// The schema is a JSON file, or the part of a YAML file (the API's OpenAPI 3.1 spec) that
    /// `pointer`'s keys lead to, read with a `python` that imports yaml too (`specPython`). The
    /// part is reached by a reference into the whole file, so its own references resolve.
    func validate(
        _ documents: [String: String], schema: String = SchemaTests.schema, at pointer: [String] = [],
        python: URL? = jsonSchemaPython
    ) throws -> String {
        let dir = TemporaryDirectory()
        var paths: [String] = []
        for (name, text) in documents {
            let path = dir.file(name + ".json")
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let script = """
            import json, sys, jsonschema
            if sys.argv[1].endswith('.yaml'):
                import yaml
                schema = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))
            else:
                schema = json.load(open(sys.argv[1], encoding='utf-8'))
            keys = json.loads(sys.argv[2])
            if keys:
                # The part as a reference into the whole file, so that its own references
                # (#/components/...) resolve.
                part = schema
                for key in keys:
                    part = part[key]
                jsonschema.Draft202012Validator.check_schema(part)
                pointer = '/'.join(k.replace('~', '~0').replace('/', '~1') for k in keys)
                schema = dict(schema, **{'$ref': '#/' + pointer})
            else:
                jsonschema.Draft202012Validator.check_schema(schema)
            v = jsonschema.Draft202012Validator(schema)
            bad = 0
            for p in sys.argv[3:]:
                for e in v.iter_errors(json.load(open(p, encoding='utf-8'))):
                    bad += 1
                    print(p.rsplit('/', 1)[-1], list(e.absolute_path), e.message[:200])
            sys.exit(1 if bad else 0)
            """
        let keys = String(decoding: try JSONEncoder().encode(pointer), as: UTF8.self)
        let r = try CLI.run(executable: python!, ["-c", script, schema, keys] + paths)
        return r.status == 0 ? "" : r.stdout + r.stderr
    }

    @Test("the validator is there when CI requires it")
    func present() {
        #expect(
            !jsonSchemaRequired || jsonSchemaAvailable, "YUSU_REQUIRE_JSONSCHEMA=1 but python3 cannot import jsonschema"
        )
        // The API spec's checks read its YAML as well.
        #expect(
            !jsonSchemaRequired || specPython != nil,
            "YUSU_REQUIRE_JSONSCHEMA=1 but no python3 imports both jsonschema and yaml (python3-yaml)")
    }

    @Test(
        "stereo, mono, mono-saved-as-stereo and clipped output all follow schema/score.v1",
        .enabled(if: jsonSchemaAvailable, Comment(rawValue: jsonSchemaMissing)))
    func outputsValidate() throws {
        let dir = TemporaryDirectory()
        let call = HardeningCLITests.call()
        var clipped = call
        for i in 8_000..<8_100 { clipped[0][i] = 3 }
        let files = [
            "demo": fixturesDirectory() + "/demo_call.wav",
            "mono": try writeRecording(dir.file("mono.wav"), channels: [call[0]], rateHz: 16000),
            "same": try writeRecording(dir.file("same.wav"), channels: [call[0], call[0]], rateHz: 8000),
            "clipped": try writeRecording(dir.file("clipped.wav"), channels: clipped, rateHz: 8000, format: .wavFloat),
        ]
        var documents: [String: String] = [:]
        for (name, path) in files {
            let r = try CLI.run(["score", path, "--format", "json"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            documents[name] = r.stdout
        }
        let complaints = try validate(documents)
        #expect(complaints.isEmpty, "\(complaints)")
        // The schema is not vacuous: a document missing a field, or with a wrong type, fails.
        var broken = try JSONSerialization.jsonObject(with: Data(documents["demo"]!.utf8)) as! [String: Any]
        broken.removeValue(forKey: "holds")
        broken["score"] = "high"
        let text = String(decoding: try JSONSerialization.data(withJSONObject: broken), as: UTF8.self)
        let failures = try validate(["broken": text])
        #expect(failures.contains("'holds' is a required property") && failures.contains("score"), "\(failures)")
    }

    @Test(
        "report --format json follows schema/report.v1: a night with scored calls, a failed file and a warning",
        .enabled(if: jsonSchemaAvailable, Comment(rawValue: jsonSchemaMissing)))
    func reportValidates() throws {
        let dir = TemporaryDirectory()
        _ = try makeArchive(in: dir, calls: 3)
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: dir.file("archive/agent_A/20261120/broken.wav")))
        let db = dir.file("r.sqlite")
        #expect(try CLI.run(["batch", dir.file("archive"), "--db", db, "--quiet"]).status == 3)
        let empty = dir.file("empty.sqlite")
        _ = try ResultsDatabase(path: empty)
        var documents: [String: String] = [:]
        for (name, path) in [("night", db), ("empty", empty)] {
            let r = try CLI.run(["report", "--db", path, "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            documents[name] = r.stdout
        }
        let complaints = try validate(documents, schema: Self.reportSchema)
        #expect(complaints.isEmpty, "\(complaints)")
        #expect(documents["night"]!.contains("\"failed_files\" : [") && documents["night"]!.contains("broken.wav"))
        var broken = try JSONSerialization.jsonObject(with: Data(documents["night"]!.utf8)) as! [String: Any]
        broken.removeValue(forKey: "failed_files")
        let failures = try validate(
            ["broken": String(decoding: try JSONSerialization.data(withJSONObject: broken), as: UTF8.self)],
            schema: Self.reportSchema)
        #expect(failures.contains("'failed_files' is a required property"), "\(failures)")
    }
}
