import StrataCore
import StrataKernels
import StrataCustomers
import StrataIO
import Foundation

/// Everything `strata segment` does, as one plain, documented value: read from a YAML or JSON job
/// file (keys in snake_case, as below), overridden by command-line flags. Every field has a
/// default chosen for customer data; a job file only names what differs.
///
/// Unknown keys are an error (a typo must not silently fall back to a default).
public struct SegmentConfig: Codable, Sendable, Equatable {
    /// How to read an order log (all column references are header names or 1-based positions).
    public struct Transactions: Codable, Sendable, Equatable {
        public var path: String
        public var customerColumn: String = "customer_id"
        public var dateColumn: String = "date"
        public var amountColumn: String = "amount"
        public var quantityColumn: String? = nil
        /// Unit price: amount = quantity x price (needs `quantity_column`).
        public var priceColumn: String? = nil
        /// Decimal mark of amounts: `.` or `,` (see `AmountFormat`).
        public var decimal: AmountFormat.DecimalMark = .point
        /// Currency symbol or code stripped from amounts.
        public var currency: String? = nil
        /// With a product column the report gets ABC (Pareto) product classes, overall and per segment.
        public var productColumn: String? = nil
        /// `,` `;` `tab` or `whitespace`.
        public var delimiter: TransactionOptions.Delimiter = .comma
        public var header: Bool = true
        /// Forced date format (`DateFormat(forced:)`: strftime-style, e.g. `%d/%m/%Y`, or
        /// `iso8601`, `epoch`, `epoch_ms`); default: detected from the first rows and recorded.
        public var dateFormat: String? = nil
        /// Reference day for recency and tenure (default: the last transaction day).
        public var asOf: String? = nil
        /// Orders after this day are the holdout: features and the CLV models come from the orders
        /// up to it (recency measured at it), and the CLV fit is evaluated on the holdout (run.json
        /// `clv_model.holdout`, the report's CLV section). Excludes `as_of`.
        public var calibrationEnd: String? = nil
        /// With `calibration_end`: the holdout's last day (default: the last order day after it).
        public var holdoutEnd: String? = nil
        /// CLV horizon in weeks (BG/NBD and Gamma-Gamma are fitted in weeks).
        public var clvHorizonWeeks: Int = 52
        /// Discount rate per week; nil: `clv_annual_discount` compounded to a week.
        public var clvDiscount: Double? = nil
        /// Annual discount rate (`CLVDiscount`, default 10%), the same convention as `strata clv`.
        public var clvAnnualDiscount: Double = CLVDiscount.defaultAnnualRate
        /// The weekly rate in effect.
        public var weeklyDiscount: Double { clvDiscount ?? CLVDiscount.perStep(annual: clvAnnualDiscount, stepDays: 7) }
        /// Parameter draws for the per-customer CLV intervals behind the profiles' `clv_p05_total` /
        /// `clv_p95_total` (`CLVIntervals`; 0: none, and no cost).
        public var clvIntervalDraws: Int = CLVIntervals.defaultDraws
        /// Derive CLV features (fits BG/NBD + Gamma-Gamma); off keeps only RFM features.
        public var clv: Bool = true
        /// The first bad row is fatal instead of counted and skipped.
        public var strict: Bool = false

