import Foundation
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
        /// The disk holding the data folder is full: nothing was written.
        public static let diskFull = Code("disk-full")
        /// The database or data folder cannot be written (a read-only file or filesystem).
        public static let readOnly = Code("read-only")
        /// The database server cannot be reached for now (restarting, or the network down).
        public static let unavailable = Code("unavailable")
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

extension MastheadError {
    /// The error as a clear storage fault, when it is one: a full disk or a read-only file or
    /// filesystem (POSIX and Foundation file errors); nil for anything else.
    public static func storageFault(_ error: any Error) -> MastheadError? {
        if let error = error as? MastheadError { return [.diskFull, .readOnly, .unavailable].contains(error.code) ? error : nil }
        let ns = error as NSError
        let posix: Int32? = if ns.domain == NSPOSIXErrorDomain {
            Int32(ns.code)
        } else {
            (ns.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil }
        }
        if posix == ENOSPC || posix == EDQUOT || ns.domain == NSCocoaErrorDomain && ns.code == NSFileWriteOutOfSpaceError {
            return .diskFull
        }
        if posix == EROFS || ns.domain == NSCocoaErrorDomain && ns.code == NSFileWriteVolumeReadOnlyError {
            return .readOnly
        }
        return nil
    }

    /// The disk is full.
    public static let diskFull = MastheadError(
        .diskFull, "the server's disk is full, so nothing was saved; once space is freed, try again")
    /// The data cannot be written.
    public static let readOnly = MastheadError(
        .readOnly, "the site's database or data folder is read-only, so nothing was saved; reading still works")
    /// The database server cannot be reached (restarting, or the network down); the reason is
    /// the operator's business, not the reader's.
    public static let databaseUnavailable = MastheadError(
        .unavailable, "the site's database cannot be reached just now, so nothing was changed; try again in a moment")
}
