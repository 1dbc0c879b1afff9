import CompressNIO
import Foundation
import MastheadCore
import Hummingbird
import NIOCore
import Synchronization

/// Rendered pages kept in memory, each stored plain and gzip-compressed once, with its validators.
///
/// Any content change empties it (see ``ContentWatcher``); entries are never stale by more than
/// the watcher's interval.
public final class PageCache: Sendable {
    /// One cached response body and what a conditional request compares against.
    public struct Entry: Sendable {
        public var plain: ByteBuffer
        public var gzip: ByteBuffer?
        /// A strong validator: a hash of the plain body.
        public var etag: String
        public var lastModified: String
        public var contentType: String
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var generation = 0
    }

    private let state = Mutex(State())
    /// The most pages kept; past it, the cache starts again empty (pages are cheap to re-render).
    public let capacity: Int

    public init(capacity: Int = 5_000) {
        self.capacity = capacity
    }

    /// The entry for `key`, if cached.
    public func entry(for key: String) -> Entry? {
        state.withLock { $0.entries[key] }
    }

    /// The cache's generation: it grows with every purge, so a render that began before a purge
    /// is not stored after it.
    public var generation: Int { state.withLock { $0.generation } }

    /// Makes an entry of `html` and stores it under `key` unless the cache was purged since `generation`.
    @discardableResult
    public func store(_ html: String, contentType: String = "text/html; charset=utf-8", for key: String, generation: Int) -> Entry {
        let plain = ByteBuffer(string: html)
        var source = plain
        let gzip = try? source.compress(with: .gzip())
        let entry = Entry(
            plain: plain,
            gzip: gzip.flatMap { $0.readableBytes < plain.readableBytes ? $0 : nil },
            etag: "\"\(Self.fnv1a(plain.readableBytesView))\"",
            lastModified: HTTPDate.string(from: .now),
            contentType: contentType)
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = entry
        }
        return entry
    }

    /// Forgets every page.
    public func purge() {
        state.withLock { state in
            state.entries.removeAll()
            state.generation += 1
        }
    }

    public var count: Int { state.withLock { $0.entries.count } }

    static func fnv1a(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}

extension PageCache {
    /// The response to `request` from the cache, or from `render` (whose result is then cached
    /// under the request's path).
    func respond(
        to request: Request, contentType: String = "text/html; charset=utf-8",
        cacheControl: String = "public, max-age=60, stale-while-revalidate=300", render: () async throws -> String
    ) async throws -> Response {
        // Pages differ by the reader's consent (the notice, gated content): one copy per state.
        let isPage = contentType.hasPrefix("text/html")
        let key = isPage ? request.uri.path + "|" + ConsentState.current.variantKey : request.uri.path
        if let entry = entry(for: key) { return entry.response(to: request, cacheControl: cacheControl) }
        let generation = self.generation
        return store(try await render(), contentType: contentType, for: key, generation: generation).response(to: request, cacheControl: cacheControl)
    }
}

extension PageCache.Entry {
    /// The response to `request` for this page: 304 if the client's copy is current, gzip if accepted.
    func response(to request: Request, status: HTTPResponse.Status = .ok, cacheControl: String = "public, max-age=60, stale-while-revalidate=300") -> Response {
        var headers: HTTPFields = [
            .eTag: etag,
            .lastModified: lastModified,
            .cacheControl: cacheControl,
            .vary: contentType.hasPrefix("text/html") ? "Accept-Encoding, Cookie, Sec-GPC, DNT" : "Accept-Encoding",
        ]
        if status == .ok, isCurrent(for: request) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        var body = plain
        if let gzip, request.headers[.acceptEncoding].map(Self.acceptsGzip) == true {
            headers[.contentEncoding] = "gzip"
            body = gzip
        }
        if request.method == .head {
            headers[.contentLength] = String(body.readableBytes)
            return Response(status: status, headers: headers)
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    private func isCurrent(for request: Request) -> Bool {
        if let match = request.headers[.ifNoneMatch] {
            return match.split(separator: ",").contains { tag in
                let tag = tag.trimmingCharacters(in: .whitespaces)
                return tag == "*" || tag == etag || tag == "W/" + etag
            }
        }
        if let since = request.headers[.ifModifiedSince], let sinceDate = HTTPDate.date(from: since),
            let modified = HTTPDate.date(from: lastModified)
        {
            return modified <= sinceDate
        }
        return false
    }

    static func acceptsGzip(_ header: String) -> Bool {
        header.split(separator: ",").contains { part in
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard fields.first == "gzip" || fields.first == "*" else { return false }
            return !fields.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" || $0.hasPrefix("q=0.0") && Double($0.dropFirst(2)) == 0 }
        }
    }
}

/// Dates as HTTP headers write them (RFC 9110 IMF-fixdate): `Sun, 29 Nov 2026 02:36:06 GMT`.
enum HTTPDate {
    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }

    static func string(from date: Date) -> String { formatter().string(from: date) }
    static func date(from text: String) -> Date? { formatter().date(from: text) }
}
