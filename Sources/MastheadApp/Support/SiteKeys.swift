import Crypto
import Foundation
import MastheadCore

/// The keys that sign what the site must recognise later (tip forms, image addresses) and that
/// name clients for rate limits, all derived from one root: the configured `secret`
/// (`MASTHEAD_SECRET`), the same on every instance, or random bytes known to this process alone
/// when none is set — enough for one instance, which is why only PostgreSQL sites need one.
public struct SiteKeys: Sendable {
    private let root: SymmetricKey
    /// Whether the root is the configured secret (shared by every instance).
    public let isConfigured: Bool

    public init(secret: Data?) {
        root = secret.map { SymmetricKey(data: $0) } ?? SymmetricKey(size: .bits256)
        isConfigured = secret != nil
    }

    /// The key for one purpose; different purposes get unrelated keys.
    public func key(_ purpose: String) -> SymmetricKey {
        SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("masthead/\(purpose)".utf8), using: root))
    }

    /// How a client (its network address) is named in the database for `purpose`'s limits: 20
    /// bits of a keyed hash whose key changes every day (UTC) and is not in the database. About a
    /// million names for four billion IPv4 addresses: even someone holding the database and the
    /// secret finds thousands of addresses behind each name, and limits lose almost nothing to
    /// two clients sharing one.
    public func clientName(_ client: String, purpose: String, now: Date) -> String {
        let day = Int(now.timeIntervalSince1970 / 86_400)
        let daily = key("clients/\(purpose)/\(day)")
        let bits = HMAC<SHA256>.authenticationCode(for: Data(client.utf8), using: daily).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        return String(UInt32(littleEndian: bits) & 0xF_FFFF, radix: 16)
    }
}
