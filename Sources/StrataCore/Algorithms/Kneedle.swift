/// Knee/elbow detection by Kneedle (Satopaa, Albrecht, Irwin & Raghavan 2011), offline form.
///
/// Both axes are normalized to [0, 1]; the curve is turned into an increasing concave one
/// (for a decreasing convex curve such as inertia against k: y' = 1 - y); the knee is the point
/// of the largest difference y' - x. O(m) for m points.
public enum Kneedle {
    public enum Shape: Sendable { case decreasingConvex, increasingConcave }

    /// Index of the knee in `y` (sampled at increasing `x`), nil when fewer than 3 points or a
    /// flat curve (no knee).
    public static func knee(x: [Double], y: [Double], shape: Shape = .decreasingConvex) -> Int? {
        guard x.count == y.count, x.count >= 3 else { return nil }
        guard let x0 = x.min(), let x1 = x.max(), let y0 = y.min(), let y1 = y.max(), x1 > x0, y1 > y0 else { return nil }
        var best = -Double.infinity, index: Int? = nil
        for i in 0..<x.count {
            let xn = (x[i] - x0) / (x1 - x0)
            var yn = (y[i] - y0) / (y1 - y0)
            if shape == .decreasingConvex { yn = 1 - yn }
            let diff = yn - xn
            if diff > best { best = diff; index = i }
        }
        // A straight line has no knee: the difference curve is flat at 0.
        return best > 1e-12 ? index : nil
    }
}