        public init(path: String) { self.path = path }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case path, customerColumn = "customer_column", dateColumn = "date_column", amountColumn = "amount_column"
            case quantityColumn = "quantity_column", priceColumn = "price_column", decimal, currency, productColumn = "product_column", delimiter, header
            case dateFormat = "date_format", asOf = "as_of", clvHorizonWeeks = "clv_horizon_weeks", clvDiscount = "clv_discount"
            case clvAnnualDiscount = "clv_annual_discount", calibrationEnd = "calibration_end", holdoutEnd = "holdout_end"
            case clvIntervalDraws = "clv_interval_draws"
            case clv, strict
        }
    }

    // MARK: inputs
    /// Customer feature table (CSV with a header, or .npy). Optional when `transactions` is given.
    public var customers: String? = nil
    /// Customer id column (default: a column named `id` or `customer_id`).
    public var idColumn: String? = nil
    /// Numeric feature columns (default: every numeric column but the id).
    public var columns: [String]? = nil
    /// Categorical columns, one-hot encoded (default: text columns with at most 50 distinct values
    /// in the first 1,000 rows; the id column never).
    public var categorical: [String]? = nil
    /// Columns never used as features.
    public var exclude: [String] = []
    /// Columns holding personal data (names, e-mails, phone numbers, free-text ids): never
    /// features, never in any output. Identifier-like text columns (e-mail or phone values, or
    /// nearly one distinct value per customer) are left out without being named here, with a
    /// warning (`IdentifierColumns`); this names more. Each must be a column of the customer table.
    public var piiColumns: [String] = []
    public var transactions: Transactions? = nil

    // MARK: preprocessing (see `PreprocessOptions`)
    /// none | drop | mean | median | most_frequent | constant:V.
    public var impute: PreprocessOptions.Impute = .median
    /// none | quantile[:LO:HI] | iqr[:F]. Winsorizing at 1%/99% keeps a few whales from owning a segment.
    public var clip: PreprocessOptions.Clip = .quantiles(0.01, 0.99)
    /// Columns through log1p. Default: every non-negative numeric column with skewness > 1 (spend,
    /// frequency and CLV usually are).
    public var log: [String]? = nil
    /// none | standard | robust | minmax.
    public var scale: PreprocessOptions.Scale = .standard
    public var oneHotMax: Int = 10
    /// Working-memory budget (`4G`, `512M`, bytes; default half the RAM): the dense model table
    /// and PCA's matrices are checked against it before they are allocated.
    public var memoryBudget: String? = nil
    /// Project onto this many principal components before the model (default: no PCA).
    public var pca: Int? = nil

    // MARK: model
    /// kmeans | gmm | agglomerative | dbscan | hdbscan | kprototypes.
    public var algorithm: ClusteringAlgorithm = .kmeans
    /// kprototypes: weight of one categorical mismatch against the squared distance of the
    /// scaled numeric features (>= 0; default: half the mean standard deviation of the numeric
    /// model features, the `kmodes` package's default). Unused by K-Modes (no numeric feature).
    public var gamma: Double? = nil
    /// agglomerative: ward | complete | average | single.
    public var linkage: Linkage? = nil
    /// The linkage in effect (ward unless set).
    public var effectiveLinkage: Linkage { linkage ?? .ward }
    /// agglomerative: K-Means micro-clusters to build the tree on (default: exact up to 50,000
    /// customers, 2,000 micro-clusters beyond).
    public var microClusters: Int? = nil
    /// dbscan: neighbourhood radius in model units (default: the k-distance knee).
    public var eps: Double? = nil
    /// dbscan / hdbscan: neighbours for a core point, the customer included (default: dbscan
    /// max(5, 2 x features), Sander et al. 1998; hdbscan min_cluster_size).
    public var minSamples: Int? = nil
    /// hdbscan: smallest cluster (default: the larger of min_segment_size, so every cluster is
    /// reportable, and 1% of the customers fitted).
    public var minClusterSize: Int? = nil
    /// hdbscan: fitted on a seeded sample of at most this many customers (O(n²) time), the
    /// rest assigned by approximate prediction. Default 20,000.
    public var densitySample: Int? = nil
    /// The density sample in effect.
    public var effectiveDensitySample: Int { densitySample ?? 20_000 }
    /// GMM covariance: full | diag | tied | spherical.
    public var covariance: CovarianceType = .full
    /// Fixed number of segments; nil chooses k by a sweep over `kMin...kMax`.
    public var k: Int? = nil
    /// The business range k is chosen in (`KSelection`: default 3...8, segments a marketing team
    /// can act on).
    public var kMin: Int = 3
    public var kMax: Int = 8
    /// The choice of k never takes a k whose smallest segment holds less than this share of the
    /// customers (0...1, default 0.02).
    public var minSegmentShare: Double = 0.02
    /// ... nor one whose bootstrap stability (mean pairwise adjusted Rand index of refits on
    /// resamples) is below this (default 0.75).
    public var minStability: Double = 0.75
    /// Bootstrap refits per k for the stability (0 = none, else at least 2; default 5), on at
    /// most 10,000 of the sweep's customers.
    public var bootstrap: Int = 5
    /// Gap statistic reference sets (0 = none, else at least 2; default 10), on at most 5,000 of
    /// the sweep's customers.
    public var gapReferences: Int = 10
    /// The k sweep runs on a seeded sample of at most this many customers (the final model always
    /// uses every customer).
    public var sweepSample: Int = 200_000
    public var nInit: Int = 4
    public var maxIter: Int = 300
    public var seed: UInt64 = 42
    /// Worker threads (default: cores). Results do not depend on it.
    public var threads: Int? = nil
    /// Where the K-Means fits and the exact silhouette run (`ComputeDevice`; default auto).
    public var device: Device = Device(.auto)
    /// `ComputeDevice` as a job-file choice: an unknown value lists the valid ones.
    public struct Device: SettingChoice {
        public var value: ComputeDevice
        public init(_ value: ComputeDevice) { self.value = value }
        public init?(_ description: String) { guard let v = ComputeDevice(rawValue: description) else { return nil }; value = v }
        public var description: String { value.rawValue }
        public static var validForms: [String] { ComputeDevice.allCases.map(\.rawValue) }
    }

    // MARK: profiles, privacy, outputs
    /// Segments smaller than this are merged into "other" in the report and profiles (k-anonymity).
    public var minSegmentSize: Int = 50
    /// Replace customer ids in outputs by a salted hash (HMAC-SHA-256, 16 hex digits).
    public var pseudonymize: Bool = false
    /// The salt; or name an environment variable in `salt_env` (preferred: keeps it out of files).
    public var salt: String? = nil
    public var saltEnv: String? = nil
    /// Segment names that override the generated ones, by segment id ("0": "VIP").
    public var names: [String: String] = [:]
    /// Columns kept out of the model but profiled per segment (rates for binary columns,
    /// category shares, distributions for numbers): outcomes such as churned, attributes such as
    /// region.
    public var profileOnly: [String] = []
    /// Recommended actions that override the playbook's, by segment id ("2": "Call them").
    public var actions: [String: String] = [:]
    /// Currency code shown with money in the report (`EUR`); default none.
    public var currency: String? = nil
    /// A product table joined on the order log's product column: its category columns become
    /// affinity levels.
    public var products: ProductTableSettings? = nil
    /// Which columns play the roles the naming rules use (recency, frequency, monetary, tenure);
    /// by default inferred from column names.
    public var roles: [String: String] = [:]
    /// Depth of the explaining decision tree (1-3).
    public var treeDepth: Int = 3
    /// Customers drawn for the 2-D projection chart.
    public var scatterSample: Int = 2_000
    public var out: String = "strata-out"
    /// A previous run's output directory: migration between the two runs goes to migration.json
    /// and the report.
    public var previous: String? = nil
    /// Write report.html (off: every other output still written).
    public var report: Bool = true
    /// Format of the table outputs (assignments, features): nil is CSV (`assignments.csv`);
    /// `.parquet` writes `assignments.parquet` and `features.parquet` instead.
    public var format: TableFormat? = nil
    /// A campaign's results file (`CampaignSettings`): its uplift per segment goes to
    /// campaign.json and the report's "Campaign results".
    public var campaign: CampaignSettings? = nil
    /// PostgreSQL sinks (`postgresql://...?table=schema.name`), each replaced atomically with the
    /// run's outputs (`PostgresTableWriter`): the assignments (same columns as assignments.csv),
    /// the feature table (features.csv's columns) and the profiles (one row per segment:
    /// `segment_id`, `segment_name`, `customers`, `share`, `profile` as jsonb).
    public var assignmentsTable: String? = nil
    public var featuresTable: String? = nil
    public var profilesTable: String? = nil
    /// Drift monitoring (`MonitorSettings`): this run's customers against a previous model's
    /// training profile, in monitor.json and the report's "Drift monitoring".
    public var monitor: MonitorSettings? = nil

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case customers, idColumn = "id_column", columns, categorical, exclude, piiColumns = "pii_columns", transactions
        case impute, clip, log, scale, oneHotMax = "one_hot_max", memoryBudget = "memory_budget", pca
        case algorithm, gamma, linkage, microClusters = "micro_clusters", eps, minSamples = "min_samples", minClusterSize = "min_cluster_size"
        case densitySample = "density_sample"
        case covariance, k, kMin = "k_min", kMax = "k_max", sweepSample = "sweep_sample", nInit = "n_init"
        case minSegmentShare = "min_segment_share", minStability = "min_stability", bootstrap, gapReferences = "gap_references"
        case profileOnly = "profile_only", actions, currency, products
        case maxIter = "max_iter", seed, threads, device
        case minSegmentSize = "min_segment_size", pseudonymize, salt, saltEnv = "salt_env", names, roles
        case treeDepth = "tree_depth", scatterSample = "scatter_sample", out, previous, report, format
        case campaign, monitor
        case assignmentsTable = "assignments_table", featuresTable = "features_table", profilesTable = "profiles_table"
    }

    /// Decodes with defaults for absent keys (Swift's synthesized decoding has no defaults).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = SegmentConfig()
        func get<T: Decodable>(_ key: CodingKeys, _ into: inout T) throws { if let v = try c.decodeIfPresent(T.self, forKey: key) { into = v } }
        func opt<T: Decodable>(_ key: CodingKeys, _ into: inout T?) throws { if let v = try c.decodeIfPresent(T.self, forKey: key) { into = v } }
        try opt(.customers, &s.customers); try opt(.idColumn, &s.idColumn); try opt(.columns, &s.columns)
        try opt(.categorical, &s.categorical); try get(.exclude, &s.exclude); try get(.piiColumns, &s.piiColumns); try opt(.transactions, &s.transactions)
        try get(.impute, &s.impute); try get(.clip, &s.clip); try opt(.log, &s.log); try get(.scale, &s.scale)
        try get(.oneHotMax, &s.oneHotMax); try opt(.memoryBudget, &s.memoryBudget); try opt(.pca, &s.pca)
        try get(.algorithm, &s.algorithm); try opt(.gamma, &s.gamma); try get(.covariance, &s.covariance); try opt(.k, &s.k)
        try opt(.linkage, &s.linkage); try opt(.microClusters, &s.microClusters); try opt(.eps, &s.eps)
        try opt(.minSamples, &s.minSamples); try opt(.minClusterSize, &s.minClusterSize); try opt(.densitySample, &s.densitySample)
        try get(.kMin, &s.kMin); try get(.kMax, &s.kMax); try get(.sweepSample, &s.sweepSample); try get(.nInit, &s.nInit)
        try get(.maxIter, &s.maxIter); try get(.seed, &s.seed); try opt(.threads, &s.threads); try get(.device, &s.device)
        try get(.minSegmentSize, &s.minSegmentSize); try get(.pseudonymize, &s.pseudonymize); try opt(.salt, &s.salt)
        try opt(.saltEnv, &s.saltEnv); try get(.names, &s.names); try get(.roles, &s.roles); try get(.treeDepth, &s.treeDepth)
        try get(.scatterSample, &s.scatterSample); try get(.out, &s.out); try opt(.previous, &s.previous); try get(.report, &s.report)
        try opt(.format, &s.format)
        try opt(.campaign, &s.campaign)
        try get(.minSegmentShare, &s.minSegmentShare); try get(.minStability, &s.minStability); try get(.bootstrap, &s.bootstrap)
        try get(.gapReferences, &s.gapReferences); try get(.profileOnly, &s.profileOnly); try get(.actions, &s.actions); try opt(.currency, &s.currency)
        try opt(.products, &s.products)
        try opt(.monitor, &s.monitor)
        try opt(.assignmentsTable, &s.assignmentsTable); try opt(.featuresTable, &s.featuresTable); try opt(.profilesTable, &s.profilesTable)
        self = s
    }

    /// Checks a parsed job file (YAML or JSON, as nested dictionaries) for unknown keys, so a
    /// typo is an error rather than a silent default.
    public static func checkKeys(_ object: Any, file: String) throws {
        guard let top = object as? [String: Any] else {
            throw StrataError.badData(file: file, line: nil, column: nil, message: "the job file must be a mapping of option names to values")
        }
        try checkKeys(top, known: CodingKeys.allCases.map(\.rawValue), where: "", file: file)
        if let t = top["transactions"] as? [String: Any] {
            try checkKeys(t, known: Transactions.CodingKeys.allCases.map(\.rawValue), where: "transactions.", file: file)
        }
        if let t = top["campaign"] as? [String: Any] { try checkKeys(t, known: CampaignSettings.keys, where: "campaign.", file: file) }
        if let t = top["monitor"] as? [String: Any] { try checkKeys(t, known: MonitorSettings.keys, where: "monitor.", file: file) }
        if let t = top["products"] as? [String: Any] { try checkKeys(t, known: ProductTableSettings.keys, where: "products.", file: file) }
    }

    /// A decoding failure as an error naming the job file and the option. Every job-file
    /// mistake (unknown key, wrong type, invalid value) is a usage error, exit 64, like the same
    /// mistake in a flag.
    public static func describe(_ error: Error, file: String) -> StrataError {
        guard let e = error as? DecodingError else {
            if let e = error as? StrataError { return e }
            return .invalidArgument("\(file): invalid job file: \(error)")
        }
        let path = e.keyPath
        return .invalidArgument("\(file): " + (path.isEmpty ? "" : "\(path): ") + e.reason)
    }

    static func checkKeys(_ object: [String: Any], known: [String], where prefix: String, file: String) throws {
        for key in object.keys.sorted() where !known.contains(key) {
            let close = known.min { editDistance($0, key) < editDistance($1, key) }
            // A usage error (exit 64) like an invalid value: the job file is the command line's twin.
            throw StrataError.invalidArgument("\(file): unknown option '\(prefix)\(key)'" + (close.map { "; did you mean '\(prefix)\($0)'?" } ?? ""))
        }
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }

    /// Checks values and combinations. Closed choices are typed, so only ranges and
    /// combinations are left; errors are `StrataError.invalidSetting` naming the job key (the CLI
    /// reports the flag instead when the value came from one).
    public func validate() throws {
        if out == "-" || out.isEmpty { throw StrataError.invalidSetting("out", "segment writes a directory of files; give a directory path") }
        func bad(_ key: String, _ s: String) -> StrataError { .invalidSetting(key, s) }
        if customers == nil && transactions == nil {
            throw StrataError.invalidArgument("give a customer table (customers / --customers) or an order log (transactions / --transactions), or use --demo")
        }
        if let k, k < 1 { throw bad("k", "must be at least 1") }
        if k == nil && !(2 <= kMin && kMin <= kMax) { throw bad("k_min", "k_min and k_max must satisfy 2 <= k_min <= k_max (got \(kMin), \(kMax))") }
        if !(minSegmentShare >= 0 && minSegmentShare < 0.5) { throw bad("min_segment_share", "must be in [0, 0.5)") }
        if !(minStability >= 0 && minStability <= 1) { throw bad("min_stability", "must be in [0, 1]") }
        if bootstrap < 0 || bootstrap == 1 { throw bad("bootstrap", "must be 0 (no stability check) or at least 2 refits") }
        if gapReferences < 0 || gapReferences == 1 { throw bad("gap_references", "must be 0 (no gap statistic) or at least 2") }
        if let p = products {
            if transactions?.productColumn == nil { throw bad("products", "needs an order log with a product column (transactions.product_column)") }
            if p.columns.isEmpty { throw bad("products.columns", "name at least one category column of \(p.path)") }
        }
        for key in actions.keys where Int(key) == nil || String(Int(key)!) != key { throw bad("actions", "key '\(key)' is not a segment id (0, 1, ...)") }
        if sweepSample < 100 { throw bad("sweep_sample", "must be at least 100") }
        if nInit < 1 { throw bad("n_init", "must be at least 1") }
        if let m = microClusters, m < 2 { throw bad("micro_clusters", "must be at least 2") }
        if let e = eps, !(e > 0) || !e.isFinite { throw bad("eps", "must be a positive number") }
        if let m = minSamples, m < 1 { throw bad("min_samples", "must be at least 1") }
        if let m = minClusterSize, m < 2 { throw bad("min_cluster_size", "must be at least 2") }
        if let d = densitySample, d < 100 { throw bad("density_sample", "must be at least 100") }
        // A model setting of another algorithm is a mistake, not something to ignore silently.
        let owners: [(String, Bool, Set<ClusteringAlgorithm>)] = [
            ("linkage", linkage != nil, [.agglomerative]), ("micro_clusters", microClusters != nil, [.agglomerative]),
            ("eps", eps != nil, [.dbscan]), ("min_samples", minSamples != nil, [.dbscan, .hdbscan]),
            ("min_cluster_size", minClusterSize != nil, [.hdbscan]), ("density_sample", densitySample != nil, [.hdbscan]),
        ]
        for (key, set, algorithms) in owners where set && !algorithms.contains(algorithm) {
            throw bad(key, "applies to algorithm \(algorithms.map(\.rawValue).sorted().joined(separator: " or ")), not \(algorithm.rawValue)")
        }
        if !algorithm.takesK && k != nil { throw bad("k", "\(algorithm.rawValue) finds its number of segments from density; leave k out (tune eps/min_samples or min_cluster_size)") }
        if maxIter < 1 { throw bad("max_iter", "must be at least 1") }
        if let g = gamma, !(g >= 0 && g.isFinite) { throw bad("gamma", "must be a finite number >= 0") }
        if gamma != nil && algorithm != .kprototypes { throw bad("gamma", "is a kprototypes setting; set algorithm: kprototypes or leave gamma out") }
        if pca != nil && algorithm == .kprototypes { throw bad("pca", "kprototypes clusters the numeric features beside the categories as they are; leave pca out") }
        if let t = threads, t < 1 { throw bad("threads", "must be at least 1") }
        if let p = pca, p < 1 { throw bad("pca", "must be at least 1") }
        if oneHotMax < 1 { throw bad("one_hot_max", "must be at least 1") }
        if let m = memoryBudget, MemoryBudget.parse(m) == nil { throw bad("memory_budget", "'\(Excerpt.of(m))' is not a size (4G, 512M, bytes)") }
        if minSegmentSize < 1 { throw bad("min_segment_size", "must be at least 1") }
        if !(1...3).contains(treeDepth) { throw bad("tree_depth", "must be 1, 2 or 3") }
        if scatterSample < 0 { throw bad("scatter_sample", "must be >= 0") }
        for key in roles.keys where !SegmentRoles.Role.allCases.map(\.rawValue).contains(key) {
            throw bad("roles", "'\(key)' is not a role; roles are recency, frequency, monetary, tenure")
        }
        for key in names.keys where Int(key) == nil || String(Int(key)!) != key { throw bad("names", "key '\(key)' is not a segment id (0, 1, ...)") }
        if Set(names.values).count != names.count { throw bad("names", "two segments cannot be given the same name") }
        if pseudonymize && resolvedSalt == nil {
            throw bad("pseudonymize", "needs a salt: set salt_env to an environment variable holding it (or salt / --salt)")
        }
        if let m = monitor {
            do { try m.thresholds.validate() } catch let StrataError.invalidSetting(key, message) { throw bad("monitor." + key, message) }
            if m.model == nil && previous == nil { throw bad("monitor.model", "give the model to compare with (a model.json or a previous output directory), or set previous") }
        }
        if let t = transactions {
            if t.path == "-" && t.productColumn != nil {
                throw bad("transactions.path", "'-' (standard input) can be read once, and product affinity reads the order log a second time: give a file")
            }
            if t.clvHorizonWeeks < 1 { throw bad("transactions.clv_horizon_weeks", "must be at least 1") }
            if let d = t.clvDiscount, !(d >= 0) { throw bad("transactions.clv_discount", "must be >= 0") }
            if !(t.clvAnnualDiscount >= 0) || !t.clvAnnualDiscount.isFinite { throw bad("transactions.clv_annual_discount", "must be >= 0") }
            if t.priceColumn != nil && t.quantityColumn == nil { throw bad("transactions.price_column", "needs transactions.quantity_column (amount = quantity x price)") }
            if t.calibrationEnd != nil && t.asOf != nil {
                throw bad("transactions.as_of", "give as_of or calibration_end, not both (with calibration_end, recency is measured at it)")
            }
            if t.clvIntervalDraws < 0 || t.clvIntervalDraws == 1 { throw bad("transactions.clv_interval_draws", "must be 0 (no intervals) or at least 2") }
            if t.holdoutEnd != nil && t.calibrationEnd == nil { throw bad("transactions.holdout_end", "needs transactions.calibration_end (the holdout starts after it)") }
            if let f = t.dateFormat { do { _ = try DateFormat(forced: f) } catch let StrataError.invalidArgument(m) { throw bad("transactions.date_format", m) } }
        }
    }

    /// The salt from `salt_env` (preferred) or `salt`.
    public var resolvedSalt: String? {
        if let name = saltEnv, let v = ProcessInfo.processInfo.environment[name], !v.isEmpty { return v }
        return salt.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// How the order log is read: `transactions`' options, with values withheld from bad-row
    /// messages under `pseudonymize` (a shifted field can carry a customer id).
    var orderLogOptions: TransactionOptions {
        var o = transactions!.options
        o.quoteValues = !pseudonymize
        return o
    }

    /// A customer id as a message quotes it: an excerpt in quotes, or under `pseudonymize` its
    /// pseudonym (as the outputs write it), so no message carries a raw id.
    func quotedID(_ id: String) -> String {
        if pseudonymize, let salt = resolvedSalt { return "pseudonym \(Pseudonymizer(salt: salt).pseudonym(id))" }
        return "'\(Excerpt.of(id))'"
    }

    var preprocessOptions: PreprocessOptions {
        var o = PreprocessOptions()
        o.impute = impute
        o.clip = clip
        o.scale = scale
        o.oneHotMax = oneHotMax
        o.memoryBudget = memoryBudget.flatMap(MemoryBudget.parse) ?? MemoryBudget.defaultBytes
        return o
    }

    /// The config as recorded in run.json: the salt masked.
    public var recorded: SegmentConfig {
        var c = self
        if c.salt != nil { c.salt = "***" }
        return c
    }
}

