import ArgumentParser
import Foundation
import Strata

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Segment a built-in synthetic customer table with K-Means and show the segments.",
        discussion: """
            Generates customers.csv, segments it exactly as `strata kmeans --log orders_per_year,\
            avg_order_value --scale standard` would, and writes model.json (with its preprocessing) \
            and labels.csv into --out. Segment profiles are shown in the original units.
            """
    )

    @Option(name: .long, help: "Output directory (created if missing).")
    var out: String = "strata-out"

    @Option(name: .long, help: "Customers to generate.")
    var rows: Int = 50_000

    @Option(name: .long, help: "Segments.")
    var k: Int = 5

    @Option(name: .long, help: "Random seed (data and K-Means).")
    var seed: UInt64 = 42

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if rows < 1 { throw ValidationError("--rows must be at least 1") }
        if k < 1 || k > rows { throw ValidationError("--k must be between 1 and --rows") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw StrataError.unwritable(path: out, reason: "cannot create the directory")
            }
            let raw = DemoData.generate(rows: rows, seed: seed)
            let paths = Result.Outputs(customers: out + "/customers.csv", model: out + "/model.json", labels: out + "/labels.csv")
            var batch = OutputBatch()
            try batch.stage(DemoData.csv(raw), to: paths.customers)
            try batch.commit()
            let (data, stages) = try FeatureStages.fit(path: paths.customers, read: TableReadOptions(), preprocess: Self.preprocessing,
                                                       pcaComponents: nil, seed: seed, threads: runOptions.threads)
            let options = kmeansOptions
            let t0 = Date()
            let fit = try KMeans.fit(data, options: options)
            let fitSeconds = Date().timeIntervalSince(t0)
            var model = KMeansModelFile(result: fit, data: data, options: options)
            model.preprocessing = stages.preprocessing
            try batch.stage(try model.encoded(), to: paths.model)
            try batch.stage(CSVOutput.labels(ids: data.id, labels: fit.labels, distances: fit.distances), to: paths.labels)
            try batch.commit()
            let result = Result(raw: raw, k: k, fit: fit, outputs: paths)
            if runOptions.json { Report.json(result) } else { printSummary(result, fitSeconds: fitSeconds) }
        }
    }

    /// The same path as `strata kmeans --input customers.csv --log ... --scale standard`:
    /// heavy-tailed columns through log1p, every column standardized, so no unit dominates.
    static var preprocessing: PreprocessOptions {
        var pre = PreprocessOptions()
        pre.log = ["orders_per_year", "avg_order_value"]
        pre.scale = .standard
        return pre
    }

    var kmeansOptions: KMeansOptions {
        var options = KMeansOptions(k: k)
        options.seed = seed
        options.nInit = 4
        options.threads = runOptions.threads
        return options
    }

    func printSummary(_ r: Result, fitSeconds: Double) {
        print("Strata demo: \(r.rows) synthetic customers, K-Means with k=\(k) (seed \(seed), \(runOptions.threads) threads)")
        print("preprocessing: log1p(orders_per_year, avg_order_value), standard scaling of every column")
        print(String(format: "fit: %.3fs, %d iterations, %@", fitSeconds, r.nIter, r.converged ? "converged" : "not converged"))
        print("")
        print((["segment", "customers", "share"] + r.columns.map { "mean " + $0 }).joined(separator: "\t"))
        for c in 0..<k {
            let share = String(format: "%.1f%%", 100 * Double(r.clusterSizes[c]) / Double(r.rows))
            print(([String(c), String(r.clusterSizes[c]), share] + r.profiles[c].map { fmt($0, 3) }).joined(separator: "\t"))
        }
        print("")
        print("outputs in \(out)/: customers.csv (the generated table), model.json (with its preprocessing), labels.csv")
        print("try: strata predict --model \(r.outputs.model) --input \(r.outputs.customers) --labels-out \(out)/predicted.csv")
    }

    /// `strata demo --json`.
    struct Result: Encodable {
        struct Outputs: Encodable { var customers, model, labels: String }
        var rows: Int
        var k: Int
        var columns: [String]
        var clusterSizes: [Int]
        /// Mean of each raw feature per segment, in original units.
        var profiles: [[Double]]
        var inertia: Double
        var nIter: Int
        var converged: Bool
        var outputs: Outputs

        /// Profiles are the mean of each raw feature per segment (original units).
        init(raw: Dataset, k: Int, fit: KMeansResult, outputs: Outputs) {
            let d = raw.cols
            var sums = [Double](repeating: 0, count: k * d)
            for i in 0..<raw.rows {
                let c = Int(fit.labels[i])
                for j in 0..<d { sums[c * d + j] += Double(raw.values[i * d + j]) }
            }
            rows = raw.rows
            self.k = k
            columns = raw.columns
            clusterSizes = fit.sizes
            profiles = (0..<k).map { c in (0..<d).map { sums[c * d + $0] / Double(max(1, fit.sizes[c])) } }
            inertia = fit.inertia
            nIter = fit.nIter
            converged = fit.converged
            self.outputs = outputs
        }
    }
}
