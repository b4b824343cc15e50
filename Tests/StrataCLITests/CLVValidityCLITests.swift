import Foundation
import Testing

/// `strata clv --json` on heavy-tailed spend (issue 16's reproducer): `gamma_gamma.valid` false
/// with a warning, no negative value in the CSV; the discount convention in the JSON.
@Suite struct CLVValidityCLITests {
    @Test func heavyTailedSpendIsFlaggedAndNothingIsNegative() throws {
        let dir = tempDir()
        let rows = [("a", 2.0, 3), ("b", 191, 2), ("c", 229, 3), ("d", 279, 2), ("e", 2522, 2), ("f", 2546183, 3)]
        var text = "customer_id,date,amount\n"
        for (id, amount, n) in rows { for m in 1...n { text += "\(id),2024-0\(m * 2)-0\(1 + m),\(amount)\n" } }
        write(text, "\(dir)/o.csv")
        let r = try CLI.run(["clv", "--transactions", "\(dir)/o.csv", "--out", "\(dir)/clv.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let gg = try #require(r.json?["gamma_gamma"] as? [String: Any])
        #expect(gg["valid"] as? Bool == false, "q = \(gg["q"] ?? "?")")
        #expect((r.json?["warnings"] as? [String])?.contains { $0.contains("gamma_gamma.valid: false") } == true)
        let lines = try String(contentsOfFile: "\(dir)/clv.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(lines.count == 6)
        for line in lines {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            let spend = Double(f[7]) ?? -1, clv = Double(f[8]) ?? -1
            #expect(spend > 0 && clv >= 0, "\(line)")
        }
        // The discount: 10% a year compounded to a week unless --discount is given.
        #expect(abs((r.json?["discount"] as? Double ?? 0) - 0.0018283) < 1e-6 && r.json?["annual_discount"] as? Double == 0.1)
        let d = try CLI.run(["clv", "--transactions", "\(dir)/o.csv", "--discount", "0.01", "--json"])
        #expect(d.json?["discount"] as? Double == 0.01 && d.json?["annual_discount"] is NSNull)
    }
}
