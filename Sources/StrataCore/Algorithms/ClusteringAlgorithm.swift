/// The model family a sweep or a segmentation job fits (`algorithm` in job files, `--algorithm`).
public enum ClusteringAlgorithm: String, SettingChoice, CaseIterable {
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    /// K-Means (`KMeans.fit`): hard assignments, inertia.
    case kmeans
    /// Gaussian mixture by EM (`GMM.fit`); adds BIC, AIC, log-likelihoods and
    /// per-customer probabilities.
    case gmm
}
