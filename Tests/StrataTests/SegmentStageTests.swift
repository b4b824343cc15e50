import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

/// In-process tests of each `strata segment` stage (the end-to-end runs are in StrataCLITests).
@Suite struct SegmentStageTests {
    /// Three customers with hand-countable orders, plus one with no orders.
    func smallInputs(_ dir: String) throws -> SegmentConfig {
        let customers = "customer_id,age,region\nA,30,north\nB,40,south\nC,50,north\nD,60,south\n"
        let orders = """
            customer_id,date,amount,product
            A,2024-01-01,10,p1
            A,2024-01-08,30,p2
            A,2024-01-08,5,p1
            B,2024-01-05,100,p3
            C,2024-01-02,20,p1
            C,2024-01-10,40,p2
            C,2024-01-15,60,p3

            """
        try customers.write(toFile: dir + "/customers.csv", atomically: true, encoding: .utf8)
        try orders.write(toFile: dir + "/orders.csv", atomically: true, encoding: .utf8)
        var c = SegmentConfig()
        c.customers = dir + "/customers.csv"
        var t = SegmentConfig.Transactions(path: dir + "/orders.csv")
        t.clv = false
        t.productColumn = "product"
        c.transactions = t
        c.out = dir + "/out"
        return c
    }

    @Test func inputsJoinTheOrderLogAndHashWhileReading() throws {
        let dir = temporaryDirectory()
        let c = try smallInputs(dir)
        let i = try SegmentInputs.read(c, threads: 2, log: { _ in })
        #expect(i.raw.rows == 4)
        #expect(i.raw.categoricalNames == ["region"])
        #expect(i.raw.numericNames == ["age", "recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days"])
        func col(_ name: String) -> [Float] { i.raw.numeric[i.raw.numericNames.firstIndex(of: name)!] }
        // As of the last order day (2024-01-15): A bought on 2 days for 45, last 7 days ago.
        #expect(col("frequency") == [2, 1, 3, 0])
        #expect(col("monetary_total") == [45, 100, 120, 0])
        #expect(col("recency_days")[0] == 7 && col("recency_days")[2] == 0)
        #expect(col("recency_days")[3].isNaN)   // no purchase yet: unknown, imputed later
        #expect(i.counts.transactions == 7 && i.counts.customersWithoutTransactions == 1)
        #expect(i.extras.rfmSegment?[3] == "No purchases")
        // Checksums taken while reading equal a separate hash of each file.
        #expect(i.files.map(\.path) == [c.customers!, c.transactions!.path])
        for f in i.files {
            let (bytes, hex) = try FileChecksum.sha256(path: f.path)
            #expect(f.bytes == bytes && f.sha256 == hex)
        }
        // A known SHA-256 (of "abc"), so the hasher itself is checked.
        var h = FileChecksum()
        Array("abc".utf8).withUnsafeBytes { h.update($0) }
        #expect(h.finalize() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func featuresChooseSkewedNonNegativeColumnsForLog1p() throws {
        var rng = SeededRandom(seed: 5)
        let n = 2000
        let spend = (0..<n).map { _ in Float(exp(3 * rng.nextUnit())) }       // right-skewed, >= 0
        let balance = (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) }     // symmetric, negative values
        let skewedNegative = spend.map { $0 - 10 }                              // skewed but negative
        let raw = RawTable(source: "t", rows: n, numericNames: ["spend", "balance", "shifted"], numeric: [spend, balance, skewedNegative],
                           categoricalNames: [], categorical: [], idColumn: nil, ids: nil, lines: Array(1...n))
        #expect(SegmentFeatures.autoLogColumns(raw) == ["spend"])

