/// The Strata release this binary is, recorded in every model file and run summary.
public enum Strata {
    public static let version = "0.1.0"
}
