import Foundation
import StrataCore

/// Which reported segment each customer belongs to: what a campaign is analysed by.
///
/// From an assignments file every segment is reported. In a segment job the privacy threshold
/// applies as in the report: segments below `min_segment_size` are merged into "other", and
/// when "other" is itself below the threshold its customers are reported nowhere (`group` nil),
/// not even in the overall figures (which would otherwise give them away by subtraction).
public struct SegmentMembership: Sendable {
    /// A reported group: a segment (with its id) or other (id nil).
    public struct Group: Sendable, Equatable {
        public var id: Int?
        public var name: String
        public init(id: Int?, name: String) { self.id = id; self.name = name }
    }

    public var groups: [Group]
    /// Customer ids, as in the campaign file (raw, never pseudonyms).
    public var ids: [String]
    /// Per customer, the index of its group in `groups`; nil: reported nowhere.
    public var group: [Int?]
    /// Where the segments came from, for messages.
    public var source: String

    public init(groups: [Group], ids: [String], group: [Int?], source: String) {
        self.groups = groups; self.ids = ids; self.group = group; self.source = source
    }

    /// Every segment that has a customer in an assignments file or run directory, in id order
    /// (`strata campaign`); ids need not be contiguous (no empty group for a missing id).
    public init(run: SegmentRunFiles) {
        let present = Set(run.labels.map { Int($0) })
        let ids = (0..<run.k).filter { present.contains($0) }
        var index: [Int: Int] = [:]
        for (g, id) in ids.enumerated() { index[id] = g }
        let groups = ids.map { Group(id: $0, name: run.names[safe: $0] ?? "segment \($0)") }
        self.init(groups: groups, ids: run.ids, group: run.labels.map { index[Int($0)] }, source: run.source)
    }

    /// The segments a segment job reports (`SegmentProfiler.Output`): its reportable segments,
    /// then other when reported. O(n).
    init(ids: [String], labels: [Int32], profiles: SegmentProfiler.Output, source: String) {
        var groups = profiles.segments.map { Group(id: $0.id, name: $0.name) }
        var index: [Int: Int] = [:]
        for (g, s) in profiles.segments.enumerated() { if let id = s.id { index[id] = g } }
        var otherIndex: Int? = nil
        if let other = profiles.other {
            otherIndex = groups.count
            groups.append(Group(id: nil, name: other.name))
        }
        let small = Set(profiles.smallSegments)
        let group = labels.map { l -> Int? in small.contains(Int(l)) ? otherIndex : index[Int(l)] }
        self.init(groups: groups, ids: ids, group: group, source: source)
    }
}