extension SegmentConfig.Transactions {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(path: try c.decode(String.self, forKey: .path))
        func get<T: Decodable>(_ key: CodingKeys, _ into: inout T) throws { if let v = try c.decodeIfPresent(T.self, forKey: key) { into = v } }
        func opt<T: Decodable>(_ key: CodingKeys, _ into: inout T?) throws { if let v = try c.decodeIfPresent(T.self, forKey: key) { into = v } }
        try get(.customerColumn, &customerColumn); try get(.dateColumn, &dateColumn); try get(.amountColumn, &amountColumn)
        try opt(.quantityColumn, &quantityColumn); try opt(.priceColumn, &priceColumn); try get(.decimal, &decimal); try opt(.currency, &currency)
        try opt(.productColumn, &productColumn); try get(.delimiter, &delimiter)
        try get(.header, &header); try opt(.dateFormat, &dateFormat); try opt(.asOf, &asOf)
        try opt(.calibrationEnd, &calibrationEnd); try opt(.holdoutEnd, &holdoutEnd); try get(.clvIntervalDraws, &clvIntervalDraws)
        try get(.clvHorizonWeeks, &clvHorizonWeeks); try opt(.clvDiscount, &clvDiscount); try get(.clvAnnualDiscount, &clvAnnualDiscount); try get(.clv, &clv); try get(.strict, &strict)
    }

    var options: TransactionOptions {
        var o = TransactionOptions(customer: customerColumn, date: dateColumn, amount: amountColumn, quantity: quantityColumn, product: productColumn,
                                   delimiter: delimiter, hasHeader: header, dateFormat: dateFormat, strict: strict)
        o.price = priceColumn.map(ColumnRef.init)
        o.amountFormat = AmountFormat(decimal: decimal, currency: currency)
        return o
    }

}
