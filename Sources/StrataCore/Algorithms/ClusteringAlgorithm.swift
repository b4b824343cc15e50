/// The model family a sweep or a segmentation job fits (`algorithm` in job files, `--algorithm`).
public enum ClusteringAlgorithm: String, SettingChoice, CaseIterable {
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    /// K-Means (`KMeans.fit`): hard assignments, inertia.
    case kmeans
    /// Gaussian mixture by EM (`GMM.fit`); adds BIC, AIC, log-likelihoods and
    /// per-customer probabilities.
    case gmm
    /// Agglomerative clustering (`Agglomerative.fit`, `linkage`), exact up to 50,000 customers,
    /// on K-Means micro-clusters beyond; k swept by cutting one tree.
    case agglomerative
    /// DBSCAN (`DBSCAN.fit`): the number of segments follows from `eps` and `min_samples`;
    /// noise is a segment of its own.
    case dbscan
    /// HDBSCAN (`HDBSCAN.fit`): segments from `min_cluster_size`; noise is a segment of its own.
    case hdbscan
    /// K-Prototypes (`KPrototypes.fit`, Huang 1998) for mixed data: the numeric features
    /// preprocessed as usual, the categorical columns kept as categories (not one-hot encoded);
    /// dissimilarity = squared Euclidean distance + `gamma` x category mismatches; K-Modes when
    /// there is no numeric feature. Needs categorical columns (`strata segment`; `strata sweep`
    /// has none to give it).
    case kprototypes

    /// Whether the number of clusters is an input (else it follows from density parameters).
    public var takesK: Bool { self != .dbscan && self != .hdbscan }
}
