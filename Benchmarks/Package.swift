// swift-tools-version:6.1
// Yusu's benchmarks, a package of their own so that users of the library never pull in
// benchmark dependencies. Run from this folder:  swift package benchmark
// Allocation gate (CI):                          swift package benchmark thresholds check --target YusuBenchmarks
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder: whatever the checkout is called
// (main, yusu, a CI clone), refer to the root package by that name.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "YusuBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "YusuBenchmarks",
            dependencies: [
                .product(name: "YusuSignal", package: root),
                .product(name: "YusuDelivery", package: root),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/YusuBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