        var c = SegmentConfig()
        c.customers = "t"
        c.pca = 2
        let f = try SegmentFeatures.build(SegmentInputs(raw: raw), config: c, threads: 2, steps: SegmentSteps(log: { _ in }))
        #expect(f.logColumns == ["spend"])
        #expect(f.preprocessed.cols == 3 && f.data.cols == 2 && f.data.rows == n)
        // Standard scaling: every preprocessed column has mean ~0 and variance ~1.
        for j in 0..<3 {
            let v = (0..<n).map { Double(f.preprocessed.values[$0 * 3 + j]) }
            let mean = v.reduce(0, +) / Double(n)
            let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-3)
        }
        // One place goes back to original units: a preprocessed row through PCA and back.
        let row = (0..<2).map { Double(f.data.values[$0]) }
        let back = try #require(f.stages.originalUnits(row))
        #expect(back.count == 3)

        c.pca = 4
        #expect(throws: StrataError.invalidSetting("pca", "4 exceeds the 3 model features")) {
            _ = try SegmentFeatures.build(SegmentInputs(raw: raw), config: c, threads: 2, steps: SegmentSteps(log: { _ in }))
        }
    }

    @Test func kSelectionHonoursAFixedKAndSweepsOtherwise() throws {
        let (m, _) = blobs(k: 3, d: 2, perCluster: 200, spread: 0.5, seed: 9)
        let data = Dataset(m)
        var c = SegmentConfig()
        c.k = 5
        let steps = SegmentSteps(log: { _ in })
        #expect(try KSelection.choose(data, config: c, threads: 2, steps: steps).k == 5)
        #expect(try KSelection.choose(data, config: c, threads: 2, steps: steps).record == nil)
        c.k = 601
        #expect(throws: StrataError.invalidSetting("k", "601 exceeds the 600 customers")) {
            _ = try KSelection.choose(data, config: c, threads: 2, steps: steps)
        }
        c.k = nil
        c.kMin = 2; c.kMax = 6
        let s = try KSelection.choose(data, config: c, threads: 2, steps: steps)
        #expect(s.k == 3)                                   // three well-separated blobs
        #expect(s.record?.points.map(\.k) == [2, 3, 4, 5, 6])
        #expect(steps.steps.map(\.step) == ["choose k"])
    }

    @Test func projectionIsFittedOnThePlottedSample() throws {
        let (m, truth) = blobs(k: 2, d: 3, perCluster: 500, spread: 1, seed: 4)
        let data = Dataset(m)
        let labels = truth.map(Int32.init)
        let raw = RawTable(source: "t", rows: 1000, numericNames: ["a", "b", "c"], numeric: (0..<3).map { j in (0..<1000).map { m[$0, j] } },
                           categoricalNames: [], categorical: [], idColumn: nil, ids: nil, lines: Array(1...1000))
        let p = SegmentProfiler.profile(raw: raw, model: data, labels: labels, k: 2, minSize: 1, extras: ProfileExtras(), threads: 2)
        let proj = try Projection.make(data, labels: labels, profiles: p, k: 2, sample: 100, seed: 1, threads: 2)
        #expect(proj.points.count == 100)
        // The plotted points are centred: a PCA fitted on exactly them has zero-mean scores.
        let mx = proj.points.reduce(0) { $0 + $1.x } / 100, my = proj.points.reduce(0) { $0 + $1.y } / 100
        #expect(abs(mx) < 1e-4 && abs(my) < 1e-4)
        #expect(proj.explained.count == 2 && proj.explained.reduce(0, +) <= 1 + 1e-9)
    }

    @Test func closedChoicesParseOnceAndListValidValues() throws {
        #expect(PreprocessOptions.Impute("constant:2.5") == .constant(2.5))
        #expect(PreprocessOptions.Impute("most_frequent")?.description == "most_frequent")
        #expect(PreprocessOptions.Impute("medain") == nil)
        #expect(PreprocessOptions.Clip("quantile") == .quantiles(0.01, 0.99))
        #expect(PreprocessOptions.Clip("quantile:0.05:0.95")?.description == "quantile:0.05:0.95")
        #expect(PreprocessOptions.Clip("quantile:0.9:0.1") == nil)
        #expect(PreprocessOptions.Clip("iqr:3")?.description == "iqr:3" && PreprocessOptions.Impute("constant:0")?.description == "constant:0")
        #expect(TransactionOptions.Delimiter("tab") == .tab && TransactionOptions.Delimiter(";")?.description == ";")
        #expect(CovarianceType("ful") == nil)
        #expect(CovarianceType.invalidMessage("ful") == "'ful' is not valid; valid values: full, diag, tied, spherical")
        // Job files decode through the same string forms; a bad value names the key.
        let good = try JSONDecoder().decode(SegmentConfig.self, from: Data(#"{"impute": "constant:0", "clip": "iqr:2", "algorithm": "gmm"}"#.utf8))
        #expect(good.impute == .constant(0) && good.clip == .iqr(2) && good.algorithm == .gmm && good.scale == .standard)
        do {
            _ = try JSONDecoder().decode(SegmentConfig.self, from: Data(#"{"scale": "zscore"}"#.utf8))
            Issue.record("a bad scale decoded")
        } catch {
            let e = SegmentConfig.describe(error, file: "job.json")
            #expect(e == .invalidArgument("job.json: scale: 'zscore' is not valid; valid values: none, standard, robust, minmax"))
        }
        // Recorded config: same string forms, booleans as JSON booleans, the salt masked.
        var c = SegmentConfig()
        c.salt = "secret"
        let text = String(decoding: try JSONOutput.line(c.recorded), as: UTF8.self)
        #expect(text.contains(#""clip":"quantile:0.01:0.99""#) && text.contains(#""report":true"#) && text.contains(#""salt":"***""#))
    }

    @Test func theJobRunsInProcessAndReturnsItsRecord() throws {
        let dir = temporaryDirectory()
        var c = try smallInputs(dir)
        // Enough customers to segment: 300, in two planted age groups, each with 1-3 orders.
        var lines = "customer_id,age,region\n", orders = "customer_id,date,amount,product\n"
        for i in 0..<300 {
            lines += "c\(i),\(i % 2 == 0 ? 20 + i % 7 : 70 + i % 5),\(i % 3 == 0 ? "north" : "south")\n"
            for o in 0...(i % 3) { orders += "c\(i),2024-01-\(10 + o + i % 5),\(10 + i % 11),p\(o)\n" }
        }
        try lines.write(toFile: c.customers!, atomically: true, encoding: .utf8)
        try orders.write(toFile: c.transactions!.path, atomically: true, encoding: .utf8)
        c.exclude = ["recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days"]
        c.k = 2
        c.minSegmentSize = 10
        var logged: [String] = []
        let r = try SegmentJob.run(c, log: { logged.append($0) })
        #expect(r.record.k == 2 && r.record.kChosenBy == "fixed")
        #expect(r.record.counts.customersRead == 300 && r.record.counts.customersModelled == 300)
        let sizes = r.record.segmentSizes.compactMap { $0 }   // none below min_segment_size 10
        #expect(sizes.count == 2 && sizes.reduce(0, +) == 300 && sizes == sizes.sorted(by: >))
        #expect(r.record.steps.map(\.step) == ["read", "preprocess", "fit", "profile", "affinity", "project", "write"])
        #expect(logged.count == r.record.steps.count + 2)    // plus the two input lines
        #expect(r.groups.count == 2 && r.migration == nil)
        // The ages split the customers exactly: every customer of a segment is on one side of 50.
        let assignments = try String(contentsOfFile: c.out + "/assignments.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        var sideOfSegment: [String: Set<Bool>] = [:]
        for line in assignments {
            let f = line.split(separator: ",")
            let i = Int(f[0].dropFirst())!
            sideOfSegment[String(f[1]), default: []].insert(i % 2 == 0)
        }
        #expect(sideOfSegment.values.allSatisfy { $0.count == 1 })
        // run.json on disk is the returned record before the write step.
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: c.out + "/run.json"))) as! [String: Any]
        #expect(run["k"] as? Int == 2)
        #expect((run["steps"] as? [[String: Any]])?.count == r.record.steps.count - 1)
        #expect((run["outputs"] as? [String: String])?.keys.sorted() == ["affinity", "assignments", "features", "model", "profiles", "profiles_csv", "report", "run", "segments"])
    }
}

/// The settings table is the one definition of the job's keys and flags: it must cover the
/// config exactly, and flags must land where the job file's keys do.
@Suite struct SegmentSettingsTests {
    @Test func everyJobKeyHasExactlyOneFlagAndEveryFlagAKey() {
        let blocks: Set<String> = ["transactions", "campaign", "monitor", "products"]
        let top: [String] = SegmentConfig.CodingKeys.allCases.map(\.rawValue).filter { !blocks.contains($0) }
        let transactions: [String] = SegmentConfig.Transactions.CodingKeys.allCases.map { "transactions." + $0.rawValue }
        let campaign: [String] = CampaignSettings.CodingKeys.allCases.map { "campaign." + $0.rawValue }
        let monitor: [String] = MonitorSettings.keys.map { "monitor." + $0 }
        let products: [String] = ProductTableSettings.keys.map { "products." + $0 }
        let configKeys = top + transactions + campaign + monitor + products
        let tableKeys = SegmentSettings.all.map(\.key)
        #expect(Set(tableKeys) == Set(configKeys))
        #expect(Set(tableKeys).count == tableKeys.count)
        #expect(Set(SegmentSettings.all.map(\.flag)).count == tableKeys.count)
    }

    @Test func flagsOverrideTheJobFileThroughTheSameDecoding() throws {
        let dir = temporaryDirectory()
        try """
            customers: c.csv
            k_max: 7
            impute: mean
            transactions:
              path: t.csv
              clv: true
            names:
              "0": Core
            """.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let r = try SegmentSettings.resolve(jobFile: dir + "/job.yaml", flags: [
            "--k-max", "5", "--impute=constant:0", "--no-clv", "--date-column", "day", "--delimiter", "tab",
            "--columns", "a, b", "--log", "none", "--name", "1=Lapsed", "--role", "recency=days_since", "--clip", "iqr:3",
        ])
        let c = r.config
        #expect(c.customers == "c.csv" && c.kMax == 5 && c.impute == .constant(0) && c.clip == .iqr(3))
        #expect(c.transactions?.path == "t.csv" && c.transactions?.clv == false && c.transactions?.dateColumn == "day")
        #expect(c.transactions?.delimiter == .tab)
        #expect(c.columns == ["a", "b"] && c.log == [])
        #expect(c.names == ["0": "Core", "1": "Lapsed"] && c.roles == ["recency": "days_since"])
        #expect(r.flagOf["k_max"] == "k-max" && r.flagOf["customers"] == nil)
        // Errors name what the user wrote: the flag, or the job file and key.
        #expect(r.settingError("k_max", "too big").description == "--k-max: too big")
        #expect(r.settingError("customers", "missing").description == "\(dir)/job.yaml: customers: missing")
        #expect(throws: StrataError.invalidArgument("unknown option '--k-mx'; did you mean '--k-max'?")) {
            _ = try SegmentSettings.resolve(jobFile: nil, flags: ["--k-mx", "3"])
        }
        #expect(throws: StrataError.invalidArgument("--k-max: 'many' is not a number")) {
            _ = try SegmentSettings.resolve(jobFile: nil, flags: ["--customers", "c.csv", "--k-max", "many"])
        }
        #expect(throws: StrataError.invalidArgument("--scale: 'z' is not valid; valid values: none, standard, robust, minmax")) {
            _ = try SegmentSettings.resolve(jobFile: nil, flags: ["--scale", "z"])
        }
    }
}

