import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// A synthetic customer table for the demo: customers drawn from a few behavioural personas
/// (loyal high spenders, bargain hunters, lapsed, new, occasional) with realistic skew.
/// Deterministic for a seed.
public enum DemoData {
    public static let columns = ["recency_days", "orders_per_year", "avg_order_value", "tenure_years", "discount_share"]

    struct Persona {
        let name: String
        let share: Double
        let recency: Double, orders: Double, aov: Double, tenure: Double, discount: Double
    }

    static let personas: [Persona] = [
        Persona(name: "loyal high spenders", share: 0.15, recency: 12, orders: 24, aov: 140, tenure: 6, discount: 0.05),
        Persona(name: "bargain hunters", share: 0.25, recency: 30, orders: 14, aov: 35, tenure: 3, discount: 0.55),
        Persona(name: "lapsed", share: 0.20, recency: 300, orders: 2, aov: 60, tenure: 5, discount: 0.15),
        Persona(name: "new", share: 0.15, recency: 20, orders: 3, aov: 55, tenure: 0.3, discount: 0.25),
        Persona(name: "occasional", share: 0.25, recency: 110, orders: 5, aov: 75, tenure: 2.5, discount: 0.2),
    ]

    /// Raw table: ids `C0000001`..., five features in natural units.
    public static func generate(rows: Int, seed: UInt64) -> Dataset {
        var rng = SeededRandom(seed: seed)
        func normal() -> Double { rng.nextGaussian() }
        let cumulative = personas.reduce(into: [Double]()) { $0.append(($0.last ?? 0) + $1.share) }
        var values = [Float]()
        values.reserveCapacity(rows * columns.count)
        var ids = [String]()
        ids.reserveCapacity(rows)
        for i in 0..<rows {
            let u = rng.nextUnit() * cumulative.last!
            let p = personas[cumulative.firstIndex { u < $0 } ?? personas.count - 1]
            let recency = min(730, max(0, p.recency * exp(0.35 * normal())))
            let orders = max(1, (p.orders * exp(0.3 * normal())).rounded())
            let aov = max(5, p.aov * exp(0.3 * normal()))
            let tenure = max(0.05, p.tenure * exp(0.3 * normal()))
            let discount = min(1, max(0, p.discount + 0.08 * normal()))
            for v in [recency.rounded(), orders, (aov * 100).rounded() / 100, (tenure * 100).rounded() / 100, (discount * 1000).rounded() / 1000] {
                values.append(Float(v))
            }
            ids.append(String(format: "C%07d", i + 1))
        }
        return Dataset(rows: rows, cols: columns.count, values: values, columns: columns, idColumn: "customer_id", ids: ids, source: "demo")
    }

    /// CSV text of a dataset with its id column first.
    public static func csv(_ data: Dataset) -> Data {
        var s = ([data.idColumn ?? "id"] + data.columns).joined(separator: ",") + "\n"
        s.reserveCapacity(data.rows * (12 + 10 * data.cols))
        for i in 0..<data.rows {
            s += CSVOutput.field(data.id(i))
            for j in 0..<data.cols { s += ","; s += "\(data.values[i * data.cols + j])" }
            s += "\n"
        }
        return Data(s.utf8)
    }
}
