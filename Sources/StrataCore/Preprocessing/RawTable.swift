import Foundation

/// A customer table before preprocessing: numeric columns as Float with NaN for missing values,
/// categorical columns as strings ("" for missing), plus ids and the file line of every row (for
/// error messages after rows were dropped).
public struct RawTable: Sendable {
    public var source: String
    public var rows: Int
    public var numericNames: [String]
    /// Column-major: numeric[c][i].
    public var numeric: [[Float]]
    public var categoricalNames: [String]
    public var categorical: [[String]]
    public var idColumn: String?
    public var ids: [String]?
    public var lines: [Int]
    /// What the reader noticed and the user should hear (columns ignored, cells read as missing,
    /// a row-number column used as a feature).
    public var warnings: [String] = []
    /// Sample weights (non-negative, finite) and their column; nil: all 1. They are not a
    /// feature: preprocessing statistics ignore them, the model uses them.
    public var weightsColumn: String? = nil
    public var weights: [Float]? = nil

    public init(source: String, rows: Int, numericNames: [String], numeric: [[Float]], categoricalNames: [String],
                categorical: [[String]], idColumn: String?, ids: [String]?, lines: [Int]) {
        self.source = source; self.rows = rows; self.numericNames = numericNames; self.numeric = numeric
        self.categoricalNames = categoricalNames; self.categorical = categorical; self.idColumn = idColumn; self.ids = ids; self.lines = lines
    }
}
