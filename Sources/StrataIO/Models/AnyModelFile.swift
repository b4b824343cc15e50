import StrataCore
import Foundation

/// A model file of any kind, for `strata predict`.
public enum AnyModelFile {
    case kmeans(KMeansModelFile)
    case gmm(GMMModelFile)
    /// hierarchical, dbscan or hdbscan: assigned by stored prototypes.
    case cluster(ClusterModelFile)
    /// K-Prototypes, or K-Modes (`"model": "kprototypes"` / `"kmodes"`).
    case kprototypes(KPrototypesModelFile)

    /// Reads, decodes and validates a model file (the one loader of every model kind; the
    /// checks are `KMeansModelFile.validated` and `GMMModelFile.validated`, stages included).
    /// - Throws: `StrataError.unreadable` when the file cannot be read, `.badData` naming the
    ///   file (and the key) when it is not a model, a newer format, or fails the checks.
    public static func load(path: String) throws -> AnyModelFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw StrataError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        let header: ModelHeader
        do { header = try JSONDecoder().decode(ModelHeader.self, from: data) } catch {
            throw StrataError.badData(file: path, line: nil, column: nil, message: "not a Strata model file (expected JSON with format_version and model)")
        }
        guard header.formatVersion >= 1 else {
            throw StrataError.badData(file: path, line: nil, column: "format_version", message: "\(header.formatVersion) is not a model format version")
        }
        guard header.formatVersion <= KMeansModelFile.currentFormatVersion else {
            throw StrataError.badData(file: path, line: nil, column: nil,
                                      message: "model format_version \(header.formatVersion) is newer than this strata understands; upgrade strata")
        }
        switch header.model {
        case "kmeans":
            do { return .kmeans(try JSONDecoder().decode(KMeansModelFile.self, from: data).validated(path: path)) } catch let e as StrataError { throw e } catch {
                throw malformed(path, "K-Means model", error)
            }
        case "gmm":
            do { return .gmm(try JSONDecoder().decode(GMMModelFile.self, from: data).validated(path: path)) } catch let e as StrataError { throw e } catch {
                throw malformed(path, "Gaussian-mixture model", error)
            }
        case "hierarchical", "dbscan", "hdbscan":
            do { return .cluster(try JSONDecoder().decode(ClusterModelFile.self, from: data).validated(path: path)) } catch let e as StrataError { throw e } catch {
                throw malformed(path, "\(header.model) model", error)
            }
        case "kprototypes", "kmodes":
            do { return .kprototypes(try JSONDecoder().decode(KPrototypesModelFile.self, from: data).validated(path: path)) } catch let e as StrataError { throw e } catch {
                throw malformed(path, header.model == "kmodes" ? "K-Modes model" : "K-Prototypes model", error)
            }
        default:
            throw StrataError.badData(file: path, line: nil, column: nil, message: "model type '\(header.model)' is not supported by this strata version")
        }
    }

    /// A decoding failure as one line naming the key: "column 'covariance_type': 'bogus' is not
    /// valid; valid values: full, ...".
    static func malformed(_ path: String, _ kind: String, _ error: Error) -> StrataError {
        guard let e = error as? DecodingError else {
            return .badData(file: path, line: nil, column: nil, message: "malformed \(kind): \(error)")
        }
        return .badData(file: path, line: nil, column: e.keyPath.isEmpty ? nil : e.keyPath, message: "malformed \(kind): \(e.reason)")
    }

    public var columns: [String] {
        switch self { case let .kmeans(m): return m.columns; case let .gmm(m): return m.columns; case let .cluster(m): return m.columns; case let .kprototypes(m): return m.columns }
    }

    /// The feature stages stored with the model.
    public var stages: FeatureStages {
        switch self {
        case let .kmeans(m): return FeatureStages(preprocessing: m.preprocessing, pca: m.pca)
        case let .gmm(m): return FeatureStages(preprocessing: m.preprocessing, pca: m.pca)
        case let .cluster(m): return FeatureStages(preprocessing: m.preprocessing, pca: m.pca)
        case let .kprototypes(m): return FeatureStages(preprocessing: m.preprocessing, pca: nil)
        }
    }

    public var idColumn: String? {
        switch self { case let .kmeans(m): return m.idColumn; case let .gmm(m): return m.idColumn; case let .cluster(m): return m.idColumn; case let .kprototypes(m): return m.idColumn }
    }
}

extension AnyModelFile {
    /// The segment names the model carries (`strata segment` writes them), nil when it has none.
    public var segmentNames: [String]? {
        switch self {
        case let .kmeans(m): return m.segmentNames
        case let .gmm(m): return m.segmentNames
        case let .cluster(m): return m.segmentNames
        case let .kprototypes(m): return m.segmentNames
        }
    }
}
