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
            let customersPath = out + "/customers.csv"
            var batch = OutputBatch()
            try batch.stage(DemoData.csv(raw), to: customersPath)
            try batch.commit()

            // The same path as `strata kmeans --input customers.csv --log ... --scale standard`:
            // heavy-tailed columns through log1p, every column standardized, so no unit dominates.
            var pre = PreprocessOptions()
            pre.log = ["orders_per_year", "avg_order_value"]
            pre.scale = .standard
            let (data, stages) = try FeatureStages.fit(path: customersPath, read: TableReadOptions(), preprocess: pre,
                                                       pcaComponents: nil, seed: seed, threads: runOptions.threads)
            var options = KMeansOptions(k: k)
            options.seed = seed
            options.nInit = 4
            options.threads = runOptions.threads
            let t0 = Date()
            let result = try KMeans.fit(data, options: options)
            let fitSeconds = Date().timeIntervalSince(t0)
            let modelPath = out + "/model.json", labelsPath = out + "/labels.csv"
            var model = KMeansModelFile(result: result, data: data, options: options)
            model.preprocessing = stages.preprocessing
            try batch.stage(try model.encoded(), to: modelPath)
            try batch.stage(CSVOutput.labels(ids: data.id, labels: result.labels, distances: result.distances), to: labelsPath)
            try batch.commit()

            // Profiles in original units: mean of each raw feature per segment.
            let d = raw.cols
            var sums = [Double](repeating: 0, count: k * d)
            for i in 0..<raw.rows {
                let c = Int(result.labels[i])
                for j in 0..<d { sums[c * d + j] += Double(raw.values[i * d + j]) }
            }
            let profiles: [[Double]] = (0..<k).map { c in (0..<d).map { sums[c * d + $0] / Double(max(1, result.sizes[c])) } }
            if runOptions.json {
                Report.json(["rows": raw.rows, "k": k, "columns": raw.columns, "cluster_sizes": result.sizes,
                             "profiles": profiles, "inertia": result.inertia, "n_iter": result.nIter, "converged": result.converged,
                             "outputs": ["customers": customersPath, "model": modelPath, "labels": labelsPath]])
                return
            }
            print("Strata demo: \(raw.rows) synthetic customers, K-Means with k=\(k) (seed \(seed), \(runOptions.threads) threads)")
            print("preprocessing: log1p(orders_per_year, avg_order_value), standard scaling of every column")
            print(String(format: "fit: %.3fs, %d iterations, %@", fitSeconds, result.nIter, result.converged ? "converged" : "not converged"))
            print("")
            print((["segment", "customers", "share"] + raw.columns.map { "mean " + $0 }).joined(separator: "\t"))
            for c in 0..<k {
                let share = String(format: "%.1f%%", 100 * Double(result.sizes[c]) / Double(raw.rows))
                print(([String(c), String(result.sizes[c]), share] + profiles[c].map { fmt($0, 3) }).joined(separator: "\t"))
            }
            print("")
            print("outputs in \(out)/: customers.csv (the generated table), model.json (with its preprocessing), labels.csv")
            print("try: strata predict --model \(modelPath) --input \(customersPath) --labels-out \(out)/predicted.csv")
        }
    }
}
