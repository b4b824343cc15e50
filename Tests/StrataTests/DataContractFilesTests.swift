import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataIO
import StrataKernels
import StrataLinalg

/// Issue 13 item 6: `.npy` headers, sidecars and model files are validated, never trusted.
@Suite struct DataContractFilesTests {
    // MARK: .npy headers

    static let payload: [UInt8] = (0..<300).flatMap { i in Float(i).bitPattern.littleEndianBytes }   // 100 x 3 float32

    /// Writes a `.npy` with this header text and the 100 x 3 payload; returns the path.
    static func npy(_ dir: String, _ name: String, descr: String = "<f4", shape: String = "(100, 3)", fortran: String = "False",
                    payload: [UInt8] = payload) throws -> String {
        let path = "\(dir)/\(name).npy"
        try Data(npyBytes(descr: descr, shape: shape, payload: payload, fortran: fortran)).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The error reading `path` throws: a one-line `badData` naming the file.
    static func headerError(_ path: String) -> String? {
        do {
            _ = try TableReader.read(path: path)
            return nil
        } catch let StrataError.badData(file, _, _, message) {
            #expect(file == path)
            #expect(!message.contains("\n") && message.count < 200, "\(message)")
            return message
        } catch {
            Issue.record("\(path): \(error) is not a badData error")
            return nil
        }
    }

    @Test func malformedShapesAreOneLineErrors() throws {
        let dir = temporaryDirectory()
        let cases: [(String, String)] = [
            ("(-100, 3)", "'shape' entry -100 is negative"),
            ("(9223372036854775807, 9223372036854775807)", "describes more data than any file can hold"),
            ("(99999999999999999999, 3)", "'shape' entry 99999999999999999999 is too large"),
            ("('a', 3)", "'shape' entry 'a' is not an integer"),
            ("(100, 3.0)", "'shape' entry 3.0 is not an integer"),
            ("(100, 4)", "file is truncated: shape (100, 4) needs 1600 data bytes, found 1200"),
            ("(10, 3, 10)", "array has 3 dimensions"),
            ("()", "array has 0 dimensions"),
            ("(0, 3)", "the array has no rows"),
            ("(100, 0)", "the array has no columns"),
            ("100", "'shape' must be a tuple of integers (found '100')"),
            ("(100, 3", "not a valid Python dict literal"),
        ]
        for (i, (shape, expected)) in cases.enumerated() {
            let path = try Self.npy(dir, "shape\(i)", shape: shape)
            let message = Self.headerError(path)
            #expect(message?.contains(expected) == true, "\(shape): \(message ?? "read without error")")
        }
    }

    @Test func fortranOrderAndDescrAreValidated() throws {
        let dir = temporaryDirectory()
        let cases: [(descr: String, fortran: String, expected: String)] = [
            ("<f4", "Maybe", "'fortran_order' must be True or False (found 'Maybe')"),
            ("<f4", "1", "'fortran_order' must be True or False (found '1')"),
            ("<f4", "True", "array is in Fortran order"),
            (">f4", "False", "dtype '>f4' is not supported"),
            ("<f2", "False", "dtype '<f2' is not supported"),
            ("|O", "False", "dtype '|O' is not supported"),
        ]
        for (i, c) in cases.enumerated() {
            let path = try Self.npy(dir, "case\(i)", descr: c.descr, fortran: c.fortran)
            let message = Self.headerError(path)
            #expect(message?.contains(c.expected) == true, "\(c): \(message ?? "read without error")")
        }
        // One column: Fortran and C order are the same bytes.
        let column = try Self.npy(dir, "column", shape: "(300, 1)", fortran: "True")
        #expect(try TableReader.read(path: column).materialized().values == (0..<300).map(Float.init))
    }

    @Test func headerKeysMustBeExactlyTheThree() throws {
        let dir = temporaryDirectory()
        let texts = [
            "{'descr': '<f4', 'shape': (100, 3), }": "missing: fortran_order",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 3), 'extra': 1}": "unexpected: 'extra'",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (100, 3)}": "key 'descr' appears twice",
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (100, 3)}": "not a valid Python dict literal",
            "not a dict": "expected '{' at byte 0",
        ]
        for (i, (text, expected)) in texts.enumerated() {
            var header = text
            while (11 + header.utf8.count) % 64 != 0 { header += " " }
            header += "\n"
            let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + Self.payload
            let path = "\(dir)/keys\(i).npy"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let message = Self.headerError(path)
            #expect(message?.contains(expected) == true, "\(text): \(message ?? "read without error")")
        }
    }

    @Test func validHeadersOfEveryVersionAndTypeRead() throws {
        let dir = temporaryDirectory()
        let v2 = "\(dir)/v2.npy"
        try Data(npyBytes(descr: "<f4", shape: "(100, 3)", payload: Self.payload, version: 2)).write(to: URL(fileURLWithPath: v2))
        let a = try TableReader.read(path: v2)
        #expect(a.rows == 100 && a.cols == 3 && a.materialized().values == (0..<300).map(Float.init))
        // Python 2's long literals and a 1-D int64 array.
        let ints: [UInt8] = (0..<4).flatMap { Int64($0 * 10).littleEndianBytes }
        let long = try Self.npy(dir, "long", descr: "<i8", shape: "(4L,)", payload: ints)
        #expect(try TableReader.read(path: long).values == [0, 10, 20, 30])
    }

    @Test func theFileSizeIsCheckedAgainWhenMapping() throws {
        let dir = temporaryDirectory()
        let path = try Self.npy(dir, "mapped")
        let file = try MappedFile(path: path, minimumLength: 128 + 1200)
        #expect(file.length == 128 + 1200)
        // The file shrank between its header check and the mapping.
        #expect(throws: StrataError.self) { try MappedFile(path: path, minimumLength: 128 + 1201) }
        let e = #expect(throws: StrataError.self) { try MappedFile(path: path, minimumLength: 4000) }
        guard case let .badData(file, _, _, message)? = e else { Issue.record("\(String(describing: e))"); return }
        #expect(file == path && message.contains("shrank"))
    }

    // MARK: sidecars

    /// A converted table: 3 x 2 `.npy`, its sidecar and ids, in a fresh directory.
    static func converted() throws -> (dir: String, npy: String) {
        let dir = temporaryDirectory()
        let src = Fixtures.dir + "/fuzz/npy"
        for name in ["sidecar_3x2.npy", "sidecar_3x2.npy.json", "sidecar_3x2.npy.ids"] {
            try FileManager.default.copyItem(atPath: "\(src)/\(name)", toPath: "\(dir)/\(name)")
        }
        return (dir, "\(dir)/sidecar_3x2.npy")
    }

    @Test func aValidSidecarNamesColumnsAndIds() throws {
        let (dir, npy) = try Self.converted()
        let d = try TableReader.read(path: npy)
        #expect(d.columns == ["spend", "visits"] && d.idColumn == "customer" && d.ids == ["c1", "c2", "c3"])
        // An ids file without a final newline holds the same ids.
        try "c1\nc2\nc3".write(toFile: "\(dir)/sidecar_3x2.npy.ids", atomically: true, encoding: .utf8)
        #expect(try TableReader.read(path: npy).ids == ["c1", "c2", "c3"])
    }

    @Test func aGarbageSidecarIsAnErrorNamingIt() throws {
        let garbage: [(String, String?)] = [
            ("this is not json", nil),
            ("{\"columns\": [\"a\"]}", "format"),
            ("{\"columns\":[\"spend\",\"visits\"],\"dtype\":\"float32\",\"format\":\"other/2\",\"rows\":3,\"source\":\"x\"}", "format"),
            ("{\"columns\":[\"spend\",\"visits\"],\"dtype\":\"float32\",\"format\":\"strata-npy-sidecar/1\",\"rows\":7,\"source\":\"x\"}", "rows"),
            ("{\"columns\":[\"spend\"],\"dtype\":\"float32\",\"format\":\"strata-npy-sidecar/1\",\"rows\":3,\"source\":\"x\"}", "columns"),
            ("{\"columns\":[\"a\",\"a\"],\"dtype\":\"float32\",\"format\":\"strata-npy-sidecar/1\",\"rows\":3,\"source\":\"x\"}", "columns"),
            ("{\"columns\":[\"a\",\"b\"],\"dtype\":\"float32\",\"format\":\"strata-npy-sidecar/1\",\"id_column\":\"id\",\"rows\":3,\"source\":\"x\"}", "ids_file"),
            ("{\"columns\":[\"a\",\"b\"],\"dtype\":\"float32\",\"format\":\"strata-npy-sidecar/1\",\"id_column\":\"id\",\"ids_file\":\"../x.ids\",\"rows\":3,\"source\":\"x\"}", "ids_file"),
        ]
        for (text, key) in garbage {
            let (_, npy) = try Self.converted()
            try text.write(toFile: npy + ".json", atomically: true, encoding: .utf8)
            do {
                let d = try TableReader.read(path: npy)
                Issue.record("\(text): read with columns \(d.columns)")
            } catch let StrataError.badData(file, _, column, message) {
                #expect(file == npy + ".json", "\(text)")
                #expect(column == key, "\(text): key \(column ?? "none"), \(message)")
            }
        }
    }

    @Test func declaredIdsMustExistAndMatchTheRows() throws {
        let (dir, npy) = try Self.converted()
        try "c1\nc2\n".write(toFile: "\(dir)/sidecar_3x2.npy.ids", atomically: true, encoding: .utf8)
        let short = #expect(throws: StrataError.self) { try TableReader.read(path: npy) }
        guard case let .badData(file, _, _, message)? = short else { Issue.record("\(String(describing: short))"); return }
        #expect(file == "\(dir)/sidecar_3x2.npy.ids" && message.contains("holds 2 ids for 3 rows"), "\(message)")
        try FileManager.default.removeItem(atPath: "\(dir)/sidecar_3x2.npy.ids")
        let missing = #expect(throws: StrataError.self) { try TableReader.read(path: npy) }
        guard case let .unreadable(path, reason)? = missing else { Issue.record("\(String(describing: missing))"); return }
        #expect(path == "\(dir)/sidecar_3x2.npy.ids" && reason.contains("does not exist"), "\(reason)")
    }

    // MARK: model files

    static func modelJSON(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.dir + "/fuzz/models/\(name).json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Writes `model` (edited) and loads it: the key the badData error names, or nil when it loads.
    static func loadError(_ model: [String: Any], raw: String? = nil) throws -> (key: String?, message: String)? {
        let path = temporaryDirectory() + "/model.json"
        if let raw { try raw.write(toFile: path, atomically: true, encoding: .utf8) } else {
            try JSONSerialization.data(withJSONObject: model).write(to: URL(fileURLWithPath: path))
        }
        do {
            _ = try AnyModelFile.load(path: path)
            return nil
        } catch let StrataError.badData(file, _, column, message) {
            #expect(file == path)
            #expect(!message.contains("\n"))
            return (column, message)
        }
    }

    @Test func everyCorpusModelLoads() throws {
        let dir = Fixtures.dir + "/fuzz/models"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }
        #expect(names.count >= 6)
        for name in names { _ = try AnyModelFile.load(path: "\(dir)/\(name)") }
    }

    @Test func kMeansModelFaultsNameTheKey() throws {
        let base = try Self.modelJSON("kmeans_stages")
        func edited(_ edit: (inout [String: Any]) -> Void) -> [String: Any] { var m = base; edit(&m); return m }
        func numeric(_ key: String, _ value: Any) -> [String: Any] {
            edited { m in
                var p = m["preprocessing"] as! [String: Any]
                var n = p["numeric"] as! [[String: Any]]
                n[1][key] = value
                p["numeric"] = n
                m["preprocessing"] = p
            }
        }
        let centroids = base["centroids"] as! [[Double]]
        let cases: [([String: Any], String)] = [
            (numeric("scale", 0), "preprocessing.numeric[1].scale"),
            (numeric("scale", -2), "preprocessing.numeric[1].scale"),
            (numeric("clipLow", 100), "preprocessing.numeric[1].clipLow"),
            (edited { $0["cluster_sizes"] = [21, 19] }, "cluster_sizes"),
            (edited { $0["cluster_sizes"] = [21, -19, 20] }, "cluster_sizes"),
            (edited { $0["centroids"] = Array(centroids.prefix(2)) }, "centroids"),
            (edited { $0["centroids"] = centroids.map { Array($0.dropLast()) } }, "centroids"),
            (edited { $0["centroids"] = [centroids[0], centroids[1], centroids[2].map { _ in 1e39 }] }, "centroids"),
            (edited { $0["segment_names"] = ["a", "b"] }, "segment_names"),
            (edited { $0["size_weights"] = [1.0, -1.0, 2.0] }, "size_weights"),
            (edited { $0["training_rows"] = -5 }, "training_rows"),
            (edited { $0["k"] = 0 }, "k"),
            (edited { $0["columns"] = ["spend", "spend", "tenure", "region=south", "region=east", "region=north", "region=other"] }, "columns"),
        ]
        for (model, key) in cases {
            let e = try Self.loadError(model)
            #expect(e?.key == key, "expected an error naming \(key), got \(e.map { "\($0.key ?? "-"): \($0.message)" } ?? "none")")
        }
        // JSON holds no NaN: a value beyond Double's range is the way a corrupt file says infinity.
        let text = String(decoding: try JSONSerialization.data(withJSONObject: base), as: UTF8.self)
        let infinite = text.replacingOccurrences(of: "\"inertia\":", with: "\"inertia\":1e999,\"x\":")
        _ = try Self.loadError(base, raw: infinite)   // inertia is not used: loading or a badData, never a crash
        let badScale = text.replacingOccurrences(of: "\"scale\":", with: "\"scale\":1e999,\"unused\":")
        #expect(try Self.loadError(base, raw: badScale) != nil)
    }

    @Test func mixtureModelFaultsNameTheKey() throws {
        for name in ["gmm_full", "gmm_diag", "gmm_tied", "gmm_spherical_pca"] {
            let base = try Self.modelJSON(name)
            func edited(_ edit: (inout [String: Any]) -> Void) -> [String: Any] { var m = base; edit(&m); return m }
            let w = base["weights"] as! [Double]
            let logDet = base["log_det_precisions_cholesky"] as! [Double]
            let prec = base["precisions_cholesky"] as! [Double]
            let cases: [([String: Any], String)] = [
                (edited { $0["weights"] = [-0.5] + w.dropFirst().map { $0 + 0.5 / Double(w.count - 1) } }, "weights"),
                (edited { $0["weights"] = w.map { $0 * 2 } }, "weights"),
                (edited { $0["weights"] = Array(w.dropLast()) }, "weights"),
                (edited { $0["log_det_precisions_cholesky"] = [1e308] + Array(logDet.dropFirst()) }, "log_det_precisions_cholesky"),
                (edited { $0["log_det_precisions_cholesky"] = logDet.map { $0 + 0.5 } }, "log_det_precisions_cholesky"),
                (edited { $0["precisions_cholesky"] = [-prec[0]] + Array(prec.dropFirst()) }, "precisions_cholesky"),
                (edited { $0["precisions_cholesky"] = Array(prec.dropLast()) }, "precisions_cholesky"),
                (edited { $0["means"] = Array((base["means"] as! [[Double]]).dropLast()) + [[Double]()] }, "means"),
                (edited { $0["covariances"] = (base["covariances"] as! [Double]).map { _ in 0.0 } }, "covariances"),
            ]
            for (model, key) in cases {
                let e = try Self.loadError(model)
                #expect(e?.key == key, "\(name): expected an error naming \(key), got \(e.map { "\($0.key ?? "-"): \($0.message)" } ?? "none")")
            }
        }
        // A PCA stage whose components do not match its columns.
        var m = try Self.modelJSON("gmm_spherical_pca")
        var pca = m["pca"] as! [String: Any]
        pca["components"] = [[1.0]]
        m["pca"] = pca
        #expect(try Self.loadError(m)?.key == "pca.components")
    }
}

extension FixedWidthInteger {
    var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
