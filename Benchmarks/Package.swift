// swift-tools-version:6.1
// Yusu's benchmarks, a package of their own so that users of the library never pull in
// benchmark dependencies. Run from this folder:  swift package benchmark
// Allocation gate (CI):                          swift package benchmark thresholds check --target YusuBenchmarks
import PackageDescription

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
                .product(name: "YusuSignal", package: "main"),
                .product(name: "YusuDelivery", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/YusuBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
