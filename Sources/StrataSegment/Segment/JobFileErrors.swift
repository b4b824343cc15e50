import Foundation
import StrataCore
import Yams

extension SegmentSettings {
    /// A YAML/JSON parse failure of a job file in one line that quotes nothing of the file: where
    /// (line and column) and what (the parser's own words, or the duplicated key's name).
    ///
    /// Yams' own descriptions echo the offending line with a caret, and for a duplicated key the
    /// whole document: a job file's salt would reach stderr, `--json` results and CI logs. Only
    /// key names (cut to 60 characters) are quoted, never a value.
    static func describeYAMLError(_ error: Error) -> String {
        guard let e = error as? YamlError else { return "the file cannot be parsed" }
        func at(_ m: Mark) -> String { "line \(m.line), column \(m.column)" }
        func oneLine(_ s: String) -> String { Excerpt.of(s, limit: 120) }
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return "\(at(mark)): \(oneLine(problem))" + (context.map { " (\(oneLine($0.text)) at \(at($0.mark)))" } ?? "")
        case let .reader(problem, offset, _, _):
            return oneLine(problem) + (offset.map { " at byte \($0)" } ?? "")
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.prefix(5).map { "'\(Excerpt.of($0))'" }.joined(separator: ", ")
            return "\(duplicates.count == 1 ? "key \(keys) appears" : "keys \(keys) appear") more than once in one mapping (first at \(at(context.mark)))"
        case .dataCouldNotBeDecoded:
            return "the file is not UTF-8 text"
        case .memory:
            return "out of memory while parsing"
        default:
            return "the file cannot be parsed"
        }
    }
}
