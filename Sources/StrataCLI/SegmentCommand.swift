import ArgumentParser
import Foundation
import Strata
import StrataKernels
import StrataLinalg
import Yams

struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "The main job: from raw customer data to named, profiled segments and a report.",
        discussion: """
            Reads a customer table and/or an order log, derives RFM and CLV features, preprocesses, \
            chooses k (unless --k), fits K-Means or a Gaussian mixture, profiles and names the segments, \
            and writes into --out: assignments.csv, model.json (for `strata predict`), profiles.json, \
            report.html and run.json (plus migration.json with --previous). Options come from --config \
            (YAML or JSON; keys as in the README) and flags, flags winning. Every output is staged and \
            renamed into place together, so a failed run leaves the previous outputs untouched.
            """
    )

    @Option(name: .long, help: "Job file (YAML or JSON).") var config: String?
    @Flag(name: .long, help: "Run on built-in demo data (customers + orders), written to OUT/demo-data/.") var demo = false
    @Option(name: .customLong("demo-customers"), help: "Customers in the demo data.") var demoCustomers: Int = 20_000

    // Inputs.
    @Option(name: .long, help: "Customer feature table (CSV or .npy).") var customers: String?
    @Option(name: .customLong("id-column"), help: "Customer id column.") var idColumn: String?
    @Option(name: .long, help: "Numeric feature columns (comma-separated; default all).") var columns: String?
    @Option(name: .long, help: "Categorical columns (comma-separated; default: inferred text columns).") var categorical: String?
    @Option(name: .long, help: "Columns never used as features (comma-separated).") var exclude: String?
    @Option(name: .long, help: "Order log (CSV) to derive RFM and CLV features from.") var transactions: String?
    @Option(name: .customLong("customer-column"), help: "Order log: customer id column.") var customerColumn: String?
    @Option(name: .customLong("date-column"), help: "Order log: date column.") var dateColumn: String?
    @Option(name: .customLong("amount-column"), help: "Order log: amount column.") var amountColumn: String?
    @Option(name: .customLong("quantity-column"), help: "Order log: quantity column.") var quantityColumn: String?
    @Option(name: .customLong("product-column"), help: "Order log: product column (enables ABC classes).") var productColumn: String?
    @Option(name: .long, help: "Order log delimiter: , ; tab or whitespace.") var delimiter: String?
    @Flag(name: .customLong("no-header"), help: "The order log has no header row.") var noHeader = false
    @Option(name: .customLong("date-format"), help: "Order log date format, e.g. %Y%m%d.") var dateFormat: String?
    @Option(name: .customLong("as-of"), help: "Reference day for recency (default: last order day).") var asOf: String?
    @Flag(name: .customLong("no-clv"), help: "Skip the CLV features.") var noCLV = false
    @Option(name: .customLong("clv-horizon-weeks"), help: "CLV horizon in weeks.") var clvHorizonWeeks: Int?
    @Option(name: .customLong("clv-discount"), help: "CLV discount rate per week.") var clvDiscount: Double?
    @Flag(name: .long, help: "The first bad order-log row is fatal.") var strict = false

    // Preprocessing and model.
    @Option(name: .long, help: "Missing values: none, drop, mean, median, most_frequent, constant:V (default median).") var impute: String?
    @Option(name: .long, help: "Outliers: none, quantile[:LO:HI], iqr[:F] (default quantile:0.01:0.99).") var clip: String?
    @Option(name: .long, help: "log1p columns (comma-separated; default: skewed non-negative columns; 'none' for none).") var log: String?
    @Option(name: .long, help: "Scaling: none, standard, robust, minmax (default standard).") var scale: String?
    @Option(name: .customLong("one-hot-max"), help: "Indicator columns per categorical column.") var oneHotMax: Int?
    @Option(name: .long, help: "Principal components before the model (default none).") var pca: Int?
    @Option(name: .long, help: "kmeans or gmm.") var algorithm: String?
    @Option(name: .long, help: "GMM covariance: full, diag, tied, spherical.") var covariance: String?
    @Option(name: .long, help: "Fixed number of segments (default: chosen by sweep).") var k: Int?
    @Option(name: .customLong("k-min"), help: "Smallest k of the sweep (default 2).") var kMin: Int?
    @Option(name: .customLong("k-max"), help: "Largest k of the sweep (default 10).") var kMax: Int?
    @Option(name: .customLong("sweep-sample"), help: "Customers sampled for the k sweep (default 200000).") var sweepSample: Int?
    @Option(name: .customLong("n-init"), help: "Restarts (default 4).") var nInit: Int?
    @Option(name: .customLong("max-iter"), help: "Iterations per restart (default 300).") var maxIter: Int?
    @Option(name: .long, help: "Random seed (default 42).") var seed: UInt64?
    @Option(name: .long, help: "Worker threads (default: cores). Results do not depend on it.") var threads: Int?

    // Profiles, privacy, outputs.
    @Option(name: .customLong("min-segment-size"), help: "Smaller segments are merged into 'other' in reports (default 50).") var minSegmentSize: Int?
    @Flag(name: .long, help: "Replace customer ids in outputs by a salted hash.") var pseudonymize = false
    @Option(name: .long, help: "Salt for --pseudonymize (prefer --salt-env).") var salt: String?
    @Option(name: .customLong("salt-env"), help: "Environment variable holding the salt.") var saltEnv: String?
    @Option(name: .long, parsing: .singleValue, help: "Segment name override ID=NAME (repeatable).") var name: [String] = []
    @Option(name: .long, parsing: .singleValue, help: "Column role ROLE=COLUMN (recency, frequency, monetary, tenure; repeatable).") var role: [String] = []
    @Option(name: .customLong("tree-depth"), help: "Depth of the explaining decision tree (1-3, default 3).") var treeDepth: Int?
    @Option(name: .customLong("scatter-sample"), help: "Customers in the projection chart (default 2000).") var scatterSample: Int?
    @Option(name: .long, help: "Output directory (default strata-out).") var out: String?
    @Option(name: .long, help: "Previous run's output directory: adds segment migration.") var previous: String?
    @Flag(name: .customLong("no-report"), help: "Skip report.html.") var noReport = false
    @Flag(name: .long, help: "Print exactly one JSON object (the run summary) on stdout.") var json = false
    @Flag(name: .long, help: "No step log on stderr.") var quiet = false

    func list(_ s: String?) -> [String]? { s.map(commaList) }

    /// The job: config file first, then flags.
    func resolvedConfig() throws -> SegmentConfig {
        var c = SegmentConfig()
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StrataError.unreadable(path: path, reason: "cannot read the job file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "the job file is not UTF-8 text")
            }
            do {
                guard let object = try Yams.load(yaml: text) else {
                    throw StrataError.badData(file: path, line: nil, column: nil, message: "the job file is empty")
                }
                try SegmentConfig.checkKeys(object, file: path)
                c = try YAMLDecoder().decode(SegmentConfig.self, from: text)
            } catch let e as YamlError {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "not valid YAML or JSON: \(e)")
            } catch {
                throw SegmentConfig.describe(error, file: path)
            }
        }
        if let v = customers { c.customers = v }
        if let v = idColumn { c.idColumn = v }
        if let v = list(columns) { c.columns = v }
        if let v = list(categorical) { c.categorical = v }
        if let v = list(exclude) { c.exclude = v }
        if let v = transactions { c.transactions = SegmentConfig.Transactions(path: v) }
        if c.transactions == nil, customerColumn != nil || dateColumn != nil || amountColumn != nil || productColumn != nil {
            throw StrataError.invalidArgument("order-log column options need --transactions (or transactions.path in the job file)")
        }
        if var t = c.transactions {
            if let v = customerColumn { t.customerColumn = v }
            if let v = dateColumn { t.dateColumn = v }
            if let v = amountColumn { t.amountColumn = v }
            if let v = quantityColumn { t.quantityColumn = v }
            if let v = productColumn { t.productColumn = v }
            if let v = delimiter { t.delimiter = v }
            if noHeader { t.header = false }
            if let v = dateFormat { t.dateFormat = v }
            if let v = asOf { t.asOf = v }
            if noCLV { t.clv = false }
            if let v = clvHorizonWeeks { t.clvHorizonWeeks = v }
            if let v = clvDiscount { t.clvDiscount = v }
            if strict { t.strict = true }
            c.transactions = t
        }
        if let v = impute { c.impute = v }
        if let v = clip { c.clip = v }
        if let v = log { c.log = v == "none" ? [] : list(v) }
        if let v = scale { c.scale = v }
        if let v = oneHotMax { c.oneHotMax = v }
        if let v = pca { c.pca = v }
        if let v = algorithm { c.algorithm = v }
        if let v = covariance { c.covariance = v }
        if let v = k { c.k = v }
        if let v = kMin { c.kMin = v }
        if let v = kMax { c.kMax = v }
        if let v = sweepSample { c.sweepSample = v }
        if let v = nInit { c.nInit = v }
        if let v = maxIter { c.maxIter = v }
        if let v = seed { c.seed = v }
        if let v = threads { c.threads = v }
        if let v = minSegmentSize { c.minSegmentSize = v }
        if pseudonymize { c.pseudonymize = true }
        if let v = salt { c.salt = v }
        if let v = saltEnv { c.saltEnv = v }
        for pair in name {
            guard let eq = pair.firstIndex(of: "=") else { throw StrataError.invalidArgument("--name '\(pair)' must be ID=NAME") }
            c.names[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        for pair in role {
            guard let eq = pair.firstIndex(of: "=") else { throw StrataError.invalidArgument("--role '\(pair)' must be ROLE=COLUMN") }
            c.roles[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        if let v = treeDepth { c.treeDepth = v }
        if let v = scatterSample { c.scatterSample = v }
        if let v = out { c.out = v }
        if let v = previous { c.previous = v }
        if noReport { c.report = false }
        return c
    }

    func validate() throws {
        if demoCustomers < 100 { throw ValidationError("--demo-customers must be at least 100") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try Report.run(json: json) {
            var c = try resolvedConfig()
            BLASThreads.set(c.threads ?? defaultThreadCount)
            let quiet = self.quiet
            let log: (String) -> Void = { line in if !quiet { Report.stderr("[segment] " + line) } }
            if demo {
                if c.customers == nil && c.transactions == nil {
                    try writeDemoData(into: &c, log: log)
                } else {
                    throw StrataError.invalidArgument("--demo brings its own data; leave out --customers / --transactions")
                }
            }
            let summary = try SegmentJob.run(c, log: log)
            if json {
                Report.json(summary)
                return
            }
            printSummary(summary, config: c)
        }
    }

    func writeDemoData(into c: inout SegmentConfig, log: (String) -> Void) throws {
        let dir = c.out + "/demo-data"
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw StrataError.unwritable(path: dir, reason: "cannot create the directory")
        }
        let seed = c.seed
        let (customersCSV, ordersCSV) = DemoData.segmentDemo(customers: demoCustomers, seed: seed)
        var batch = OutputBatch()
        try batch.stage(customersCSV, to: dir + "/customers.csv")
        try batch.stage(ordersCSV, to: dir + "/transactions.csv")
        try batch.commit()
        log("demo data: \(demoCustomers) customers and their orders in \(dir)/ (customers.csv, transactions.csv)")
        c.customers = dir + "/customers.csv"
        var t = SegmentConfig.Transactions(path: dir + "/transactions.csv")
        t.productColumn = "product"
        c.transactions = t
    }

    func printSummary(_ s: [String: Any], config c: SegmentConfig) {
        let counts = s["counts"] as? [String: Any] ?? [:]
        print("Segmented \(counts["customers_modelled"] ?? 0) customers into k = \(s["k"] ?? 0) segments (\(c.algorithm), seed \(c.seed)) in \(String(format: "%.1f", s["seconds"] as? Double ?? 0)) s")
        if let profilesPath = (s["outputs"] as? [String: String])?["profiles"],
           let data = FileManager.default.contents(atPath: profilesPath),
           let p = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            print("")
            for g in (p["segments"] as? [[String: Any]] ?? []) + ((p["other"] as? [String: Any]).map { [$0] } ?? []) {
                let id = (g["id"] as? Int).map(String.init) ?? "-"
                print("  \(id)  \(g["name"] as? String ?? "")")
                print("     \(g["description"] as? String ?? "")")
            }
            if let rules = p["rules"] as? [String: Any], let acc = rules["accuracy"] as? Double {
                print(String(format: "\nRules (depth %d decision tree, %.1f%% of customers classified correctly):", rules["depth"] as? Int ?? 0, 100 * acc))
                for r in (rules["rules"] as? [[String: Any]] ?? []).prefix(12) { print("  " + (r["text"] as? String ?? "")) }
            }
        }
        if let m = s["migration"] as? [String: Any] {
            print("\nMigration since \(c.previous ?? ""): \(m["stayed"] ?? 0) stayed, \(m["moved"] ?? 0) moved, \(m["churned"] ?? 0) churned, \(m["new"] ?? 0) new")
        }
        print("\nOutputs in \(c.out)/: " + SegmentJob.outputFiles.filter { $0 != "report.html" || c.report }.joined(separator: ", ")
              + (c.previous == nil ? "" : ", migration.json"))
    }
}
