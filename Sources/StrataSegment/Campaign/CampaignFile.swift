import Foundation
import StrataCore
import StrataIO

/// Where a campaign's results are and how to read them: `strata campaign`'s options, and the
/// `campaign:` block of a segment job file (keys in snake_case).
public struct CampaignSettings: Codable, Sendable, Equatable {
    /// The campaign CSV (with a header): one row per customer in the campaign.
    public var path: String
    public var idColumn: String = "customer_id"
    /// Treatment or control, per customer.
    public var groupColumn: String = "group"
    /// 0/1 response column; nil: `response` when the file has it.
    public var responseColumn: String? = nil
    /// Revenue per customer (any finite number, refunds may be negative); nil: `revenue` when
    /// the file has it. At least one of response and revenue must be there.
    public var revenueColumn: String? = nil
    /// The group values, compared without case and surrounding spaces.
    public var treatmentValue: String = "treatment"
    public var controlValue: String = "control"

    public init(path: String) { self.path = path }

    public static let defaultResponseColumn = "response"
    public static let defaultRevenueColumn = "revenue"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path, idColumn = "id_column", groupColumn = "group_column", responseColumn = "response_column"
        case revenueColumn = "revenue_column", treatmentValue = "treatment_value", controlValue = "control_value"
    }

    /// Decodes with defaults for absent keys.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(path: try c.decode(String.self, forKey: .path))
        if let v = try c.decodeIfPresent(String.self, forKey: .idColumn) { idColumn = v }
        if let v = try c.decodeIfPresent(String.self, forKey: .groupColumn) { groupColumn = v }
        responseColumn = try c.decodeIfPresent(String.self, forKey: .responseColumn)
        revenueColumn = try c.decodeIfPresent(String.self, forKey: .revenueColumn)
        if let v = try c.decodeIfPresent(String.self, forKey: .treatmentValue) { treatmentValue = v }
        if let v = try c.decodeIfPresent(String.self, forKey: .controlValue) { controlValue = v }
    }

    /// The job-file keys of the block (for the unknown-key check).
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Checks values; errors are `.invalidSetting` naming the key (without the `campaign.` prefix).
    public func validate() throws {
        if path.isEmpty { throw StrataError.invalidSetting("path", "give the campaign CSV") }
        let t = treatmentValue.trimmingCharacters(in: .whitespaces), c = controlValue.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { throw StrataError.invalidSetting("treatment_value", "must not be empty") }
        if c.isEmpty { throw StrataError.invalidSetting("control_value", "must not be empty") }
        if t.lowercased() == c.lowercased() {
            throw StrataError.invalidSetting("control_value", "'\(Excerpt.of(c))' is also the treatment value; the two groups need different values")
        }
    }
}

/// A campaign's group of customers: received the treatment (the campaign) or held out.
public enum CampaignGroup: String, Sendable, CaseIterable {
    case treatment, control
}

/// One campaign file, read and checked: per customer (in file order) the id, the group, the
/// 0/1 response and/or the revenue, and the line it came from.
public struct CampaignFile: Sendable {
    public var path: String
    public var ids: [String]
    public var groups: [CampaignGroup]
    /// nil without a response column.
    public var responses: [Bool]?
    /// nil without a revenue column.
    public var revenue: [Double]?
    /// 1-based physical line of each row (the header is line 1).
    public var lines: [Int]
    /// The columns read (nil: absent).
    public var responseColumn: String?
    public var revenueColumn: String?

    public var count: Int { ids.count }