/// Job files and flags as users write them (cases found by trying the refactored parser against
/// the previous release).
@Suite struct SegmentJobFileCompatibilityTests {
    func job(_ text: String) throws -> String {
        let path = temporaryDirectory() + "/job.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func orderLogFlagsWithoutAnOrderLog() throws {
        // Options with nothing to apply to are left aside; a column named for no order log is an error.
        let r = try SegmentSettings.resolve(jobFile: nil, flags: ["--customers", "c.csv", "--no-clv", "--strict", "--delimiter", ";"])
        #expect(r.config.transactions == nil)
        #expect(throws: StrataError.invalidArgument("order-log column options need --transactions (or transactions.path in the job file); got --date-column")) {
            _ = try SegmentSettings.resolve(jobFile: nil, flags: ["--customers", "c.csv", "--date-column", "day"])
        }
        // An empty or null order log in a job file is no order log.
        for empty in ["transactions:\n", "transactions: ~\n", "transactions: {}\n"] {
            #expect(try SegmentSettings.resolve(jobFile: job("customers: c.csv\n" + empty), flags: []).config.transactions == nil)
        }
        // A job file's order log without a path is that file's error, naming the key.
        let noPath = try job("customers: c.csv\ntransactions:\n  date_column: d\n")
        #expect(throws: StrataError.invalidArgument("\(noPath): transactions.path: required key is missing")) {
            _ = try SegmentSettings.resolve(jobFile: noPath, flags: [])
        }
    }

    @Test func numbersReadAsWrittenAndMergeKeysFlattened() throws {
        let r = try SegmentSettings.resolve(jobFile: nil, flags: ["--customers", "c.csv", "--seed", "010", "--k-max", "08", "--clv-discount", "0.5"])
        #expect(r.config.seed == 10 && r.config.kMax == 8)
        #expect(throws: StrataError.invalidArgument("--k: '0x3' is not a number")) {
            _ = try SegmentSettings.resolve(jobFile: nil, flags: ["--k", "0x3"])
        }
        let merged = try SegmentSettings.resolve(jobFile: try job("""
            defaults: &d
              k: 3
              seed: 7
            customers: c.csv
            <<: *d
            seed: 9
            """.replacingOccurrences(of: "defaults: &d\n  k: 3\n  seed: 7\n", with: "")
            .replacingOccurrences(of: "<<: *d", with: "<<: {k: 3, seed: 7}")), flags: [])
        #expect(merged.config.k == 3 && merged.config.seed == 9)
    }

    @Test func anInvalidChoiceInAJobFileIsAUsageError() throws {
        let path = try job("customers: c.csv\nimpute: bogus\n")
        #expect(throws: StrataError.invalidArgument("\(path): impute: 'bogus' is not valid; valid values: none, drop, mean, median, most_frequent, constant:V")) {
            _ = try SegmentSettings.resolve(jobFile: path, flags: [])
        }
        // Every job-file mistake is a usage error (exit 64), as the same mistake in a flag:
        // a value of the wrong type, an unknown key.
        let wrongType = try job("customers: c.csv\nk: three\n")
        #expect(throws: StrataError.invalidArgument("\(wrongType): k: expected a value of type Int")) {
            _ = try SegmentSettings.resolve(jobFile: wrongType, flags: [])
        }
        let unknown = try job("customers: c.csv\nk_mx: 3\n")
        #expect(throws: StrataError.invalidArgument("\(unknown): unknown option 'k_mx'; did you mean 'k_max'?")) {
            _ = try SegmentSettings.resolve(jobFile: unknown, flags: [])
        }
    }
}

