import Foundation
import StrataCore
import Yams
import StrataIO
import StrataPostgres

/// Every `strata segment` setting, defined once: its job-file key, its command-line flag, how the
/// flag takes its value, and its help. The CLI's flags are generated from this table, and a flag's
/// value goes through the same YAML decoding as the job file's, so the two cannot drift apart.
public struct SegmentSetting: Sendable {
    public enum Kind: Sendable {
        /// `--flag VALUE`: a scalar, decoded as the key's type (number, text, choice).
        case value
        /// `--flag A,B,C`: a list.
        case list
        /// `--flag A,B` or `--flag none` (an empty list).
        case listOrNone
        /// `--flag` alone sets the key to this boolean.
        case set(Bool)
        /// `--flag VALUE`: a number, read as Swift reads numbers.
        case number
        /// `--flag KEY=VALUE`, repeatable: one entry of a mapping (`usage` names the parts).
        case entry(String)
    }

    /// The job's sections, in the order help lists them.
    public enum Section: String, CaseIterable, Sendable {
        case inputs = "Inputs"
        case transactions = "Order log"
        case preprocessing = "Preprocessing"
        case model = "Model and choice of k"
        case profiles = "Profiles and privacy"
        case outputs = "Outputs"
        case campaign = "Campaign feedback"
        case monitor = "Drift monitoring"
    }

    public var section: Section
    /// Dotted job-file key: `k_max`, `transactions.date_column`.
    public var key: String
    /// The flag without dashes: `k-max`.
    public var flag: String
    public var kind: Kind
    public var help: String
}

