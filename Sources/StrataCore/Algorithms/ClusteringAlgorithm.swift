/// The model family a sweep or a segmentation job fits (`algorithm` in job files, `--algorithm`).
public enum ClusteringAlgorithm: String, SettingChoice, CaseIterable {
    /// K-Means (`KMeans.fit`): hard assignments, inertia.
    case kmeans
    /// Gaussian mixture by EM (`GaussianMixture.fit`); adds BIC, AIC, log-likelihoods and
    /// per-customer probabilities.
    case gmm
}
