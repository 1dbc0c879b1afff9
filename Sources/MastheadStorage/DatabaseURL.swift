import MastheadCore

/// Where the store lives, parsed from a `MASTHEAD_DATABASE_URL`-style string.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite file at this path (absolute, or relative to the working directory).
    case sqlite(path: String)

    /// Parses `sqlite:///absolute/path.sqlite` or `sqlite://relative/path.sqlite`.
    public init(parsing text: String) throws {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty, !path.hasSuffix("/") else {
                throw MastheadError(.configuration, "database URL '\(text)' names no file; write e.g. sqlite:///var/lib/masthead/site.sqlite", location: .init(field: "database_url"))
            }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            throw MastheadError(
                .configuration, "PostgreSQL is not supported by this version yet; use sqlite:///path/to/site.sqlite",
                location: .init(field: "database_url"))
        } else {
            throw MastheadError(
                .configuration, "database URL must start with sqlite:// (e.g. sqlite:///var/lib/masthead/site.sqlite)",
                location: .init(field: "database_url"))
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite://" + path
        }
    }
}