/// Resolves a job from a job file (YAML or JSON) and flags, flags winning: the file is parsed
/// once into a node, flags are set on that node, unknown keys are rejected with a suggestion,
/// and the node is decoded once into `SegmentConfig`.
public enum SegmentSettings {
    public static let all: [SegmentSetting] = [
        .init(section: .inputs, key: "customers", flag: "customers", kind: .value, help: "Customer feature table (CSV, .npy or Parquet: a file, a directory of .parquet files or a glob; or postgresql://...?table=schema.name)."),
        .init(section: .inputs, key: "id_column", flag: "id-column", kind: .value, help: "Customer id column (default: id or customer_id)."),
        .init(section: .inputs, key: "columns", flag: "columns", kind: .list, help: "Numeric feature columns (comma-separated; default all)."),
        .init(section: .inputs, key: "categorical", flag: "categorical", kind: .list, help: "Categorical columns (default: inferred text columns)."),
        .init(section: .inputs, key: "exclude", flag: "exclude", kind: .list, help: "Columns never used as features."),
        .init(section: .inputs, key: "pii_columns", flag: "pii-columns", kind: .list, help: "Personal-data columns: never features, never in any output."),
        .init(section: .inputs, key: "profile_only", flag: "profile-only", kind: .list, help: "Columns kept out of the model but profiled per segment (outcomes such as churned, attributes such as region)."),
        .init(section: .transactions, key: "transactions.path", flag: "transactions", kind: .value, help: "Order log (CSV, Parquet, postgresql://...?table=schema.name, or - for stdin) to derive RFM and CLV features from."),
        .init(section: .transactions, key: "transactions.customer_column", flag: "customer-column", kind: .value, help: "Order log: customer id column."),
        .init(section: .transactions, key: "transactions.date_column", flag: "date-column", kind: .value, help: "Order log: date column."),
        .init(section: .transactions, key: "transactions.amount_column", flag: "amount-column", kind: .value, help: "Order log: amount column."),
        .init(section: .transactions, key: "transactions.quantity_column", flag: "quantity-column", kind: .value, help: "Order log: quantity column (with price_column: amount = quantity x price)."),
        .init(section: .transactions, key: "transactions.price_column", flag: "price-column", kind: .value, help: "Order log: unit-price column; amount = quantity x price."),
        .init(section: .transactions, key: "transactions.decimal", flag: "decimal", kind: .value, help: "Order log amounts' decimal mark: . or , (default .)."),
        .init(section: .transactions, key: "transactions.currency", flag: "currency", kind: .value, help: "Order log: currency symbol or code stripped from amounts."),
        .init(section: .transactions, key: "transactions.product_column", flag: "product-column", kind: .value, help: "Order log: product column (enables ABC classes)."),
        .init(section: .transactions, key: "transactions.delimiter", flag: "delimiter", kind: .value, help: "Order log delimiter: , ; tab or whitespace."),
        .init(section: .transactions, key: "transactions.header", flag: "no-header", kind: .set(false), help: "The order log has no header row."),
        .init(section: .transactions, key: "transactions.date_format", flag: "date-format", kind: .value, help: "Order log date format (strftime, iso8601, epoch, epoch_ms; default detected)."),
        .init(section: .transactions, key: "transactions.as_of", flag: "as-of", kind: .value, help: "Reference day for recency (default: last order day)."),
        .init(section: .transactions, key: "transactions.calibration_end", flag: "calibration-end", kind: .value, help: "Orders after this day are the CLV holdout (features and fit use the orders up to it)."),
        .init(section: .transactions, key: "transactions.holdout_end", flag: "holdout-end", kind: .value, help: "Last day of the CLV holdout (default: last order day)."),
        .init(section: .transactions, key: "transactions.clv", flag: "no-clv", kind: .set(false), help: "Skip the CLV features."),
        .init(section: .transactions, key: "transactions.clv_horizon_weeks", flag: "clv-horizon-weeks", kind: .number, help: "CLV horizon in weeks (default 52)."),
        .init(section: .transactions, key: "transactions.clv_discount", flag: "clv-discount", kind: .number, help: "CLV discount rate per week (default: clv_annual_discount compounded to a week)."),
        .init(section: .transactions, key: "transactions.clv_annual_discount", flag: "clv-annual-discount", kind: .number, help: "CLV annual discount rate (default 0.10, as strata clv)."),
        .init(section: .transactions, key: "transactions.clv_interval_draws", flag: "clv-interval-draws", kind: .number, help: "Parameter draws for the CLV ranges per segment (default 100; 0: none)."),
        .init(section: .transactions, key: "transactions.strict", flag: "strict", kind: .set(true), help: "The first bad order-log row is fatal."),
        .init(section: .preprocessing, key: "impute", flag: "impute", kind: .value, help: "Missing values: none, drop, mean, median, most_frequent, constant:V (default median)."),
        .init(section: .preprocessing, key: "clip", flag: "clip", kind: .value, help: "Outliers: none, quantile[:LO:HI], iqr[:F] (default quantile:0.01:0.99)."),
        .init(section: .preprocessing, key: "log", flag: "log", kind: .listOrNone, help: "log1p columns (default: skewed non-negative columns; 'none' for none)."),
        .init(section: .preprocessing, key: "scale", flag: "scale", kind: .value, help: "Scaling: none, standard, robust, minmax (default standard)."),
        .init(section: .preprocessing, key: "one_hot_max", flag: "one-hot-max", kind: .number, help: "Indicator columns per categorical column (default 10)."),
        .init(section: .preprocessing, key: "memory_budget", flag: "memory-budget", kind: .value, help: "Working memory, e.g. 4G (default half the RAM); the model table is checked against it."),
        .init(section: .preprocessing, key: "pca", flag: "pca", kind: .number, help: "Principal components before the model (default none)."),
        .init(section: .model, key: "algorithm", flag: "algorithm", kind: .value, help: "kmeans, gmm, agglomerative, dbscan, hdbscan or kprototypes (default kmeans)."),
        .init(section: .model, key: "gamma", flag: "gamma", kind: .number, help: "kprototypes: weight of one category mismatch vs squared scaled distance (default: half the mean numeric std)."),
        .init(section: .model, key: "linkage", flag: "linkage", kind: .value, help: "agglomerative: ward, complete, average, single (default ward)."),
        .init(section: .model, key: "micro_clusters", flag: "micro-clusters", kind: .number, help: "agglomerative: build the tree on this many K-Means micro-clusters (default: exact up to 50000 customers)."),
        .init(section: .model, key: "eps", flag: "eps", kind: .number, help: "dbscan: neighbourhood radius in model units (default: the k-distance knee)."),
        .init(section: .model, key: "min_samples", flag: "min-samples", kind: .number, help: "dbscan/hdbscan: neighbours of a core point, itself included (default dbscan max(5, 2 x features), hdbscan min_cluster_size)."),
        .init(section: .model, key: "min_cluster_size", flag: "min-cluster-size", kind: .number, help: "hdbscan: smallest cluster (default: the larger of min_segment_size and 1% of the customers fitted)."),
        .init(section: .model, key: "density_sample", flag: "density-sample", kind: .number, help: "hdbscan: customers fitted (the rest predicted; default 20000)."),
        .init(section: .model, key: "covariance", flag: "covariance", kind: .value, help: "GMM covariance: full, diag, tied, spherical (default full)."),
        .init(section: .model, key: "k", flag: "k", kind: .number, help: "Fixed number of segments (default: chosen by a sweep)."),
        .init(section: .model, key: "k_min", flag: "k-min", kind: .number, help: "Smallest k of the sweep (default 3)."),
        .init(section: .model, key: "k_max", flag: "k-max", kind: .number, help: "Largest k of the sweep (default 8)."),
        .init(section: .model, key: "min_segment_share", flag: "min-segment-share", kind: .number, help: "Never choose a k whose smallest segment holds less than this share of the customers (default 0.02)."),
        .init(section: .model, key: "min_stability", flag: "min-stability", kind: .number, help: "Never choose a k whose bootstrap stability (mean adjusted Rand index) is below this (default 0.75)."),
        .init(section: .model, key: "bootstrap", flag: "bootstrap", kind: .number, help: "Bootstrap refits per k for the stability check (0 = none; default 5)."),
        .init(section: .model, key: "gap_references", flag: "gap-references", kind: .number, help: "Reference sets of the gap statistic (0 = none; default 10)."),
        .init(section: .model, key: "sweep_sample", flag: "sweep-sample", kind: .number, help: "Customers sampled for the k sweep (default 200000)."),
        .init(section: .model, key: "n_init", flag: "n-init", kind: .number, help: "Restarts (default 4)."),
        .init(section: .model, key: "max_iter", flag: "max-iter", kind: .number, help: "Iterations per restart (default 300)."),
        .init(section: .model, key: "seed", flag: "seed", kind: .number, help: "Random seed (default 42)."),
        .init(section: .model, key: "threads", flag: "threads", kind: .number, help: "Worker threads (default: cores). Results do not depend on it."),
        .init(section: .model, key: "device", flag: "device", kind: .value, help: "Where the K-Means fits and the exact silhouette run: auto (CUDA when present, else the CPU), cpu, cuda or opencl; a device gives the CPU's results (README, GPUs)."),
        .init(section: .profiles, key: "min_segment_size", flag: "min-segment-size", kind: .number, help: "Smaller segments are merged into 'other' in reports (default 50)."),
        .init(section: .profiles, key: "pseudonymize", flag: "pseudonymize", kind: .set(true), help: "Replace customer ids in outputs by a salted hash."),
        .init(section: .profiles, key: "salt", flag: "salt", kind: .value, help: "Salt for --pseudonymize (prefer --salt-env)."),
        .init(section: .profiles, key: "salt_env", flag: "salt-env", kind: .value, help: "Environment variable holding the salt."),
        .init(section: .profiles, key: "names", flag: "name", kind: .entry("ID=NAME"), help: "Segment name override ID=NAME (repeatable)."),
        .init(section: .profiles, key: "actions", flag: "action", kind: .entry("ID=ACTION"), help: "Recommended action override ID=ACTION (repeatable; default: the playbook's for the segment's name)."),
        .init(section: .transactions, key: "products.path", flag: "products", kind: .value, help: "Product table (CSV) joined on the order log's product column; its category columns become affinity levels."),
        .init(section: .transactions, key: "products.product_column", flag: "products-id-column", kind: .value, help: "Product table: product id column (default product_id)."),
        .init(section: .transactions, key: "products.columns", flag: "product-categories", kind: .list, help: "Product table: category columns (affinity levels)."),
        .init(section: .profiles, key: "currency", flag: "report-currency", kind: .value, help: "Currency code shown with money in the report (EUR; default transactions.currency, else none)."),
        .init(section: .profiles, key: "roles", flag: "role", kind: .entry("ROLE=COLUMN"), help: "Column role ROLE=COLUMN (recency, frequency, monetary, tenure; repeatable)."),
        .init(section: .profiles, key: "tree_depth", flag: "tree-depth", kind: .number, help: "Depth of the explaining decision tree (1-3, default 3)."),
        .init(section: .outputs, key: "scatter_sample", flag: "scatter-sample", kind: .number, help: "Customers in the projection chart (default 2000)."),
        .init(section: .outputs, key: "out", flag: "out", kind: .value, help: "Output directory (default strata-out)."),
        .init(section: .outputs, key: "previous", flag: "previous", kind: .value, help: "Previous run's output directory: adds segment migration."),
        .init(section: .outputs, key: "report", flag: "no-report", kind: .set(false), help: "Skip report.html."),
        .init(section: .outputs, key: "assignments_table", flag: "assignments-table", kind: .value, help: "PostgreSQL table replaced atomically with the assignments: postgresql://user@host/db?table=schema.name."),
        .init(section: .outputs, key: "features_table", flag: "features-table", kind: .value, help: "PostgreSQL table replaced with the feature table (features.csv's columns)."),
        .init(section: .outputs, key: "profiles_table", flag: "profiles-table", kind: .value, help: "PostgreSQL table replaced with one row per segment, its profile as jsonb."),
        .init(section: .outputs, key: "format", flag: "format", kind: .value, help: "Table outputs: csv (default) or parquet (assignments.parquet, features.parquet)."),
        .init(section: .campaign, key: "campaign.path", flag: "campaign", kind: .value, help: "Campaign results CSV (id, group, 0/1 response and/or revenue): uplift per segment in campaign.json and the report."),
        .init(section: .campaign, key: "campaign.id_column", flag: "campaign-id-column", kind: .value, help: "Campaign file: customer id column (default customer_id)."),
        .init(section: .campaign, key: "campaign.group_column", flag: "campaign-group-column", kind: .value, help: "Campaign file: treatment/control column (default group)."),
        .init(section: .campaign, key: "campaign.response_column", flag: "campaign-response-column", kind: .value, help: "Campaign file: 0/1 response column (default: response, when present)."),
        .init(section: .campaign, key: "campaign.revenue_column", flag: "campaign-revenue-column", kind: .value, help: "Campaign file: revenue column (default: revenue, when present)."),
        .init(section: .campaign, key: "campaign.treatment_value", flag: "campaign-treatment-value", kind: .value, help: "Group value of treated customers (default treatment)."),
        .init(section: .campaign, key: "campaign.control_value", flag: "campaign-control-value", kind: .value, help: "Group value of control customers (default control)."),
        .init(section: .monitor, key: "monitor.model", flag: "monitor-model", kind: .value, help: "Previous model.json or output directory to compare this run's customers with (default: previous): monitor.json and the report's drift section."),
        .init(section: .monitor, key: "monitor.psi_threshold", flag: "monitor-psi-threshold", kind: .number, help: "Alert when a feature's PSI is above this (default 0.25)."),
        .init(section: .monitor, key: "monitor.psi_moderate_threshold", flag: "monitor-psi-moderate-threshold", kind: .number, help: "Report moderate drift above this PSI (default 0.1)."),
        .init(section: .monitor, key: "monitor.share_drift_threshold", flag: "monitor-share-drift-threshold", kind: .number, help: "Alert when a segment's share moves by more than this (default 0.05 = 5 points)."),
        .init(section: .monitor, key: "monitor.distance_threshold", flag: "monitor-distance-threshold", kind: .number, help: "Alert when more than this share of customers is beyond the training p99 distance (default 0.05)."),
        .init(section: .monitor, key: "monitor.unseen_threshold", flag: "monitor-unseen-threshold", kind: .number, help: "Alert when more than this share of a column's values is unseen in training (default 0.01)."),
    ]

