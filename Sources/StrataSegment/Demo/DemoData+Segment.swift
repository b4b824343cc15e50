import StrataCore
import StrataCustomers
import StrataIO
import Foundation

extension DemoData {
    /// The last day of the demo order log (fixed, so the demo is reproducible).
    public static let demoEndDay = CivilDate.days(year: 2026, month: 6, day: 30)

    /// Inputs for `strata segment --demo`: a customer table (customer_id, region, channel, age,
    /// discount_share; about 3% of ages missing) and an order log (customer_id, date, amount,
    /// product) over three years, both drawn from the demo personas. Deterministic for a seed.
    ///
    /// About 26 orders per customer on average: 20,000 customers give ~0.5M order lines.
    public static func segmentDemo(customers n: Int, seed: UInt64) -> (customers: Data, transactions: Data) {
        var rng = SeededRandom(seed: seed)
        func unit() -> Double { rng.nextUnit() }
        func normal() -> Double { rng.nextGaussian() }
        func pick(_ weights: [Double]) -> Int {
            let u = unit() * weights.reduce(0, +)
            var acc = 0.0
            for (i, w) in weights.enumerated() { acc += w; if u < acc { return i } }
            return weights.count - 1
        }
        let regions = ["north", "south", "east", "west"], channels = ["web", "store", "app"]
        // Per persona (DemoData.personas order): region and channel preferences, mean age.
        let regionWeights: [[Double]] = [[3, 2, 2, 1], [1, 3, 1, 2], [2, 2, 2, 2], [1, 1, 3, 2], [2, 1, 1, 3]]
        let channelWeights: [[Double]] = [[2, 3, 1], [5, 1, 2], [1, 2, 1], [2, 1, 5], [2, 2, 1]]
        let ages: [Double] = [52, 34, 47, 29, 41]
        let window = 3 * 365
        let products = 400
        // Zipf weights over products; each persona sees the catalogue rotated (different favourites).
        let zipf = (1...products).map { 1 / pow(Double($0), 1.1) }
        let zipfCumulative = zipf.reduce(into: [Double]()) { $0.append(($0.last ?? 0) + $1) }
        let cumulative = personas.reduce(into: [Double]()) { $0.append(($0.last ?? 0) + $1.share) }

        var customers = "customer_id,region,channel,age,discount_share\n"
        var orders = [UInt8]()
        orders.reserveCapacity(n * 26 * 40)
        orders += Array("customer_id,date,amount,product\n".utf8)
        for i in 0..<n {
            let u = unit() * cumulative.last!
            let pi = cumulative.firstIndex { u < $0 } ?? personas.count - 1
            let p = personas[pi]
            let id = String(format: "C%07d", i + 1)
            let age = max(18, min(90, ages[pi] + 9 * normal()))
            let discount = min(1, max(0, p.discount + 0.08 * normal()))
            customers += "\(id),\(regions[pick(regionWeights[pi])]),\(channels[pick(channelWeights[pi])]),"
            customers += (unit() < 0.03 ? "" : String(Int(age.rounded()))) + "," + String(format: "%.3f", discount) + "\n"

            // Lapsed customers used to buy often and stopped (so BG/NBD sees dropout).
            let lapsed = p.name == "lapsed"
            let tenure = min(Double(window), max(7, p.tenure * 365 * exp(0.3 * normal())))
            let recency = min(tenure, max(0, p.recency * (lapsed ? 1.3 : 1) * exp(0.35 * normal())))
            var first = demoEndDay - Int(tenure)
            let last = demoEndDay - Int(recency)
            let years = max(Double(last - first) / 365, 0.05)
            let count = max(1, min(250, Int((p.orders * (lapsed ? 4 : 1) * years * exp(0.3 * normal())).rounded())))
            if count == 1 { first = last }
            let aov = max(5, p.aov * exp(0.3 * normal()))
            let idBytes = Array(id.utf8)
            for o in 0..<count {
                let day = o == 0 ? first : o == count - 1 ? last : first + Int(unit() * Double(max(0, last - first)))
                let amount = max(1, aov * exp(0.25 * normal()))
                let r = unit() * zipfCumulative.last!
                var lo = 0, hi = products - 1
                while lo < hi { let mid = (lo + hi) / 2; if zipfCumulative[mid] < r { lo = mid + 1 } else { hi = mid } }
                let product = (lo + pi * 37) % products
                orders += idBytes
                orders += Array(",\(CivilDate.string(day)),\(String(format: "%.2f", amount)),P\(1000 + product)\n".utf8)
            }
        }
        return (Data(customers.utf8), Data(orders))
    }
}

extension DemoData {
    /// `strata segment --demo`: writes the demo customer table and order log into
    /// `OUT/demo-data/` (atomically) and points `c` at them, with the product column for ABC.
    /// - Throws: `StrataError.invalidArgument` when `c` already names inputs; `.unwritable`.
    public static func writeSegmentDemo(into c: inout SegmentConfig, customers: Int, log: (String) -> Void) throws {
        guard c.customers == nil && c.transactions == nil else {
            throw StrataError.invalidArgument("--demo brings its own data; leave out --customers / --transactions")
        }
        let dir = c.out + "/demo-data"
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw StrataError.unwritable(path: dir, reason: "cannot create the directory")
        }
        let (customersCSV, ordersCSV) = segmentDemo(customers: customers, seed: c.seed)
        var batch = OutputBatch()
        try batch.stage(customersCSV, to: dir + "/customers.csv")
        try batch.stage(ordersCSV, to: dir + "/transactions.csv")
        try batch.commit()
        log("demo data: \(customers) customers and their orders in \(dir)/ (customers.csv, transactions.csv)")
        c.customers = dir + "/customers.csv"
        var t = SegmentConfig.Transactions(path: dir + "/transactions.csv")
        t.productColumn = "product"
        c.transactions = t
    }
}
