import Foundation

/// Memory budgets: parsing ("4G", "512M", "1.5g", bytes) and the default, half the physical RAM.
public enum MemoryBudget {
    public static var defaultBytes: Int { Int(ProcessInfo.processInfo.physicalMemory / 2) }

    public static func parse(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        let (k, m, g, t2): (Double, Double, Double, Double) = (1024, 1024 * 1024, 1024 * 1024 * 1024, 1024 * 1024 * 1024 * 1024)
        let units: [(String, Double)] = [("tb", t2), ("t", t2), ("gb", g), ("g", g), ("mb", m), ("m", m), ("kb", k), ("k", k), ("b", 1)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count)), v > 0, v * scale < 9e18 else { return nil }
            return Int(v * scale)
        }
        guard let v = Double(t), v > 0, v < 9e18 else { return nil }
        return Int(v)
    }

    /// "9.6 GB", "512 MB", "40 KB": for messages.
    public static func describe(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= 1e9 { return String(format: "%.1f GB", b / 1e9) }
        if b >= 1e6 { return String(format: "%.0f MB", b / 1e6) }
        return String(format: "%.0f KB", b / 1e3)
    }

    /// Release windows for a mapped file of `dataBytes`: none when it fits the budget, else
    /// windows of budget/8 (at most 256 MiB) so a few in flight stay well inside the budget.
    public static func releaseWindowRows(dataBytes: Int, rowBytes: Int, budget: Int) -> Int {
        guard dataBytes > budget else { return 0 }
        let window = max(1 << 20, min(256 << 20, budget / 8))
        return max(16, window / max(1, rowBytes))
    }
}
