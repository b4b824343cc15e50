import ArgumentParser
import Foundation
import Strata
import StrataKernels
import StrataLinalg

/// `strata partial-stats`: serves `PartialStatsProtocol` on stdin/stdout (for Spark and other engines).
struct PartialStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partial-stats",
        abstract: "K-Means sufficient statistics of float32 row blocks on stdin (binary protocol for Spark and other engines).",
        discussion: """
            stdin: 'STRP', u32 k, u32 d, k*d float32 centers, then float32 rows (d each) to the end. \
            stdout: 'STRS', u32 k, u32 d, u64 rows, k*d float64 sums, k float64 counts, float64 inertia \
            (little-endian). Rows are read in blocks of --block-rows and reduced in order, so the \
            output depends only on the input bytes.
            """
    )

    @Option(name: .customLong("block-rows"), help: "Rows per block read from stdin.") var blockRows: Int = 65_536
    @Option(name: .long, help: "Worker threads.") var threads: Int = 1

    func run() throws {
        try Report.run(json: false) {
            try PartialStatsProtocol.serve(input: .standardInput, output: .standardOutput, blockRows: blockRows, threads: threads)
        }
    }
}
