import CompressNIO
import Foundation
import MastheadCore
import Hummingbird
import NIOCore
import Synchronization

/// Rendered pages kept in memory, each stored plain and gzip-compressed once, with its validators
/// and header values made once, so a hit only picks the body and writes headers.
///
/// Bounded by bytes: past `capacityBytes`, the pages least recently read go first. A content
/// change forgets only the pages it made stale (see ``ContentWatcher`` and `StalePages`); every
/// page is also re-rendered after `maxAge` at most, so blocks that show other stories (related
/// stories) follow their headlines within minutes.
public final class PageCache: Sendable {
    /// One cached response body and what a conditional request compares against.
    public struct Entry: Sendable {
        public var plain: ByteBuffer
        public var gzip: ByteBuffer?
        /// A strong validator: a hash of the plain body.
        public var etag: String
        public var lastModified: String
        public var contentType: String
        /// The page's path, which invalidation matches.
        var path: String = ""
        var storedAt: ContinuousClock.Instant = .now
        var size: Int { plain.readableBytes + (gzip?.readableBytes ?? 0) + path.utf8.count + 200 }
    }

    private struct Slot {
        var entry: Entry
        var lastUsed: UInt64
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var generation = 0
    }

    private let state = Mutex(State())
    /// The most bytes of pages kept; 0 keeps none (every page rendered afresh).
    public let capacityBytes: Int
    /// The longest a page is served from the cache.
    public let maxAge: Duration

    public init(capacityBytes: Int = 128 * 1_048_576, maxAge: Duration = .seconds(300)) {
        self.capacityBytes = capacityBytes
        self.maxAge = maxAge
    }

    /// The entry for `key`, if cached and not older than `maxAge`.
    public func entry(for key: String) -> Entry? {
        guard capacityBytes > 0 else { return nil }
        let now = ContinuousClock.now
        return state.withLock { state in
            guard var slot = state.slots[key] else { return nil }
            guard slot.entry.storedAt.duration(to: now) < maxAge else {
                state.bytes -= slot.entry.size
                state.slots[key] = nil
                return nil
            }
            state.clock += 1
            slot.lastUsed = state.clock
            state.slots[key] = slot
            return slot.entry
        }
    }

    /// The cache's generation: it grows with every purge or invalidation, so a render that began
    /// before one is not stored after it.
    public var generation: Int { state.withLock { $0.generation } }

    /// Makes an entry of `html` for the page at `path` and stores it under `key`, unless the
    /// cache forgot anything since `generation`.
    @discardableResult
    public func store(
        _ html: String, contentType: String = "text/html; charset=utf-8", for key: String, path: String, generation: Int
    ) -> Entry {
        let plain = ByteBuffer(string: html)
        let keeps = capacityBytes > 0
        var source = plain
        // Compressed once for all readers, and only when it is kept.
        let gzip = keeps ? try? source.compress(with: .gzip()) : nil
        let entry = Entry(
            plain: plain,
            gzip: gzip.flatMap { $0.readableBytes < plain.readableBytes ? $0 : nil },
            etag: "\"\(Self.fnv1a(plain.readableBytesView))\"",
            lastModified: HTTPDate.string(from: .now),
            contentType: contentType,
            path: path)
        guard keeps, entry.size <= capacityBytes / 4 else { return entry }
        state.withLock { state in
            guard state.generation == generation else { return }
            if let old = state.slots[key] { state.bytes -= old.entry.size }
            state.clock += 1
            state.slots[key] = Slot(entry: entry, lastUsed: state.clock)
            state.bytes += entry.size
            if state.bytes > capacityBytes { Self.evict(&state, downTo: capacityBytes - capacityBytes / 10) }
        }
        return entry
    }

    /// Forgets the least recently read pages until at most `bytes` are kept.
    private static func evict(_ state: inout State, downTo bytes: Int) {
        for (key, slot) in state.slots.sorted(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            guard state.bytes > bytes else { return }
            state.bytes -= slot.entry.size
            state.slots[key] = nil
        }
    }

    /// Forgets every page.
    public func purge() {
        state.withLock { state in
            state.slots.removeAll()
            state.bytes = 0
            state.generation += 1
        }
    }

    /// Forgets the pages that `matches` says are stale (given a page's path).
    public func invalidate(where matches: (String) -> Bool) {
        state.withLock { state in
            state.generation += 1
            for (key, slot) in state.slots where matches(slot.entry.path) {
                state.bytes -= slot.entry.size
                state.slots[key] = nil
            }
        }
    }

    public var count: Int { state.withLock { $0.slots.count } }
    /// The paths of the pages held.
    public var paths: Set<String> { state.withLock { Set($0.slots.values.map(\.entry.path)) } }

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
        return store(try await render(), contentType: contentType, for: key, path: request.uri.path, generation: generation)
            .response(to: request, cacheControl: cacheControl)
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
    static func string(from date: Date) -> String { DateText.http(date) }
    static func date(from text: String) -> Date? { DateText.parseHTTP(text) }
}
