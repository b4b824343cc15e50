import ArgumentParser
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

extension CovarianceType: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension PCASolver: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension KMeansAlgorithm: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension TransactionOptions.Delimiter: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { validForms }
}
