import Foundation
import MastheadCore

/// Where the store lives, parsed from a `MASTHEAD_DATABASE_URL`-style string.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite file at this path (absolute, or relative to the working directory).
    case sqlite(path: String)
    /// A PostgreSQL database (`postgres://user:password@host:port/database?sslmode=require`).
    case postgres(url: String)

    /// Parses `sqlite:///absolute/path.sqlite`, `sqlite://relative/path.sqlite` or
    /// `postgres://user:password@host:port/database` (with `?sslmode=disable|prefer|require`).
    public init(parsing text: String) throws {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty, !path.hasSuffix("/") else {
                throw MastheadError(.configuration, "database URL '\(text)' names no file; write e.g. sqlite:///var/lib/masthead/site.sqlite", location: .init(field: "database_url"))
            }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let parts = URLComponents(string: text), let host = parts.host, !host.isEmpty, parts.user != nil,
                  parts.path.count > 1 else {
                throw MastheadError(
                    .configuration, "database URL \(Self.redacted(text)) needs a user, a host and a database; write e.g. postgres://masthead:secret@127.0.0.1:5432/masthead",
                    location: .init(field: "database_url"))
            }
            let modes = ["disable", "prefer", "require", "verify-ca", "verify-full", "allow", "true", "false"]
            for item in parts.queryItems ?? [] where ["sslmode", "tlsmode", "ssl", "tls"].contains(item.name.lowercased()) {
                guard let mode = item.value, modes.contains(mode) else {
                    throw MastheadError(
                        .configuration, "database URL \(Self.redacted(text)): sslmode must be disable, prefer or require (prefer and require both check the server's certificate and name)",
                        location: .init(field: "database_url"))
                }
            }
            self = .postgres(url: text)
        } else {
            throw MastheadError(
                .configuration, "database URL must start with sqlite:// or postgres:// (e.g. sqlite:///var/lib/masthead/site.sqlite)",
                location: .init(field: "database_url"))
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite://" + path
        case .postgres(let url): return Self.redacted(url)
        }
    }

    /// `url` with its password, if any, replaced by `***`, fit for logs and error messages.
    public static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else {
            // Not even parseable: show no more than the scheme, in case a password is in it.
            return (url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "postgres") + "://…"
        }
        guard parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? "postgres://…"
    }
}