    /// The flags as help text: one line each, under their section's title.
    public static var helpText: String {
        SegmentSetting.Section.allCases.map { section in
            section.rawValue + ":\n" + all.filter { $0.section == section }.map(line).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    static func line(_ s: SegmentSetting) -> String {
        let usage: String
        switch s.kind {
        case .value, .number: usage = "--\(s.flag) <value>"
        case .list, .listOrNone: usage = "--\(s.flag) <a,b,...>"
        case .set: usage = "--\(s.flag)"
        case let .entry(u): usage = "--\(s.flag) <\(u.lowercased())>"
        }
        return "\(usage)  [\(s.key)]  \(s.help)"
    }

    /// A resolved job, with where each setting came from (to name it in errors as written).
    public struct Resolved: Sendable {
        public var config: SegmentConfig
        /// Keys set by flags, with the flag that set them.
        public var flagOf: [String: String]
        public var jobFile: String?
        /// Keys the job file sets (dotted).
        public var fileKeys: Set<String> = []

        /// An error about setting `key` (a job key such as `impute` or `transactions.strict`),
        /// named as the user wrote it: `--impute: ...`, `job.yaml: impute: ...`, or, for a
        /// default nobody wrote, the flag that would change it.
        public func settingError(_ key: String, _ message: String) -> StrataError {
            if let flag = flagOf[key] { return .invalidArgument("--\(flag): \(message)") }
            if let jobFile, fileKeys.contains(key) { return .invalidArgument("\(jobFile): \(key): \(message)") }
            if let flag = SegmentSettings.all.first(where: { $0.key == key })?.flag { return .invalidArgument("--\(flag): \(message)") }
            return .invalidArgument("\(key): \(message)")
        }
    }

    /// The order-log flags that name columns: without an order log they are an error (the other
    /// order-log flags then have nothing to apply to and are left aside, as before).
    static let orderLogColumnFlags: Set<String> = ["customer-column", "date-column", "amount-column", "product-column"]

    /// Reads the job file (when given; YAML or JSON), applies `flags` (`--k-max 5`, `--k-max=5`,
    /// `--no-header`, `--name 0=VIP`...) and decodes the result.
    /// - Throws: `StrataError.badData` naming the job file and key (unknown key with a
    ///   suggestion, a value of the wrong type), `.invalidArgument` naming the flag or the job
    ///   file and key (an invalid choice or number), `.unreadable`.
    public static func resolve(jobFile: String?, flags: [String]) throws -> Resolved {
        var root = mapping([])
        if let path = jobFile { root = try databaseSources(parse(path), file: path) }
        // An empty or null `transactions:` means no order log, as it always has.
        if let t = root["transactions"], t.mapping?.isEmpty == true || t.null != nil { remove(&root, "transactions") }
        if let t = root["campaign"], t.mapping?.isEmpty == true || t.null != nil { remove(&root, "campaign") }
        // An empty `monitor:` (or `monitor: {}`) compares with `previous`'s model.
        if let t = root["monitor"], t.null != nil { set(&root, path: ["monitor"], mapping([])) }
        let fileKeys = Set(dottedKeys(root))
        let fileHasOrderLog = root["transactions"] != nil
        var flagOf: [String: String] = [:]
        var i = 0
        while i < flags.count {
            let token = flags[i]
            guard token.hasPrefix("--"), token.count > 2 else { throw StrataError.invalidArgument("unexpected argument '\(token)'") }
            var name = String(token.dropFirst(2)), inline: String? = nil
            if let eq = name.firstIndex(of: "=") { inline = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
            guard let s = all.first(where: { $0.flag == name }) else {
                let close = all.map(\.flag).min { SegmentConfig.editDistance($0, name) < SegmentConfig.editDistance($1, name) }
                throw StrataError.invalidArgument("unknown option '--\(name)'" + (close.map { "; did you mean '--\($0)'?" } ?? ""))
            }
            func value() throws -> String {
                if let inline { return inline }
                guard i + 1 < flags.count else { throw StrataError.invalidArgument("--\(name) needs a value") }
                i += 1
                return flags[i]
            }
            var path = s.key.split(separator: ".").map(String.init)
            let node: Node
            switch s.kind {
            case .value: node = scalar(try value())
            case .number:
                let v = try value()
                // Numbers as Swift reads them ("010" is ten), not by YAML 1.1's octal rule.
                if let n = Int(v) { node = scalar(String(n)) }
                else if let x = Double(v), x.isFinite, v.allSatisfy({ "0123456789.eE+-".contains($0) }) { node = scalar(v) }
                else { throw StrataError.invalidArgument("--\(name): '\(v)' is not a number") }
            case .list: node = Node(commaList(try value()).map(scalar), Tag(.implicit, resolver))
            case .listOrNone:
                let v = try value()
                node = Node(v == "none" ? [] : commaList(v).map(scalar), Tag(.implicit, resolver))
            case .set(let b):
                if inline != nil { throw StrataError.invalidArgument("--\(name) takes no value") }
                node = scalar(b ? "true" : "false")
            case .entry(let usage):
                let v = try value()
                guard let eq = v.firstIndex(of: "="), eq != v.startIndex else {
                    throw StrataError.invalidArgument("--\(name) '\(v)' must be \(usage)")
                }
                path.append(String(v[..<eq]))
                node = scalar(String(v[v.index(after: eq)...]))
            }
            set(&root, path: path, node)
            flagOf[s.key] = s.flag
            i += 1
        }
        if !fileHasOrderLog && flagOf["transactions.path"] == nil {
            if let flag = flagOf.values.first(where: orderLogColumnFlags.contains) {
                throw StrataError.invalidArgument("order-log column options need --transactions (or transactions.path in the job file); got --\(flag)")
            }
            remove(&root, "transactions")
        }
        do {
            try SegmentConfig.checkKeys(keys(of: root), file: jobFile ?? "command line")
            let config = try YAMLDecoder().decode(SegmentConfig.self, from: root)
            return Resolved(config: config, flagOf: flagOf, jobFile: jobFile, fileKeys: fileKeys)
        } catch let e as DecodingError {
            let key = e.keyPath
            let parent = key.split(separator: ".").dropLast().joined(separator: ".")
            if let flag = flagOf[key] ?? flagOf[parent] {
                throw StrataError.invalidArgument("--\(flag): " + e.reason)
            }
            // An invalid choice is a usage error (exit 64), as it was when validated after decoding.
            if case .dataCorrupted = e, let jobFile { throw StrataError.invalidArgument("\(jobFile): \(key): " + e.reason) }
            throw SegmentConfig.describe(e, file: jobFile ?? "command line")
        }
    }

    /// PostgreSQL sources written as mappings become one URL string (`PostgresURL.compose`):
    /// `customers: {url, query | table, password_env}` and `transactions: {url, query | table,
    /// password_env, ...columns}` (then `transactions.path`). A password written in any URL
    /// (these, and `assignments_table`, `features_table`, `profiles_table`) moves to the
    /// environment (`PostgresURL.hidingPassword`), so no output can show it.
    static func databaseSources(_ node: Node, file: String) throws -> Node {
        var root = node
        func url(_ m: Node, _ key: String) throws -> String {
            guard let u = m["url"]?.string, PostgresURL.isURL(u) else {
                throw StrataError.invalidArgument("\(file): \(key).url must be a postgresql:// URL")
            }
            return PostgresURL.hidingPassword(PostgresURL.compose(url: u, query: m["query"]?.string, table: m["table"]?.string, passwordEnv: m["password_env"]?.string))
        }
        if let c = root["customers"], c.mapping != nil {
            if let extra = c.mapping!.keys.compactMap(\.string).first(where: { !["url", "query", "table", "password_env"].contains($0) }) {
                throw StrataError.invalidArgument("\(file): unknown option 'customers.\(extra)'; a database source has url, query or table, and password_env")
            }
            set(&root, path: ["customers"], scalar(try url(c, "customers")))
        }
        if let t = root["transactions"], let m = t.mapping, m["url"] != nil {
            if m["path"] != nil { throw StrataError.invalidArgument("\(file): transactions has both path and url; give one") }
            var pairs = m.filter { !["url", "query", "table", "password_env"].contains($0.key.string ?? "") }.map { ($0.key, $0.value) }
            pairs.insert((scalar("path"), scalar(try url(t, "transactions"))), at: 0)
            set(&root, path: ["transactions"], mapping(pairs))
        }
        for path in [["customers"], ["transactions", "path"], ["assignments_table"], ["features_table"], ["profiles_table"]] {
            var n: Node? = root
            for k in path { n = n?[k] }
            if let s = n?.string, PostgresURL.isURL(s) { set(&root, path: path, scalar(PostgresURL.hidingPassword(s))) }
        }
        return root
    }

    /// The resolver YAMLDecoder itself uses: scalars stay text until decoded as their key's type.
    /// Nodes made from flags use it too, so their keys compare equal to the file's.
    static let resolver = Resolver.basic.appending(.merge)

    static func scalar(_ text: String) -> Node { Node(text, Tag(.implicit, resolver)) }
    static func mapping(_ pairs: [(Node, Node)]) -> Node { Node(pairs, Tag(.implicit, resolver)) }

    /// Removes `key` from a mapping node.
    static func remove(_ node: inout Node, _ key: String) {
        guard let m = node.mapping else { return }
        node = mapping(m.filter { $0.key.string != key }.map { ($0.key, $0.value) })
    }

    /// Every key of a mapping node, dotted (`transactions.path`).
    static func dottedKeys(_ node: Node, prefix: String = "") -> [String] {
        guard let m = node.mapping else { return [] }
        return m.flatMap { k, v -> [String] in
            let key = prefix + (k.string ?? "")
            return [key] + dottedKeys(v, prefix: key + ".")
        }
    }

    /// YAML merge keys (`<<: *defaults`) flattened into their mapping: keys already there win.
    static func flattenMerges(_ node: Node) -> Node {
        if let seq = node.sequence { return Node(seq.map(flattenMerges), Tag(.implicit, resolver)) }
        guard let m = node.mapping else { return node }
        var pairs: [(Node, Node)] = m.filter { $0.key.string != "<<" }.map { ($0.key, flattenMerges($0.value)) }
        for (k, v) in m where k.string == "<<" {
            let sources = v.sequence.map(Array.init) ?? [v]
            for source in sources {
                for (sk, sv) in flattenMerges(source).mapping ?? [:] where !pairs.contains(where: { $0.0.string == sk.string }) {
                    pairs.append((sk, sv))
                }
            }
        }
        return mapping(pairs)
    }

    /// Job files are small: at most 1 MiB, and at most `maxNodes` values once YAML aliases are
    /// expanded (ten nested aliases of ten would otherwise expand to 10^10 values).
    static let maxJobFileBytes = 1 << 20
    static let maxNodes = 100_000

    static func parse(_ path: String) throws -> Node {
        if let size = try? fileSizeOf(path), size > maxJobFileBytes {
            throw StrataError.invalidArgument("\(path): the job file is \(size) bytes; job files are at most 1 MiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw StrataError.unreadable(path: path, reason: "cannot read the job file") }
        guard data.count <= maxJobFileBytes else { throw StrataError.invalidArgument("\(path): job files are at most 1 MiB") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StrataError.invalidArgument("\(path): the job file is not UTF-8 text")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text, resolver) } catch {
            throw StrataError.invalidArgument("\(path): not valid YAML or JSON: \(describeYAMLError(error))")
        }
        guard let node else { throw StrataError.invalidArgument("\(path): the job file is empty") }
        guard node.mapping != nil else {
            throw StrataError.invalidArgument("\(path): the job file must be a mapping of option names to values")
        }
        var budget = maxNodes
        guard withinBudget(node, &budget) else {
            throw StrataError.invalidArgument("\(path): the job file expands to more than \(maxNodes) values (nested YAML aliases?); write the values out")
        }
        return flattenMerges(node)
    }

    /// Counts nodes (aliases expanded) until `budget` runs out: O(min(nodes, budget)).
    static func withinBudget(_ node: Node, _ budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        if let m = node.mapping { for (k, v) in m { guard withinBudget(k, &budget), withinBudget(v, &budget) else { return false } } }
        if let q = node.sequence { for v in q { guard withinBudget(v, &budget) else { return false } } }
        return true
    }


    /// Sets `value` at `path` (creating mappings on the way), replacing the entry whose key has
    /// the same text (keys are compared as strings, whatever tag the parser gave them).
    static func set(_ node: inout Node, path: [String], _ value: Node) {
        guard let first = path.first else { node = value; return }
        var pairs = node.mapping.map { Array($0) } ?? []
        let index = pairs.firstIndex { $0.key.string == first }
        var child = index.map { pairs[$0].value } ?? mapping([])
        if path.count > 1 && child.mapping == nil { child = mapping([]) }
        set(&child, path: Array(path.dropFirst()), value)
        if let index { pairs[index].value = child } else { pairs.append((key: scalar(first), value: child)) }
        node = mapping(pairs.map { ($0.key, $0.value) })
    }

    /// The key structure of a node (for the unknown-key check): mappings as dictionaries.
    static func keys(of node: Node) -> Any {
        guard let m = node.mapping else { return 0 }
        var out: [String: Any] = [:]
        for (k, v) in m { out[k.string ?? "\(k)"] = keys(of: v) }
        return out
    }
}