/// The model, description and outputs stages on planted data, in-process.
@Suite struct SegmentModelAndDescriptionTests {
    /// 3 groups of 300, 200 and 100 customers, far apart on two features.
    func planted() -> (RawTable, SegmentFeatures) {
        var rng = SeededRandom(seed: 8)
        let sizes = [100, 300, 200], centers: [[Float]] = [[0, 0], [20, 5], [-15, 30]]
        var a: [Float] = [], b: [Float] = [], ids: [String] = []
        for (g, n) in sizes.enumerated() {
            for i in 0..<n {
                a.append(centers[g][0] + Float(rng.nextGaussian())); b.append(centers[g][1] + Float(rng.nextGaussian()))
                ids.append("g\(g)-\(i)")
            }
        }
        let raw = RawTable(source: "t", rows: 600, numericNames: ["a", "b"], numeric: [a, b], categoricalNames: [], categorical: [],
                           idColumn: "id", ids: ids, lines: Array(2...601))
        var c = SegmentConfig()
        c.customers = "t"
        c.clip = .none
        let f = try! SegmentFeatures.build(SegmentInputs(raw: raw), config: c, threads: 2, steps: SegmentSteps(log: { _ in }))
        return (raw, f)
    }

    @Test func modelSegmentsAreRenumberedBySizeAndRecoverThePlantedGroups() throws {
        let (raw, f) = planted()
        var c = SegmentConfig()
        c.seed = 3
        for algorithm in [ClusteringAlgorithm.kmeans, .gmm] {
            c.algorithm = algorithm
            let m = try SegmentModel.fit(f.data, k: 3, config: c, threads: 2)
            #expect(ClusterLabels.counts(m.labels, k: 3) == [300, 200, 100])   // largest first
            // Every planted group is one segment: segment 0 is the group of 300 ("g1-").
            for (i, id) in raw.ids!.enumerated() {
                let expected: Int32 = id.hasPrefix("g1-") ? 0 : id.hasPrefix("g2-") ? 1 : 2
                #expect(m.labels[i] == expected, "\(algorithm) \(id)")
            }
            #expect(m.summary.algorithm == algorithm && m.centers.count == 3)
        }
    }

