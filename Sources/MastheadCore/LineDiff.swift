/// A line-by-line comparison of two texts, for showing what changed between revisions.
public enum LineDiff {
    public struct Line: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case same
            case removed
            case added

            /// The sign in front of the line, as in a unified diff.
            public var marker: String {
                switch self {
                case .same: " "
                case .removed: "−"
                case .added: "+"
                }
            }
        }

        public var kind: Kind
        public var text: String
    }

    /// Every line of `old` and `new` in order, each marked same, removed or added
    /// (a shortest edit script, so moved paragraphs show as removed and added).
    public static func lines(from old: String, to new: String) -> [Line] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = b.difference(from: a)
        var removed = Set<Int>(), inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var result: [Line] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, removed.contains(i) {
                result.append(Line(kind: .removed, text: a[i]))
                i += 1
            } else if j < b.count, inserted.contains(j) {
                result.append(Line(kind: .added, text: b[j]))
                j += 1
            } else {
                if j < b.count { result.append(Line(kind: .same, text: b[j])) }
                i += 1
                j += 1
            }
        }
        return result
    }
}
