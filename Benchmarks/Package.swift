// swift-tools-version:6.1
//
// Strata's benchmarks, in their own package so that ordo-one/benchmark does not slow the main
// package's `swift test`. Run: cd Benchmarks && swift package benchmark
import PackageDescription

let package = Package(
    name: "StrataBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "strata", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "KMeansBenchmarks",
            dependencies: [
                .product(name: "Strata", package: "strata"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/KMeansBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
