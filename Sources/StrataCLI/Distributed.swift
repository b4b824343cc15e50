import Foundation
import Strata
import StrataKernels

import ArgumentParser

/// `--distributed` for `kmeans`, `gmm`, `pca` and `score`: owns rank setup, the input check and
/// sharding, the barrier and shutdown.
struct DistributedOptions: ParsableArguments {
    @Flag(name: .long, help: "Run as one rank of an MPI job (mpirun -np R strata COMMAND --distributed ...; needs a build with --traits MPI and a float32 .npy input without preprocessing, PCA or weights). Each rank computes its share of the fixed row chunks; results are bit-identical for any rank count and to a plain run. Rank 0 writes the outputs.")
    var distributed = false

    /// The group: MPI ranks with `--distributed`, else this process; exits on failure.
    func begin(json: Bool) -> any ChunkGroup { Distributed.begin(distributed, json: json) }

    /// A command body on the group: applies --threads, starts the group, maps errors to exit
    /// codes (`Report.run`) and shuts the group down.
    func run(_ options: RunOptions, _ body: (any ChunkGroup) throws -> Void) throws {
        options.applyThreads()
        let group = begin(json: options.json)
        defer { Distributed.finish(group) }
        try Report.run(json: options.json) { try body(group) }
    }

    /// With `--distributed`: checks the input (`plain`: no preprocessing or PCA was asked for)
    /// and reads only this rank's shard.
    func shard(_ read: inout TableReadOptions, input: InputOptions, plain: Bool, group: any ChunkGroup) throws {
        guard distributed else { return }
        try Distributed.checkInput(input, plain: plain)
        if group.isDistributed { read.shard = (group.rank, group.size) }
    }
}

/// The MPI ranks as a `ChunkGroup` (built with `swift build --traits MPI`).
enum Distributed {
    /// Starts MPI and checks that the launcher's world is the one this binary sees.
    static func start() throws -> any ChunkGroup {
        #if MPI
        return try MPIGroup.start()
        #else
        throw StrataError.invalidArgument("this strata was built without MPI; build it with `swift build -c release --traits MPI` (needs libopenmpi-dev) and launch with mpirun")
        #endif
    }

    /// The group for a command: MPI when `--distributed`, else this process; exits on failure.
    static func begin(_ distributed: Bool, json: Bool) -> any ChunkGroup {
        guard distributed else { return SingleProcess() }
        do { return try start() } catch let e as StrataError { Report.fail(e.description, code: e.exitCode, json: json) } catch {
            Report.fail("\(error)", code: 70, json: json)
        }
    }

    /// Distributed runs read a float32 .npy, without preprocessing, PCA or weights.
    static func checkInput(_ input: InputOptions, plain: Bool) throws {
        guard input.input.lowercased().hasSuffix(".npy"), plain, input.weightsColumn == nil else {
            throw StrataError.invalidArgument("--distributed reads a float32 .npy (convert CSV with `strata convert`) without preprocessing, PCA or weights")
        }
    }

    static func finish(_ group: any ChunkGroup) {
        #if MPI
        (group as? MPIGroup)?.finalize()
        #endif
    }

    static func barrier(_ group: any ChunkGroup) {
        #if MPI
        (group as? MPIGroup)?.barrier()
        #endif
    }
}

#if MPI
import CMPI

/// Open MPI's world communicator. Collectives are called from the main thread only (the
/// parallel loops run between them), so MPI_THREAD_FUNNELED suffices.
final class MPIGroup: ChunkGroup, @unchecked Sendable {
    let rank: Int
    let size: Int
    private var finalized = false

    private init(rank: Int, size: Int) { self.rank = rank; self.size = size }

    static func start() throws -> MPIGroup {
        guard strata_mpi_init() == 0 else { throw StrataError.numerical("MPI_Init failed") }
        let g = MPIGroup(rank: Int(strata_mpi_rank()), size: Int(strata_mpi_size()))
        // A binary built against one MPI but launched by another MPI's mpirun runs as
        // independent single ranks: compare with what the launcher says and stop loudly.
        let env = ProcessInfo.processInfo.environment
        let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS"].compactMap { env[$0].flatMap(Int.init) }.first
        if let launched, launched != g.size {
            FileHandle.standardError.write(Data("strata: error: the launcher started \(launched) ranks but MPI reports a world of \(g.size): this strata was built against a different MPI than the mpirun used; rebuild against the launcher's MPI\n".utf8))
            strata_mpi_abort(70)
        }
        return g
    }

    func allGather(_ values: inout [Double], chunks: Int, width: Int) {
        var counts = [Int32](), displs = [Int32]()
        for r in 0..<size {
            let c = self.chunks(of: r, count: chunks)
            counts.append(Int32(c.count * width))
            displs.append(Int32(c.lowerBound * width))
        }
        precondition(values.count <= Int(Int32.max), "exchange too large for one MPI call")
        values.withUnsafeMutableBufferPointer { v in
            _ = strata_mpi_allgatherv_double(v.baseAddress, counts, displs)
        }
    }

    func broadcast(_ value: Int, chunk: Int, chunks: Int) -> Int {
        var v = value
        _ = strata_mpi_bcast_long(&v, Int32(owner(ofChunk: chunk, count: chunks)))
        return v
    }

    func barrier() { _ = strata_mpi_barrier() }

    func finalize() {
        if !finalized { finalized = true; _ = strata_mpi_finalize() }
    }
}
#endif
