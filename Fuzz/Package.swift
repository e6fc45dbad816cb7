// swift-tools-version:6.1
// A libFuzzer target over decoding and analysis, a package of its own so that the main
// package never needs -sanitize=fuzzer. Build and run (from this folder):
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   ./run.sh 60          # one minute, seeded from seeds/, crashers kept in crashers/
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder (main, yusu, a CI clone).
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "YusuFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "YusuFuzz",
            dependencies: [
                .product(name: "YusuSignal", package: root),
                .product(name: "YusuDelivery", package: root),
            ],
            path: "Sources/YusuFuzz"
        ),
    ]
)