    /// Reads `settings.path` (CSV, header required; quoted fields, CRLF and a BOM handled as
    /// in every Strata reader).
    ///
    /// - Parameter quoteID: how a customer id is quoted in an error (an excerpt, or a pseudonym
    ///   when the job pseudonymizes ids, so no message carries a raw id).
    /// - Throws: `.invalidSetting` naming the setting (`id_column`, `group_column`,
    ///   `response_column`, `revenue_column`) for a column the file does not have, or when it
    ///   has neither a response nor a revenue column; `.badData` naming file, line and column
    ///   for a ragged row, an empty or duplicate customer id (with the line of its first
    ///   occurrence), a group value other than the two, a response other than 0/1, a revenue
    ///   that is empty or not a finite number, and for a file without data rows;
    ///   `.unreadable`.
    /// - Complexity: O(file size) time; memory the file plus O(rows) ids and values.
    public static func read(_ settings: CampaignSettings, quoteID: (String) -> String = { "'\(Excerpt.of($0))'" }) throws -> CampaignFile {
        try settings.validate()
        let path = settings.path
        let bytes = try readFileBytes(path)
        return try bytes.withUnsafeBufferPointer { buf in
            var tok = CSVTokenizer(bytes: buf, file: path)
            var fields: [FieldSpan] = []
            guard try tok.next(into: &fields) != nil else {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "the file is empty; a header row naming the columns is required")
            }
            let header = try CSVHeader.names(fields, tokenizer: tok, file: path)
            func column(_ name: String, _ key: String) throws -> Int {
                guard let i = header.firstIndex(of: name) else {
                    throw StrataError.invalidSetting(key, "'\(Excerpt.of(name))' is not a column of \(path); its columns are: \(Excerpt.list(header))")
                }
                return i
            }
            /// A named column must exist; an unnamed one is read when the default name is there.
            func optional(_ name: String?, default fallback: String, _ key: String) throws -> Int? {
                if let name { return try column(name, key) }
                return header.firstIndex(of: fallback)
            }
            let idIndex = try column(settings.idColumn, "id_column")
            let groupIndex = try column(settings.groupColumn, "group_column")
            let responseIndex = try optional(settings.responseColumn, default: CampaignSettings.defaultResponseColumn, "response_column")
            let revenueIndex = try optional(settings.revenueColumn, default: CampaignSettings.defaultRevenueColumn, "revenue_column")
            if responseIndex == nil && revenueIndex == nil {
                throw StrataError.invalidSetting("response_column", "\(path) has neither a '\(CampaignSettings.defaultResponseColumn)' nor a '\(CampaignSettings.defaultRevenueColumn)' column; name the 0/1 response column or the revenue column (its columns are: \(Excerpt.list(header)))")
            }
            let treatment = settings.treatmentValue.trimmingCharacters(in: .whitespaces).lowercased()
            let control = settings.controlValue.trimmingCharacters(in: .whitespaces).lowercased()
            var file = CampaignFile(path: path, ids: [], groups: [], responses: responseIndex == nil ? nil : [],
                                    revenue: revenueIndex == nil ? nil : [], lines: [],
                                    responseColumn: responseIndex.map { header[$0] }, revenueColumn: revenueIndex.map { header[$0] })
            var firstLine: [String: Int] = [:]
            while let line = try tok.next(into: &fields) {
                guard fields.count == header.count else {
                    throw StrataError.badData(file: path, line: line, column: nil, message: "row has \(fields.count) fields but the header has \(header.count)")
                }
                func bad(_ j: Int, _ message: String) -> StrataError { .badData(file: path, line: line, column: header[j], message: message) }
                let id = tok.idString(fields[idIndex])
                if id.isEmpty { throw bad(idIndex, "the customer id is empty") }
                if let first = firstLine[id] { throw bad(idIndex, "customer id \(quoteID(id)) appears twice (first on line \(first)); each customer must be in the campaign once") }
                firstLine[id] = line
                let g = tok.string(fields[groupIndex]).trimmingCharacters(in: .whitespaces)
                switch g.lowercased() {
                case treatment: file.groups.append(.treatment)
                case control: file.groups.append(.control)
                default:
                    throw bad(groupIndex, "group '\(Excerpt.of(g))' is neither the treatment value '\(Excerpt.of(settings.treatmentValue))' nor the control value '\(Excerpt.of(settings.controlValue))'")
                }
                if let r = responseIndex {
                    let span = fields[r]
                    let value = span.end > span.start ? NumberParser.parseDouble(buf.baseAddress! + span.start, span.end - span.start) : nil
                    guard let value, value == 0 || value == 1 else {
                        throw bad(r, "response '\(Excerpt.of(tok.string(span)))' is not 0 or 1")
                    }
                    file.responses!.append(value == 1)
                }
                if let v = revenueIndex {
                    let span = fields[v]
                    let text = tok.string(span)
                    if text.trimmingCharacters(in: .whitespaces).isEmpty { throw bad(v, "revenue is empty; write 0 for a customer without revenue") }
                    guard let value = NumberParser.parseDouble(buf.baseAddress! + span.start, span.end - span.start), value.isFinite else {
                        throw bad(v, "revenue '\(Excerpt.of(text))' is not a finite number")
                    }
                    file.revenue!.append(value)
                }
                file.ids.append(id)
                file.lines.append(line)
            }
            if file.ids.isEmpty { throw StrataError.badData(file: path, line: nil, column: nil, message: "the file has a header but no data rows") }
            return file
        }
    }
}
