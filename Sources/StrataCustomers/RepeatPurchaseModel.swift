import StrataCore
import Foundation

/// The repeat-purchase ("buy till you die") models `clv` can fit: BG/NBD (Fader, Hardie & Lee
/// 2005) and Pareto/NBD (Schmittlein, Morrison & Colombo 1987). Parsed once from `--model`.
public enum RepeatPurchaseModelKind: String, SettingChoice, CaseIterable {
    case bgnbd, pnbd
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }
}

/// What CLV, its intervals and the holdout evaluation need from a fitted repeat-purchase model.
/// Time is in the summary's unit (days or weeks); x = repeat purchase days, t_x = recency, T =
/// age. Every quantity is finite and >= 0 on every input (each model documents its fallbacks).
public protocol RepeatPurchaseModel: Sendable {
    /// The JSON key of the model's block (`bgnbd`, `pareto_nbd`) and its parameters' names.
    static var jsonKey: String { get }
    static var parameterNames: [String] { get }
    /// The parameters, in `parameterNames` order, and a copy with others (parameter draws).
    var parameters: [Double] { get }
    func with(parameters: [Double]) -> Self
    var logLikelihood: Double { get }
    var atBound: Bool { get }
    var converged: Bool { get }
    /// Covariance of the log-parameters (`ObservedInformation`); nil when not positive definite.
    var logCovariance: [[Double]]? { get }

    /// Maximum likelihood on weighted (x, t_x, T) triples.
    static func fit(x: [Double], tx: [Double], T: [Double], weights: [Double], threads: Int) throws -> Self
    /// P(alive at T | x, t_x, T).
    func probabilityAlive(x: Double, tx: Double, T: Double) -> Double
    /// E[purchases in (T, T + t] | x, T, alive at T] (independent of t_x).
    func expectedPurchasesIfAlive(t: Double, x: Double, T: Double) -> Double
    /// E[X(t)]: expected repeat purchases in (0, t] of a newly acquired customer.
    func expectedPurchasesSinceAcquisition(t: Double) -> Double
}

extension RepeatPurchaseModel {
    /// E[purchases in (T, T + t] | x, t_x, T] = P(alive) x `expectedPurchasesIfAlive`.
    public func expectedPurchases(t: Double, x: Double, tx: Double, T: Double) -> Double {
        probabilityAlive(x: x, tx: tx, T: T) * expectedPurchasesIfAlive(t: t, x: x, T: T)
    }

    /// Every parameter with its standard error and 95% interval (`ParameterEstimate`).
    public var estimates: [ParameterEstimate] {
        parameters.enumerated().map { ParameterEstimate(value: $1, logVariance: logCovariance?[$0][$0]) }
    }
}
