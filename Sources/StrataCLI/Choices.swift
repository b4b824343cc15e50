import ArgumentParser
import Foundation
import Strata

// Closed choices parse once, at the flag, through the library's one string form
// (`SettingChoice`): an unknown value is a usage error listing the valid ones.

extension PreprocessOptions.Impute: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { validForms }
}

extension PreprocessOptions.Clip: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { validForms }
}

extension PreprocessOptions.Scale: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension ClusteringAlgorithm: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension Linkage: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension HDBSCANOptions.ClusterSelection: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension CovarianceType: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension PCASolver: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension KMeansAlgorithm: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension RFMOptions.Unit: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension RepeatPurchaseModelKind: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension ABC.Measure: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// `--route`: the nearest-centroid route, or auto (chosen per shape by `CentroidAssigner`).
enum RouteChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, simd, gemm
    /// nil for auto.
    var route: AssignmentRoute? { AssignmentRoute(rawValue: rawValue) }
}

extension TransactionOptions.Delimiter: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { validForms }
}

/// `--init` of `kmeans` and `gmm`: a named method or a CSV file of initial centers. Any other
/// value is a file; when it cannot be read the error lists the methods too (a typo such as
/// `kmeans+` is then easy to see).
struct InitArgument<Method: RawRepresentable & CaseIterable>: ExpressibleByArgument where Method.RawValue == String {
    enum Value { case method(Method), file(String) }
    let value: Value

    init(_ method: Method) { value = .method(method) }

    init?(argument: String) {
        value = Method(rawValue: argument).map { .method($0) } ?? .file(argument)
    }

    /// The initial centers of a `.file` value (k x d, in `columns` order).
    func centers(path: String, columns: [String]) throws -> Matrix<Float> {
        do { return Matrix(try CentersFile.read(path: path, columns: columns)) } catch let StrataError.unreadable(p, reason) {
            throw StrataError.unreadable(path: p, reason: reason + "; --init takes " + Method.allCases.map(\.rawValue).joined(separator: ", ") + " or a CSV file of centers")
        }
    }

    static var allValueStrings: [String] { Method.allCases.map(\.rawValue) + ["FILE.csv"] }
    var defaultValueDescription: String {
        switch value { case let .method(m): return m.rawValue; case let .file(f): return f }
    }
}

/// K-Means initialization methods (`KMeansInit`), by their command-line names.
enum KMeansInitMethod: String, CaseIterable {
    case kMeansPlusPlus = "k-means++", kMeansParallel = "k-means||", random
}

/// Gaussian-mixture initialization methods (`GMMInit`), by their command-line names.
enum GMMInitMethod: String, CaseIterable {
    case kmeans, kMeansPlusPlus = "k-means++", random
}

extension AmountFormat.DecimalMark: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
