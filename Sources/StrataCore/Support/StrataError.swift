/// Every failure Strata reports to a user. Each case carries enough to act on: the file, the
/// line and column for bad data, and what to do about it.
public enum StrataError: Error, CustomStringConvertible, Equatable {
    /// The data in a file is wrong (bad number, ragged row, missing column...).
    /// `line` is the 1-based physical line in the file (the header is line 1).
    case badData(file: String, line: Int?, column: String?, message: String)
    /// A file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// An option or combination of options is invalid (k < 1, k > n, ...).
    case invalidArgument(String)
    /// A setting has an invalid value; `setting` is its job-file key (`impute`, `k_min`). The
    /// CLI reports it as the flag (`--impute`) when the value came from a flag.
    case invalidSetting(String, String)
    /// An output could not be written; earlier outputs are left as they were.
    case unwritable(path: String, reason: String)
    /// A numerical failure that the data caused (collapsed cluster, non-finite result...).
    case numerical(String)
    /// The data are readable but cannot support what was asked (nobody bought twice, so no
    /// repeat-purchase model can be fitted; ...). A data error (exit 65), not a usage error.
    case insufficientData(String)
    /// Another run holds the output's lock (exit 75, EX_TEMPFAIL: try again later).
    case locked(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badData(file, line, column, message):
            var loc = file
            if let line { loc += ", line \(line)" }
            if let column { loc += ", column '\(Excerpt.of(column))'" }
            return "\(loc): \(message)"
        case let .unreadable(path, reason):
            return "cannot read '\(path)': \(reason)"
        case let .invalidArgument(message):
            return message
        case let .invalidSetting(setting, message):
            return "\(setting): \(message)"
        case let .unwritable(path, reason):
            return "cannot write '\(path)': \(reason); earlier outputs were left untouched"
        case let .numerical(message), let .insufficientData(message):
            return message
        case let .locked(path, reason):
            return "'\(path)' is locked: \(reason)"
        }
    }

    /// Process exit codes, following sysexits.h so schedulers can tell failures apart:
    /// 64 usage, 65 bad data, 66 unreadable input, 73 cannot create output, 70 numerical/internal,
    /// 75 output locked by another run (try again later).
    public var exitCode: Int32 {
        switch self {
        case .invalidArgument, .invalidSetting: return 64
        case .badData, .insufficientData: return 65
        case .unreadable: return 66
        case .unwritable: return 73
        case .numerical: return 70
        case .locked: return 75
        }
    }
}
