import Foundation
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment
import StrataKernels
import StrataLinalg

enum Fixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    struct Case: Decodable {
        struct Expected: Decodable {
            let labels: [Int32]
            let inertia: Double
            let n_iter: Int
            let centers: [[Double]]
        }
        let k: Int
        let max_iter: Int
        let tol: Double
        let columns: [String]
        let weighted: Bool
        let `init`: [[Double]]
        let expected: Expected
    }

    static func load(_ name: String) throws -> (Case, Dataset) {
        let c = try JSONDecoder().decode(Case.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).json")))
        let data = try TableReader.read(path: "\(dir)/\(name).csv",
                                        options: TableReadOptions(columns: c.columns, weightsColumn: c.weighted ? "w" : nil))
        return (c, data)
    }
}

/// Deterministic pseudo-random test data.
func randomMatrix(rows: Int, cols: Int, seed: UInt64, scale: Float = 1) -> Matrix<Float> {
    var rng = SeededRandom(seed: seed)
    return Matrix(rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in Float(rng.nextUnit() * 2 - 1) * scale })
}

/// Gaussian blobs around `centers` (k x d), `perCluster` rows each, interleaved.
func blobs(k: Int, d: Int, perCluster: Int, spread: Double, seed: UInt64) -> (Matrix<Float>, [Int]) {
    var rng = SeededRandom(seed: seed)
    func normal() -> Double {
        let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
    let centers = (0..<(k * d)).map { _ in normal() * 10 }
    var m = Matrix<Float>(rows: k * perCluster, cols: d)
    var truth = [Int]()
    for i in 0..<(k * perCluster) {
        let c = i % k
        truth.append(c)
        for j in 0..<d { m[i, j] = Float(centers[c * d + j] + spread * normal()) }
    }
    return (m, truth)
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

/// A fresh empty temporary directory.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "strata-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