    @Test func descriptionAndOutputsDescribeEveryCustomerOnce() throws {
        let (_, f) = planted()
        var c = SegmentConfig()
        c.customers = "t"
        c.out = temporaryDirectory()
        c.minSegmentSize = 150   // the segment of 100 is alone under the threshold: other is suppressed
        c.names = ["1": "Northerners"]
        let steps = SegmentSteps(log: { _ in })
        let m = try SegmentModel.fit(f.data, k: 3, config: c, threads: 2)
        let d = try SegmentDescription.describe(f, labels: m.labels, k: 3, config: c, threads: 2, steps: steps)
        #expect(steps.steps.map(\.step) == ["profile", "project"])
        #expect(d.profiles.segments.map(\.size) == [300, 200] && d.profiles.other == nil && d.profiles.otherSuppressed)
        #expect(d.profiles.smallSegments == [2] && d.profiles.population.size == 500 && d.profiles.population.share == 1)
        #expect(d.profiles.segments.map(\.share) == [0.6, 0.4])
        #expect(d.names.count == 3 && d.names[1] == "Northerners" && Set(d.names).count == 3)
        #expect(d.rules.tree.accuracy > 0.99)                       // two features separate the groups
        #expect(d.projection.points.count == 500)                    // the 100 of segment 2 are not plotted
        #expect(d.rules.rules.allSatisfy { $0.segment != nil && $0.customers >= 150 })

        var record = SegmentJob.runRecord(c, started: Date(), threads: 2, steps: steps.steps, inputs: SegmentInputs(raw: f.raw),
                                          features: f, selection: KSelection(k: 3, sweep: nil), model: m, description: d)
        let files = try SegmentOutputs.write(.init(config: c, features: f, selection: KSelection(k: 3, sweep: nil), model: m, description: d,
                                                   migration: nil, clvModel: nil, ids: (0..<600).map { f.data.id($0) }), record: &record)
        #expect(files.keys.sorted() == ["assignments", "model", "profiles", "profiles_csv", "report", "run", "segments"])
        #expect(record.outputs.keys.sorted() == ["assignments", "model", "profiles", "profiles_csv", "report", "run", "segments"])
        let rows = try String(contentsOfFile: c.out + "/assignments.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 601 && rows[0] == "customer_id,segment_id,segment_name,distance")
        #expect(rows.dropFirst().filter { $0.contains(",1,Northerners,") }.count == 200)
        #expect(record.segmentSizes == [300, 200, nil] && record.reportableSegments == 2 && record.mergedIntoOther == [2])
    }
}
