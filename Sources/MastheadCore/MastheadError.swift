/// An error of Masthead's own, with a stable code and a message a person can act on.
///
/// `location` names where the bad input was (a file and line, a form field, a URL) when known.
public struct MastheadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Input that cannot be accepted (a bad file, field or value).
        public static let invalidInput = Code("invalid-input")
        /// Something asked for does not exist.
        public static let notFound = Code("not-found")
        /// Configuration that cannot be used.
        public static let configuration = Code("configuration")
        /// The store failed or holds something unexpected.
        public static let storage = Code("storage")
        /// An image could not be read or written.
        public static let image = Code("image")
        /// The person asking may not do this.
        public static let forbidden = Code("forbidden")
        /// The request clashes with the stored state (a newer version, a name in use).
        public static let conflict = Code("conflict")
    }

    /// Whether the error refuses what was asked (bad input, nothing there, not allowed, a clash)
    /// rather than reporting a failure of the site itself.
    public var isRefusal: Bool {
        [.invalidInput, .notFound, .forbidden, .conflict].contains(code)
    }

    /// Where the problem is: a file (with line) and a field, as far as known.
    public struct Location: Sendable, Equatable, CustomStringConvertible {
        public var file: String?
        public var line: Int?
        public var field: String?

        public init(file: String? = nil, line: Int? = nil, field: String? = nil) {
            self.file = file
            self.line = line
            self.field = field
        }

        public var description: String {
            var place = file ?? ""
            if let line { place += place.isEmpty ? "line \(line)" : ":\(line)" }
            if let field { place += place.isEmpty ? "field '\(field)'" : ": field '\(field)'" }
            return place
        }
    }

    public var code: Code
    public var message: String
    public var location: Location?

    public init(_ code: Code, _ message: String, location: Location? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        guard let location, !location.description.isEmpty else { return message }
        return "\(location): \(message)"
    }
}
