/// Adjusting p-values when several hypotheses are tested at once (one per segment).
public enum MultipleTesting {
    /// Benjamini-Hochberg adjusted p-values (false discovery rate): with the m p-values sorted
    /// ascending, p₍₁₎ <= ... <= p₍ₘ₎, the adjusted value of p₍ᵢ₎ is min over j >= i of
    /// min(1, m p₍ⱼ₎ / j). Rejecting every hypothesis whose adjusted value is <= q controls the
    /// false discovery rate at q for independent (or positively dependent) tests.
    ///
    /// - Parameter pValues: one per hypothesis, in any order; nil for a hypothesis that could
    ///   not be tested (it is left out: m counts the non-nil values). Ties get equal adjusted
    ///   values (the step-up minimum runs over all of them).
    /// - Returns: the adjusted values in the input's order (nil where the input is nil).
    /// - Complexity: O(m log m).
    /// - Source: Benjamini, Y. & Hochberg, Y. (1995), "Controlling the false discovery rate: a
    ///   practical and powerful approach to multiple testing", JRSS B 57(1), 289-300; the same
    ///   as statsmodels `multipletests(method="fdr_bh")` and R `p.adjust(method="BH")`.
    public static func benjaminiHochberg(_ pValues: [Double?]) -> [Double?] {
        let tested = pValues.indices.filter { pValues[$0] != nil }
        // Stable order: equal p-values keep their input order (their adjusted values are equal).
        let order = tested.sorted { (pValues[$0]!, $0) < (pValues[$1]!, $1) }
        let m = Double(order.count)
        var adjusted = [Double?](repeating: nil, count: pValues.count)
        var running = 1.0
        for rank in stride(from: order.count, through: 1, by: -1) {
            let i = order[rank - 1]
            running = min(running, m * pValues[i]! / Double(rank))
            adjusted[i] = running
        }
        return adjusted
    }
}
