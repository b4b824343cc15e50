import ArgumentParser
import Foundation
import Strata

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Assign new rows to the segments of a saved model (K-Means, Gaussian mixture, K-Prototypes, K-Modes, hierarchical, DBSCAN or HDBSCAN).",
        discussion: """
            The input must hold the model's feature columns (by name for CSV). Labels file: \
            id,segment,distance for K-Means, id,segment,probability for a Gaussian mixture, \
            id,segment,cost for K-Prototypes/K-Modes; a model written by strata segment adds segment_name. \
            --proba-out (Gaussian mixtures): id,p0,...,p{k-1}.
            """
    )

    @Option(name: .long, help: "A model.json written by a command's --model-out (kmeans, gmm, kprototypes, kmodes, hierarchical, dbscan, hdbscan) or by `strata segment`.")
    var model: String

    @Option(name: .long, help: "Input table (CSV with header, or .npy with the model's column count).")
    var input: String

    @OptionGroup var id: IDColumnOption

    @Option(name: .customLong("labels-out"), help: "Write the labels file here ('-' for stdout).")
    var labelsOut: String?

    @Option(name: .customLong("proba-out"), help: "Gaussian mixtures: write id,p0,...,p{k-1} per row here.")
    var probaOut: String?

    @OptionGroup var memory: MemoryBudgetOption

    @OptionGroup var device: DeviceOptions

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        try Report.checkStdout([labelsOut, probaOut], json: runOptions.json)
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let file = try AnyModelFile.load(path: model)
            // The model's id column is the default when the input has it.
            var idColumn = id.idColumn
            if idColumn == nil, !input.lowercased().hasSuffix(".npy"), let mid = file.idColumn, try CSVHeader.read(path: input).contains(mid) {
                idColumn = mid
            }
            if case let .kprototypes(m) = file { try refuseDevice("K-Prototypes"); try predictPrototypes(m, idColumn: idColumn); return }   // KPrototypesCommand.swift
            // Replays the model's preprocessing and PCA, if any, exactly as fitted.
            let data = try file.stages.apply(path: input, idColumn: idColumn, modelColumns: file.columns, threads: runOptions.threads,
                                             memoryBudget: memory.bytes)
            data.warnings.forEach(Report.warn)
            var batch = OutputBatch()
            var (scores, labels, labelsData) = try predict(file, data, staging: &batch)
            // A model from `strata segment` names its segments: the labels say them too.
            if let names = file.segmentNames, let d = labelsData { labelsData = CSVOutput.withSegmentNames(d, labels: labels.values, names: names) }
            if let path = labelsOut, path != "-", let d = labelsData { try batch.stageTable(csv: d, to: path) }
            try batch.commit()
            if labelsOut == "-", let d = labelsData { Report.writeStdout(d); OutputBatch.divertLaterPrintsToStderr(); return }
            let result = Result(scores: scores, data: data, columns: file.columns, labels: labels,
                                outputs: .init(labels: labelsOut, proba: probaOut))
            if runOptions.json { Report.json(result) } else { printSummary(result) }
        }
    }

    /// --device cuda/opencl with a model whose prediction has no device kernel: a usage error.
    func refuseDevice(_ kind: String) throws {
        if device.device == .cuda || device.device == .opencl {
            throw StrataError.invalidArgument("--device \(device.device.rawValue) predicts with K-Means models only; \(model) is \(kind) (use --device cpu)")
        }
    }

    /// Labels every row with the model; stages the K-Means labels file and the probabilities,
    /// and returns the labels file for the caller to write (or print) when it is not staged.
    func predict(_ file: AnyModelFile, _ data: Dataset, staging batch: inout OutputBatch) throws
        -> (scores: Result.Scores, labels: (values: [Int32], k: Int), labelsData: Data?) {
        switch file {
        case let .kmeans(m):
            if probaOut != nil { throw StrataError.invalidArgument("--proba-out needs a Gaussian-mixture model; \(model) is K-Means") }
            let r = try m.predict(data, threads: runOptions.threads, gpu: try device.open())
            if let g = r.device, !runOptions.json { Report.stderr(DeviceSummary(g).line) }
            var labelsData: Data? = nil
            if let path = labelsOut, path != "-", m.segmentNames == nil {
                try CSVOutput.stageLabels(&batch, to: path, ids: data.id, labels: r.labels, distances: r.distances)
            } else {
                labelsData = labelsOut.map { _ in CSVOutput.labels(ids: data.id, labels: r.labels, distances: r.distances) }
            }
            return (.init(inertia: r.inertia), (r.labels, m.k), labelsData)
        case let .gmm(m):
            try refuseDevice("Gaussian-mixture")
            let r = try m.mixture.predict(data, threads: runOptions.threads)
            let labelsData = labelsOut.map { _ in CSVOutput.mixtureLabels(ids: data.id, labels: r.labels, probabilities: r.probabilities, k: m.k) }
            if let path = probaOut {
                try batch.stage(CSVOutput.probabilities(ids: data.id, probabilities: r.probabilities, rows: data.rows, k: m.k), to: path)
            }
            return (.init(meanLogLikelihood: r.meanLogLikelihood), (r.labels, m.k), labelsData)
        case let .cluster(m):
            try refuseDevice(m.model)
            if probaOut != nil { throw StrataError.invalidArgument("--proba-out needs a Gaussian-mixture model; \(model) is \(m.model)") }
            let r = m.predict(data, threads: runOptions.threads)
            let noiseID = Int32(m.noiseSegment ?? -1)
            let noise = r.labels.lazy.filter { $0 < 0 || $0 == noiseID }.count
            if noise > 0 { Report.warn("\(noise) of \(data.rows) rows are not near any \(m.model) cluster: labelled \(noiseID) (noise)") }
            var labelsData: Data? = nil
            if let path = labelsOut, path != "-", m.segmentNames == nil {
                try CSVOutput.stageScoredLabels(&batch, to: path, ids: data.id, labels: r.labels, scoreColumn: m.scoreColumn, scores: r.scores)
            } else {
                labelsData = labelsOut.map { _ in CSVOutput.scoredLabels(ids: data.id, labels: r.labels, scoreColumn: m.scoreColumn, scores: r.scores) }
            }
            return (.init(noise: noise), (r.labels, m.segmentCount), labelsData)
        case .kprototypes:
            throw StrataError.invalidArgument("internal error: K-Prototypes models are predicted by predictPrototypes")
        }
    }

    func printSummary(_ r: Result) {
        print("predicted \(r.rows) rows of \(input) with \(model) (k=\(r.k))")
        for c in 0..<r.k { print("segment \(c): \(r.clusterSizes[c])") }
        if let l = labelsOut { print("labels: \(l)") } else { print("(write the labels with --labels-out FILE)") }
        if let p = probaOut { print("probabilities: \(p)") }
    }

    /// `strata predict --json`.
    struct Result: Encodable {
        /// The model's own fit measure on the new rows: inertia (K-Means) or mean log-likelihood
        /// per row (Gaussian mixture); the other is nil, its key left out.
        struct Scores {
            var inertia: Double? = nil
            var meanLogLikelihood: Double? = nil
            /// Rows labelled -1 (DBSCAN/HDBSCAN noise).
            var noise: Int? = nil
        }
        struct Outputs: Encodable { var labels, proba: String? }
        var inertia: FiniteOrNull?
        var meanLogLikelihood: FiniteOrNull?
        var nNoise: Int?
        var rows: Int
        var k: Int
        var columns: [String]
        var clusterSizes: [Int]
        var outputs: Outputs

        init(scores: Scores, data: Dataset, columns: [String], labels: (values: [Int32], k: Int), outputs: Outputs) {
            inertia = scores.inertia.map { FiniteOrNull($0) }
            meanLogLikelihood = scores.meanLogLikelihood.map { FiniteOrNull($0) }
            nNoise = scores.noise
            rows = data.rows
            k = labels.k
            self.columns = columns
            clusterSizes = ClusterLabels.counts(labels.values.lazy.filter { $0 >= 0 }, k: labels.k)
            self.outputs = outputs
        }
    }
}
