// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Yusu",
    products: [
        .executable(name: "yusu", targets: ["yusu"]),
        .library(name: "YusuSignal", targets: ["YusuSignal"]),
        .library(name: "YusuDelivery", targets: ["YusuDelivery"]),
        .library(name: "YusuReport", targets: ["YusuReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: System libraries (Debian: libsndfile1-dev, libfftw3-dev)
        .systemLibrary(
            name: "CSndFile",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]
        ),
        .systemLibrary(
            name: "CFFTW",
            pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]
        ),

        // MARK: Library modules
        // Audio in, frames, FFT, VAD, pitch, syllable nuclei: no call-centre knowledge.
        .target(name: "YusuSignal", dependencies: ["CSndFile", "CFFTW"]),
        // Utterances, turns, rates, endings, interruptions, holds, levels, the standard, verdicts.
        .target(name: "YusuDelivery", dependencies: ["YusuSignal"]),
        // Text, JSON and CSV renderings of a scored call.
        .target(name: "YusuReport", dependencies: ["YusuDelivery", "YusuSignal"]),

        // MARK: Tool
        .executableTarget(
            name: "yusu",
            dependencies: [
                "YusuSignal", "YusuDelivery", "YusuReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        // Synthetic signals with known answers and temporary files, shared by the suites.
        .target(name: "YusuTestSupport", dependencies: ["YusuSignal"], path: "Tests/YusuTestSupport"),
        .testTarget(name: "YusuSignalTests", dependencies: ["YusuSignal", "YusuTestSupport"]),
        .testTarget(name: "YusuDeliveryTests", dependencies: ["YusuDelivery", "YusuSignal", "YusuTestSupport"]),
        .testTarget(name: "YusuReportTests", dependencies: ["YusuReport", "YusuDelivery", "YusuSignal", "YusuTestSupport"]),
        .testTarget(name: "YusuCLITests", dependencies: ["yusu", "YusuSignal", "YusuTestSupport"]),
    ]
)
