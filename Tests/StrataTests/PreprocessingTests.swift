import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

/// Every preprocessing option against values computed by hand.
@Suite struct PreprocessingTests {
    func table(_ csv: String, categorical: [String] = [], numeric: [String]? = nil) throws -> RawTable {
        let dir = temporaryDirectory()
        try csv.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        return try RawTable.read(path: dir + "/t.csv", numeric: numeric, categorical: categorical, idColumn: nil)
    }

    let csv = "id,spend,visits,region\na,10,1,north\nb,,3,south\nc,30,,north\nd,40,7,east\ne,1000,9,north\n"

    func column(_ d: Dataset, _ name: String) -> [Float] {
        let j = d.columns.firstIndex(of: name)!
        return (0..<d.rows).map { d.values[$0 * d.cols + j] }
    }

    @Test func imputation() throws {
        let t = try table(csv, categorical: ["region"])
        var o = PreprocessOptions()
        #expect(throws: StrataError.self) { try FittedPipeline.fit(t, options: o) }   // missing without --impute
        o.impute = .mean
        var (p, d, report) = try FittedPipeline.fit(t, options: o)
        #expect(column(d, "spend") == [10, 270, 30, 40, 1000])          // mean of 10, 30, 40, 1000
        #expect(column(d, "visits") == [1, 3, 5, 7, 9])                 // mean of 1, 3, 7, 9
        #expect(report.missing == ["spend": 1, "visits": 1] && report.imputed == ["spend": 1, "visits": 1])
        o.impute = .median
        (p, d, _) = try FittedPipeline.fit(t, options: o)
        #expect(column(d, "spend")[1] == 35 && column(d, "visits")[2] == 5)
        o.impute = .constant(-1)
        (_, d, _) = try FittedPipeline.fit(t, options: o)
        #expect(column(d, "spend")[1] == -1)
        o.impute = .drop
        (p, d, report) = try FittedPipeline.fit(t, options: o)
        #expect(d.rows == 3 && d.ids == ["a", "d", "e"] && report.droppedRows == 2)
        #expect(p.numeric[0].fill == 40)   // predict-time fill for drop: the training median
        o.impute = .mostFrequent
        (_, d, _) = try FittedPipeline.fit(try table("x,y\n1,0\n2,0\n2,0\n,0\n3,0\n"), options: o)
        #expect(column(d, "x") == [1, 2, 2, 2, 3])
    }

    @Test func logClipAndScaling() throws {
        let t = try table("a,b\n0,1\n1,2\n3,3\n7,4\n1000,5\n")
        var o = PreprocessOptions()
        o.log = ["a"]
        var (_, d, _) = try FittedPipeline.fit(t, options: o)
        #expect(zip(column(d, "a"), [0, 1, 3, 7, 1000].map { Float(log1p(Double($0))) }).allSatisfy { abs($0 - $1) < 1e-6 })
        // IQR fences on b = 1..5: Q1 = 2, Q3 = 4, fence 1.5 -> [-1, 7]: nothing clipped; on a: Q1 = 1, Q3 = 7 -> [-8, 16].
        o = PreprocessOptions()
        o.clip = .iqr(1.5)
        var report: PreprocessReport
        (_, d, report) = try FittedPipeline.fit(t, options: o)
        #expect(column(d, "a") == [0, 1, 3, 7, 16] && report.clipped == ["a": 1])
        o.clip = .quantiles(0.25, 0.75)
        (_, d, report) = try FittedPipeline.fit(t, options: o)
        #expect(column(d, "b") == [2, 2, 3, 4, 4] && report.clipped["b"] == 2)
        o = PreprocessOptions()
        o.scale = .standard
        (_, d, _) = try FittedPipeline.fit(t, options: o)
        let z = column(d, "b")                       // mean 3, population std sqrt(2)
        #expect(zip(z, [-2, -1, 0, 1, 2].map { Float(Double($0) / 2.0.squareRoot()) }).allSatisfy { abs($0 - $1) < 1e-6 })
        o.scale = .robust
        (_, d, _) = try FittedPipeline.fit(t, options: o)
        #expect(column(d, "b") == [-1, -0.5, 0, 0.5, 1])   // median 3, IQR 2
        o.scale = .minmax
        (_, d, _) = try FittedPipeline.fit(t, options: o)
        #expect(column(d, "b") == [0, 0.25, 0.5, 0.75, 1])
    }

    @Test func oneHotWithCapAndUnseenCategories() throws {
        let t = try table("v,c\n1,x\n2,y\n3,x\n4,z\n5,x\n6,y\n", categorical: ["c"])
        var o = PreprocessOptions()
        o.categorical = ["c"]
        o.oneHotMax = 3                       // x, y keep columns; z -> other
        let (p, d, _) = try FittedPipeline.fit(t, options: o)
        #expect(d.columns == ["v", "c=x", "c=y", "c=other"])
        #expect(column(d, "c=x") == [1, 0, 1, 0, 1, 0] && column(d, "c=other") == [0, 0, 0, 1, 0, 0])
        let unseen = try p.transform(try table("v,c\n1,w\n2,y\n", categorical: ["c"]))
        #expect(column(unseen, "c=other") == [1, 0] && column(unseen, "c=y") == [0, 1])
    }

    @Test func clearMessagesForEmptyAndConstantColumns() throws {
        var o = PreprocessOptions()
        o.impute = .mean
        #expect { try FittedPipeline.fit(try self.table("a,b\n1,\n2,\n", numeric: ["a", "b"]), options: o) } throws: { e in
            (e as? StrataError)?.description.contains("column 'b'") == true && (e as? StrataError)?.description.contains("no values") == true
        }
        o = PreprocessOptions()
        o.scale = .standard
        // A constant column is left out and reported, not fatal; every column constant is an error.
        let (p, d, report) = try FittedPipeline.fit(try self.table("a,b,c\n1,5,0\n2,5,0\n"), options: o)
        #expect(report.constantColumns == ["b", "c"] && d.columns == ["a"] && p.inputNumeric == ["a"])
        #expect { try FittedPipeline.fit(try self.table("a,b\n1,5\n1,5\n"), options: o) } throws: { e in
            (e as? StrataError)?.description.contains("every feature column is constant (a, b)") == true
        }
        o.log = ["a"]
        #expect(throws: StrataError.self) { try FittedPipeline.fit(try self.table("a\n-1\n2\n"), options: o) }
    }

    @Test func savedPipelineReplaysExactly() throws {
        let t = try table(csv, categorical: ["region"])
        var o = PreprocessOptions()
        o.impute = .median
        o.log = ["spend"]
        o.clip = .quantiles(0.05, 0.95)
        o.scale = .robust
        o.categorical = ["region"]
        let (p, d, _) = try FittedPipeline.fit(t, options: o)
        let decoded = try JSONDecoder().decode(FittedPipeline.self, from: JSONEncoder().encode(p))
        #expect(decoded == p)
        #expect(try decoded.transform(t).values == d.values)
        // Inverse of the numeric part gives the original units back (row c, spend 30, is inside the clip range).
        let back = p.inverseTransform((0..<d.cols).map { Double(d.values[2 * d.cols + $0]) })
        #expect(abs(back[0] - 30) < 1e-3)
    }
}
