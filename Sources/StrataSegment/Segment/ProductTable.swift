import Foundation
import StrataCore
import StrataIO

/// The job's `products:` block: a product table joined to the order log on the product id, whose
/// category columns become affinity levels beside the products ("department", "category").
public struct ProductTableSettings: Codable, Sendable, Equatable {
    /// CSV with one row per product.
    public var path: String
    /// The product id column (default `product_id`), matched to the order log's product column.
    public var productColumn: String = "product_id"
    /// Category columns, each an affinity level (`[department, category]`).
    public var columns: [String] = []

    public init(path: String) { self.path = path }

    enum CodingKeys: String, CodingKey, CaseIterable { case path, productColumn = "product_column", columns }
    static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        productColumn = try c.decodeIfPresent(String.self, forKey: .productColumn) ?? "product_id"
        columns = try c.decode([String].self, forKey: .columns)
    }

    /// Product id -> (level -> value), and the levels in column order.
    /// - Throws: `.unreadable`; `.badData`/`.invalidArgument` naming the file and column (a
    ///   missing column, a repeated product id).
    /// - Complexity: one pass over the table; memory O(products x levels).
    func load() throws -> (categories: [String: [String: String]], levels: [String]) {
        let t = try RawTable.read(path: path, numeric: [], categorical: columns, idColumn: productColumn, unparsable: .missing)
        var out: [String: [String: String]] = [:]
        out.reserveCapacity(t.rows)
        for i in 0..<t.rows {
            let id = t.ids![i]
            guard out[id] == nil else {
                throw StrataError.badData(file: path, line: t.lines[i], column: productColumn, message: "product id '\(Excerpt.of(id))' appears twice; one row per product")
            }
            var row: [String: String] = [:]
            for (j, level) in t.categoricalNames.enumerated() where !t.categorical[j][i].isEmpty { row[level] = t.categorical[j][i] }
            out[id] = row
        }
        return (out, t.categoricalNames)
    }
}
