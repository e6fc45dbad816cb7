// swift-tools-version:6.1
import Foundation
import PackageDescription

/// The processor the two analysis modules are compiled for, in release builds: the environment's
/// `YUSU_TARGET_CPU` when set (an LLVM CPU name; `x86-64` or empty for a binary that runs on any
/// x86-64), otherwise `haswell` (AVX2, FMA, BMI2) when the building machine has those, so that
/// the frame loop's eight-lane arithmetic runs eight lanes wide: a whole score of call_05
/// 147-149 -> 136-138 ms, the frame loop 2.31-2.46 -> 2.10-2.26x FFTW alone (A/B on one core),
/// every output byte-identical (Swift does not contract a multiply and an add: the one fused
/// multiply-add, in the P.56 envelope, is written out and rounds the same without an FMA unit).
/// `yusu` itself is compiled for any x86-64 and, in such a build, refuses with a message on a
/// processor without them.
let analysisCPU: String? = {
    if let chosen = Context.environment["YUSU_TARGET_CPU"] {
        return chosen.isEmpty || chosen == "x86-64" ? nil : chosen
    }
    #if arch(x86_64) && os(Linux)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let has = Set(flags.split(separator: " ").map(String.init))
        return ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe"].allSatisfy(has.contains) ? "haswell" : nil
    #else
        return nil
    #endif
}()

/// Release settings of the two analysis modules (see their targets): no run-time exclusivity
/// checks, and cross-module optimisation, so that the delivery stages' per-frame calls into
/// the signal module (frame access, rings, trackers) are inlined and specialised rather than
/// called through generic entry points: a whole score 2-5% faster (call_05: 148-152 -> 145 ms,
/// A/B on one core), every output byte-identical. And the processor above.
let analysisSettings: [SwiftSetting] = [
    .unsafeFlags(
        ["-enforce-exclusivity=unchecked", "-cross-module-optimization"]
            + (analysisCPU.map { ["-target-cpu", $0] } ?? []),
        .when(configuration: .release))
]

let package = Package(
    name: "Yusu",
    products: [
        .executable(name: "yusu", targets: ["yusu"]),
        .library(name: "YusuSignal", targets: ["YusuSignal"]),
        .library(name: "YusuDelivery", targets: ["YusuDelivery"]),
        .library(name: "YusuReport", targets: ["YusuReport"]),
        .library(name: "YusuBatch", targets: ["YusuBatch"]),
        .library(name: "YusuNightReport", targets: ["YusuNightReport"]),
        .library(name: "YusuServe", targets: ["YusuServe"]),
    ],
    // Exact versions of the direct dependencies, so that builds resolve the same code. (Package.resolved stays
    // out of git: the mirrored packages this project builds against carry commit ids that
    // are not GitHub's, and a resolved file pinning them would fail anywhere else.)
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", exact: "2.5.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", exact: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
    ],
    targets: [
        // MARK: System libraries (Debian: libsndfile1-dev, libfftw3-dev)
        .systemLibrary(
            name: "CSndFile",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]
        ),
        // What the processor can run (CPUID), asked by `yusu` before any analysis code runs.
        .target(name: "CHostCPU"),
        // libmpg123's notes (MP3 through libsndfile) kept off stderr and folded into reasons.
        .target(name: "CDecoderNotes", linkerSettings: [.linkedLibrary("mpg123"), .linkedLibrary("dl")]),
        .systemLibrary(
            name: "CFFTW",
            pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]
        ),

        // MARK: Library modules
        // Audio in, frames, FFT, VAD, pitch, syllable nuclei: no call-centre knowledge.
        // The streaming stages are small classes and structs mutated at every frame; Swift's
        // run-time exclusivity checks on their stored properties cost 10% of a whole score
        // (call_05: 1070 -> 1186x real time) and 20% with two analyses in parallel. Release
        // builds of the two analysis modules leave them out; debug builds (the tests) keep
        // them, so an overlapping access is still caught there.
        // The learned syllable stage's weights are compiled in (SyllableNetWeights.swift,
        // base64), so the binary needs no resource bundle beside it; SyllableNet.md is their card.
        .target(
            name: "YusuSignal", dependencies: ["CSndFile", "CFFTW", "CDecoderNotes"], exclude: ["SyllableNet.md"],
            swiftSettings: analysisSettings),
        // Utterances, turns, rates, endings, interruptions, holds, levels, the standard, verdicts.
        .target(name: "YusuDelivery", dependencies: ["YusuSignal"], swiftSettings: analysisSettings),
        // Archive walking, the results database, parallel runs, nightly summaries.
        .target(
            name: "YusuBatch",
            dependencies: [
                "YusuDelivery", "YusuSignal",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The nightly batch on PostgreSQL: the shared work queue (SKIP LOCKED leases) and results.
        .target(
            name: "YusuPostgres",
            dependencies: [
                "YusuBatch", "YusuDelivery", "YusuSignal",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        // Text, JSON, HTML and CSV renderings of one scored call (no database in sight). The pages'
        // Mustache templates are compiled in (PackageResources), so the binary needs no files beside it.
        .target(
            name: "YusuReport",
            dependencies: ["YusuDelivery", "YusuSignal", .product(name: "Mustache", package: "swift-mustache")],
            resources: [.embedInCode("Templates")]),
        // Text, CSV, JSON and HTML renderings of a night (a results database's summary).
        .target(
            name: "YusuNightReport",
            dependencies: ["YusuBatch", "YusuDelivery", "YusuReport", .product(name: "CSV", package: "CSV.swift")],
            resources: [.embedInCode("Templates")]),

        // The QA team's service: API, dashboard, live calls (Hummingbird 2).
        .target(
            name: "YusuServe",
            dependencies: [
                "YusuBatch", "YusuPostgres", "YusuNightReport", "YusuReport", "YusuDelivery", "YusuSignal",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ], resources: [.embedInCode("Templates")]),

        // MARK: Tool
        .executableTarget(
            name: "yusu",
            dependencies: [
                "YusuSignal", "YusuDelivery", "YusuReport", "YusuNightReport", "YusuBatch", "YusuPostgres", "YusuServe",
                "CFFTW", "CHostCPU",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: analysisCPU == "haswell"
                ? [.define("YUSU_ANALYSIS_HASWELL", .when(configuration: .release))] : []
        ),

        // MARK: Tests
        // Synthetic signals with known answers and temporary files, shared by the suites.
        .target(name: "YusuTestSupport", dependencies: ["YusuSignal"], path: "Tests/YusuTestSupport"),
        .testTarget(name: "YusuSignalTests", dependencies: ["YusuSignal", "YusuTestSupport"]),
        .testTarget(name: "YusuDeliveryTests", dependencies: ["YusuDelivery", "YusuSignal", "YusuTestSupport"]),
        .testTarget(
            name: "YusuReportTests",
            dependencies: [
                "YusuReport", "YusuNightReport", "YusuBatch", "YusuDelivery", "YusuSignal", "YusuTestSupport",
            ]),
        .testTarget(
            name: "YusuBatchTests",
            dependencies: [
                "YusuBatch", "YusuDelivery", "YusuSignal", "YusuTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "YusuCLITests",
            dependencies: [
                "yusu", "CHostCPU", "YusuSignal", "YusuBatch", "YusuDelivery", "YusuPostgres", "YusuServe",
                "YusuTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]),
    ]
)
