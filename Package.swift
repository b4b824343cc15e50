// swift-tools-version:6.1
//
// Strata: customer segmentation and profiling engine.
//
// Layers (each its own target), bottom to top:
//   CBLAS           C shim over OpenBLAS (cblas) and LAPACKE; headers only, no logic.
//   CStrataKernels  hand-written SIMD kernels in C, multiversioned with target_clones.
//   CStrataGPU      dlopen bindings of OpenCL and the CUDA driver, the portable device kernels
//                   (compiled as OpenCL C, CUDA fatbin and plain C) and their embedded builds.
//   StrataLinalg    the only Swift code that calls BLAS/LAPACK; maps LAPACK `info` to errors.
//   StrataKernels   hot loops over row blocks: distances, nearest centroid, Lloyd accumulation,
//                   the memory-budget chunker and the deterministic parallel-for; the GPU
//                   backends (CUDA, OpenCL) and the device Lloyd pass.
//   StrataCore      algorithms, metrics, preprocessing: in-memory only, no file APIs.
//   CSnappy, CZstd, CZlib, CLZ4  C shims over the Parquet codecs' Debian libraries; no logic.
//   StrataParquet   Parquet files: Thrift compact metadata, page decoding/encoding, reader and writer
//                   (no dependency on the rest of Strata).
//   CLibPQ          C shim over libpq (PostgreSQL's client library); no logic.
//   StrataPostgres  PostgreSQL connections: COPY in and out, URLs, quoted names (no dependency on
//                   the rest of Strata).
//   StrataIO        readers and writers (CSV, .npy, labels), model files, atomic outputs.
//   StrataCustomers order logs: RFM, CLV (BG/NBD, Gamma-Gamma), ABC.
//   StrataSegment   the `strata segment` job: stages, profiles, names, rules, report, migration.
//   Strata          the library product: re-exports the four modules above.
//   StrataCLI       the `strata` executable: argument parsing and printing only.
import PackageDescription

let package = Package(
    name: "strata",
    products: [
        .library(name: "Strata", targets: ["Strata", "StrataCore", "StrataIO", "StrataParquet", "StrataPostgres", "StrataCustomers", "StrataSegment", "StrataKernels", "StrataLinalg"]),
        .executable(name: "strata", targets: ["StrataCLI"]),
    ],
    // MPI (off by default; `swift build --traits MPI`): `strata kmeans --distributed` under mpirun.
    traits: [
        .trait(name: "MPI", description: "Distributed runs on Open MPI (needs libopenmpi-dev)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 input checksums and salted-hash (HMAC) pseudonymization of customer ids.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        // YAML (and JSON) job files for `strata segment --config` (parsed once into a node).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "CSupport/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]
        ),
        // Gated by the MPI trait: a plain `swift build` never evaluates it.
        .systemLibrary(
            name: "CMPI",
            path: "CSupport/CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        // Parquet page codecs (Debian libraries; headers only, no logic).
        .systemLibrary(name: "CSnappy", path: "CSupport/CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZstd", path: "CSupport/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", path: "CSupport/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLZ4", path: "CSupport/CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .target(
            name: "StrataParquet",
            dependencies: ["CSnappy", "CZstd", "CZlib", "CLZ4"]
        ),
        .systemLibrary(name: "CLibPQ", path: "CSupport/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(
            name: "StrataPostgres",
            dependencies: ["CLibPQ"]
        ),
        .target(
            name: "CStrataKernels",
            path: "CSupport/CStrataKernels",
            cSettings: [.define("NDEBUG")]
        ),
        // GPU backends' C side: dlopen bindings of OpenCL and the CUDA driver (no link-time
        // dependency), the embedded kernels (generated.c) and their plain-C reference build.
        .target(
            name: "CStrataGPU",
            path: "CSupport/CStrataGPU",
            cSettings: [.define("NDEBUG")],
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(
            name: "StrataLinalg",
            dependencies: ["CBLAS"],
            linkerSettings: [.linkedLibrary("lapacke")]
        ),
        .target(
            name: "StrataKernels",
            dependencies: ["StrataLinalg", "CStrataKernels", "CStrataGPU"]
        ),
        .target(
            name: "StrataCore",
            dependencies: ["StrataKernels", "StrataLinalg"]
        ),
        .target(
            name: "StrataIO",
            dependencies: ["StrataCore", "StrataKernels", "StrataLinalg", "StrataParquet", "StrataPostgres"]
        ),
        .target(
            name: "StrataCustomers",
            dependencies: ["StrataCore", "StrataIO", "StrataParquet", "StrataPostgres", "StrataKernels", "StrataLinalg"]
        ),
        .target(
            name: "StrataSegment",
            dependencies: ["StrataCore", "StrataIO", "StrataCustomers", "StrataKernels", "StrataLinalg", "StrataPostgres", "StrataParquet",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Strata",
            dependencies: ["StrataCore", "StrataIO", "StrataPostgres", "StrataCustomers", "StrataSegment", "StrataKernels", "StrataLinalg"]
        ),
        .executableTarget(
            name: "StrataCLI",
            dependencies: [
                "Strata",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .target(name: "CMPI", condition: .when(traits: ["MPI"])),
            ]
        ),
        .testTarget(
            name: "StrataTests",
            dependencies: ["Strata", "StrataCore", "StrataIO", "StrataParquet", "StrataPostgres", "StrataCustomers", "StrataSegment", "StrataKernels", "StrataLinalg"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "StrataCLITests",
            dependencies: ["StrataCLI", "Strata", "StrataSegment"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
