import StrataCore

/// What the first rows of a CSV say about each column: how many values parse as numbers, how
/// many are text, and (up to 51) distinct values. One sampling pass shared by every reader of
/// customer tables, so `kmeans`, `segment` and `predict` classify columns the same way.
///
/// A column is numeric when at least half of its non-empty sampled values are numbers: its other
/// cells are then errors (or, with imputation, missing values), never a reason to drop the
/// column. It is text when most values are not numbers; empty when it has no value at all.
package struct ColumnSniff {
    package var header: [String]
    package var numbers: [Int]
    package var texts: [Int]
    /// Up to 51 distinct values per column (51 means "more than 50").
    package var distinct: [Set<String>]
    /// The first non-number in each column: line and text.
    package var firstText: [(line: Int, value: String)?]
    package var sampledRows = 0

    /// Rows sampled.
    package static let sampleRows = 1000

    /// Samples up to `sampleRows` records from `tokenizer` (positioned after the header; a copy
    /// is advanced, so the caller's position is unchanged). Ragged rows are skipped here (the
    /// full pass reports them).
    package init(header: [String], from tokenizer: CSVTokenizer) throws {
        self.header = header
        let n = header.count
        numbers = [Int](repeating: 0, count: n)
        texts = [Int](repeating: 0, count: n)
        distinct = [Set<String>](repeating: [], count: n)
        firstText = [(line: Int, value: String)?](repeating: nil, count: n)
        var probe = tokenizer
        var fields: [FieldSpan] = []
        while sampledRows < Self.sampleRows, let line = try probe.next(into: &fields) {
            sampledRows += 1
            guard fields.count == n else { continue }
            for (j, f) in fields.enumerated() {
                switch probe.number(f) {
                case .value, .nonFinite: numbers[j] += 1
                case .empty: continue
                case .notANumber:
                    texts[j] += 1
                    if firstText[j] == nil { firstText[j] = (line, probe.string(f)) }
                }
                if distinct[j].count <= 50 { distinct[j].insert(probe.string(f).trimmingCharacters(in: .whitespaces)) }
            }
        }
    }

    package func isNumeric(_ j: Int) -> Bool { numbers[j] > 0 && numbers[j] >= texts[j] }
    package func isText(_ j: Int) -> Bool { texts[j] > numbers[j] }
    package func isEmpty(_ j: Int) -> Bool { numbers[j] == 0 && texts[j] == 0 }

    /// A text column that can be one-hot encoded: at most 50 distinct values, and values repeat
    /// (at most half as many distinct values as sampled values), so free text such as names or
    /// e-mail addresses never becomes hundreds of indicator columns.
    package func isCategorical(_ j: Int) -> Bool {
        isText(j) && distinct[j].count <= 50 && distinct[j].count * 2 <= texts[j] + numbers[j]
    }
}

/// A numeric column of unique, increasing integers in steps of one (0, 1, 2, ... or 1001, 1002,
/// ...), or at least 50 of them with few gaps (span at most twice the count), is most likely a
/// row number or a sequential id, which must not silently become a feature.
package func looksLikeRowNumber(_ values: some Collection<Float>) -> Bool {
    guard values.count >= 5, let first = values.first else { return false }
    var previous = -Float.infinity
    var unitSteps = true
    for v in values {
        guard v == v.rounded(), v > previous else { return false }
        if previous != -.infinity, v - previous != 1 { unitSteps = false }
        previous = v
    }
    return unitSteps || (values.count >= 50 && Double(previous - first) <= 2 * Double(values.count))
}
