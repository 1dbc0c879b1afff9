import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MastheadCore
import NIOCore
import Synchronization
import SystemPackage

/// Writes the public site as files for any web server or CDN (`masthead export-static DIR`).
///
/// Pages are rendered by the site's own router, in the process, exactly as a first-time reader
/// gets them; the export follows every link from the home page, the feeds and the sitemaps (which
/// list every published story, section, tag, author and page), so whatever a reader can reach is
/// written, and nothing else: no draft, no picture only a draft uses. Addresses ending in `/`
/// become `index.html` (`index.xml` for RSS and Atom feeds, `index.json` for JSON Feed); image
/// variants keep their addresses, in the format of their original (a `.jpg` holds JPEG); the
/// theme's assets are copied whole; `404.html` is the site's not-found page.
///
/// What needs the server is left out and keeps its address: search, the tip line, privacy
/// choices, the newsroom and the APIs (docs/deployment.md shows how a web server sends those to
/// a running Masthead). The export is written beside `directory` and swapped in when complete, so
/// a failed export leaves the previous one as it was; two exports of an unchanged site are
/// byte-for-byte the same.
public struct StaticExporter: Sendable {
    let site: Site
    /// Pages rendered at once.
    let width: Int
    /// Folders of the export made so far (each is made once, not asked for every file).
    private let folders = FolderSet()

    public init(site: Site, width: Int = max(2, ProcessInfo.processInfo.activeProcessorCount * 2)) {
        self.site = site
        self.width = width
    }

    public struct Summary: Sendable {
        public var pages = 0
        public var feeds = 0
        public var images = 0
        public var otherFiles = 0
        public var assets = 0
        public var bytes = 0
        /// Links to addresses of this site that answered 404, each with a page that links there.
        public var brokenLinks: [(target: String, from: String)] = []

        public var files: Int { pages + feeds + images + otherFiles + assets }

        public var description: String {
            let megabytes = String(format: "%.1f", Double(bytes) / 1_048_576)
            return "Wrote \(files) files (\(megabytes) MB): \(pages) pages, \(feeds) feeds, \(images) image variants, "
                + "\(otherFiles) sitemaps and other files, \(assets) theme assets"
        }
    }

    /// The file a previous export leaves, so the next may replace it.
    static let marker = ".masthead-static"
    /// Addresses only a running Masthead can answer, or that are no part of the public site.
    static let serverOnly = ["/admin", "/api/", "/ghost/", "/search", "/tips", "/consent", "/preview/", "/healthz", "/readyz"]

    /// Writes the site into `directory`: a new or empty folder, or one a previous export wrote.
    public func export(to directory: String, progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> Summary {
        let target = URL(fileURLWithPath: directory).standardizedFileURL
        try Self.checkTarget(target)
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())")
        let manager = FileManager.default
        try? manager.removeItem(at: staging)
        do {
            try manager.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw MastheadError(.invalidInput, "cannot be written: \(error.localizedDescription)", location: .init(file: directory))
        }
        do {
            var summary = try await crawl(into: staging.path, progress: progress)
            summary.assets = try copyFolder(site.theme.assetsDirectory, to: staging.appendingPathComponent("assets").path)
            // The marker names what the export holds at the top, so the next export can tell
            // whether anything else has been put here since (a `.git`, a `CNAME`) and keep off it.
            let written = try FileManager.default.contentsOfDirectory(atPath: staging.path).sorted().joined(separator: "\n")
            try Data("Written by masthead export-static; the next export replaces this folder.\n\(written)\n".utf8)
                .write(to: staging.appendingPathComponent(Self.marker))
            try Self.swap(staging, into: target)
            return summary
        } catch {
            try? manager.removeItem(at: staging)
            throw error
        }
    }

    // MARK: Crawling

    /// What fetching one address gave.
    private struct Fetched: Sendable {
        var path: String
        var kind: Kind
        var bytes = 0
        var links: [String] = []

        enum Kind { case page, feed, image, other, notFound, skipped }
    }

    private func crawl(into root: String, progress: (@Sendable (Int, Int) -> Void)?) async throws -> Summary {
        let responder = buildRouter(site: site).buildResponder()
        let logger = {
            var quiet = site.logger
            quiet.logLevel = .warning
            return quiet
        }()
        // Without a trailing slash: the configuration strips it, as absoluteURL needs.
        let base = site.settings.current.baseURL
        let host = URL(string: base)?.host ?? "localhost"
        let start = ["/", "/robots.txt", "/sitemap.xml", "/feed/", "/feed/atom/", "/feed/json/"]
        var queue = start
        var head = 0
        var seen = Set(start)
        var referrer: [String: String] = [:]
        var summary = Summary()
        let width = self.width

        // The not-found page, for servers that show one (`error_page 404 /404.html`); a standing
        // page at `/404/`, where the newsroom wrote one, takes its place.
        let missing = try await fetch("/404/", responder: responder, host: host, logger: logger)
        summary.bytes += try write(missing.body, to: root + "/404.html")
        summary.otherFiles += 1

        try await withThrowingTaskGroup(of: Fetched.self) { group in
            var running = 0
            func startMore() {
                while running < width, head < queue.count {
                    let path = queue[head]
                    head += 1
                    running += 1
                    group.addTask { try await self.export(path, into: root, base: base, responder: responder, host: host, logger: logger) }
                }
            }
            startMore()
            while let fetched = try await group.next() {
                running -= 1
                summary.bytes += fetched.bytes
                switch fetched.kind {
                case .page: summary.pages += 1
                case .feed: summary.feeds += 1
                case .image: summary.images += 1
                case .other: summary.otherFiles += 1
                case .notFound: summary.brokenLinks.append((fetched.path, referrer[fetched.path] ?? "?"))
                case .skipped: break
                }
                for link in fetched.links where seen.insert(link).inserted {
                    queue.append(link)
                    referrer[link] = fetched.path
                }
                progress?(head - running, queue.count)
                startMore()
            }
        }
        summary.brokenLinks.sort { $0.target < $1.target }
        return summary
    }

    /// Fetches `path`, writes it under `root` when it is a page of the site, and returns the links it holds.
    private func export(
        _ path: String, into root: String, base: String, responder: RouterResponder<MastheadRequestContext>, host: String, logger: Logger
    ) async throws -> Fetched {
        let response = try await fetch(path, responder: responder, host: host, logger: logger)
        switch response.status {
        case .ok: break
        case .notFound: return Fetched(path: path, kind: .notFound)
        // Redirects (an old address, a story that moved) and refusals are the server's to make.
        default: return Fetched(path: path, kind: .skipped)
        }
        let type = response.contentType
        let kind: Fetched.Kind
        let file: String
        if path.hasSuffix("/") {
            let (name, isFeed) = Self.indexName(contentType: type)
            file = path + name
            kind = isFeed ? .feed : .page
        } else {
            file = path
            kind = path.hasPrefix("/img/") ? .image : .other
        }
        guard let relative = Self.safeFile(file) else { return Fetched(path: path, kind: .skipped) }
        var fetched = Fetched(path: path, kind: kind)
        fetched.bytes = try write(response.body, to: root + relative)
        if type.hasPrefix("text/html") || type.contains("xml") || type.contains("json") {
            fetched.links = Self.links(in: response.body, base: base)
        }
        return fetched
    }

    private struct Answer {
        var status: HTTPResponse.Status
        var contentType: String
        var body: ByteBuffer
    }

    private func fetch(_ path: String, responder: RouterResponder<MastheadRequestContext>, host: String, logger: Logger) async throws -> Answer {
        var headers: HTTPFields = [
            // Not a reader: nothing is counted in the audience figures.
            .userAgent: "Masthead export-static (static site bot)",
            .accept: path.hasPrefix("/img/") ? Self.imageAccept(path) : "*/*",
        ]
        headers[.acceptEncoding] = "identity"
        let request = Request(
            head: HTTPRequest(method: .get, scheme: "http", authority: host, path: path, headerFields: headers),
            body: RequestBody(buffer: ByteBuffer()))
        let response = try await responder.respond(to: request, context: MastheadRequestContext(inProcess: logger))
        let collector = BodyCollector()
        try await response.body.write(collector)
        return Answer(status: response.status, contentType: response.headers[.contentType] ?? "", body: collector.buffer)
    }

    /// Image variants are asked for in their original's format, so a `.jpg` address holds JPEG on any server.
    static func imageAccept(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "png", "gif": "image/png"
        case "webp": "image/webp"
        case "avif": "image/avif"
        default: "image/jpeg"
        }
    }

    /// The file an address ending in `/` is written to, by what it holds.
    static func indexName(contentType: String) -> (name: String, isFeed: Bool) {
        if contentType.hasPrefix("application/rss+xml") || contentType.hasPrefix("application/atom+xml") { return ("index.xml", true) }
        if contentType.hasPrefix("application/feed+json") { return ("index.json", true) }
        if contentType.contains("xml") { return ("index.xml", false) }
        return ("index.html", false)
    }

    /// `address` as a file path under the export (percent-decoded, as web servers look files up),
    /// or nil when it would leave the folder or name a hidden file.
    static func safeFile(_ address: String) -> String? {
        guard let decoded = address.removingPercentEncoding, !decoded.contains("\0"), !decoded.contains("\\") else { return nil }
        let parts = decoded.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.hasPrefix(".") }) else { return nil }
        return "/" + parts.joined(separator: "/")
    }

    // MARK: Links

    /// The site's own addresses `text` links to: `href`, `src` and `srcset` attributes, sitemap
    /// `<loc>` and feed `<link>` elements, `url` attributes (enclosures, media), relative to the
    /// root or absolute under `base`, and any address under `base` in quotes (`og:image`,
    /// structured data). Addresses with a query, fragments, and what only the server
    /// answers are left out.
    static func links(in text: ByteBuffer, base: String) -> [String] {
        var found: [String] = []
        let prefix = base.isEmpty ? [] : Array((base + "/").utf8)
        text.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            let count = bytes.count
            func value(from start: Int, until end: UInt8) -> (String, Int)? {
                var stop = start
                while stop < count, bytes[stop] != end, stop - start < 4096 { stop += 1 }
                guard stop < count, bytes[stop] == end else { return nil }
                return (String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<stop]), as: UTF8.self), stop)
            }
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "=") && index + 1 < count && bytes[index + 1] == UInt8(ascii: "\"") {
                    let name = attributeName(before: index, in: bytes)
                    if name == "href" || name == "src" || name == "url" || name == "srcset", let (text, end) = value(from: index + 2, until: UInt8(ascii: "\"")) {
                        if name == "srcset" {
                            for candidate in text.split(separator: ",") {
                                if let address = candidate.split(separator: " ", omittingEmptySubsequences: true).first {
                                    found.append(String(address))
                                }
                            }
                        } else {
                            found.append(text)
                        }
                        index = end
                    }
                } else if byte == UInt8(ascii: "\""), !prefix.isEmpty, index + prefix.count < count,
                          prefix.indices.allSatisfy({ bytes[index + 1 + $0] == prefix[$0] }),
                          let (text, end) = value(from: index + 1, until: UInt8(ascii: "\"")) {
                    // An absolute address in quotes anywhere: `og:image`, structured data, JSON.
                    found.append(text)
                    index = end + 1
                    continue
                } else if byte == UInt8(ascii: "<"), let tag = elementName(at: index + 1, in: bytes), tag == "loc" || tag == "link",
                          let (text, end) = value(from: index + tag.utf8.count + 2, until: UInt8(ascii: "<")) {
                    found.append(text)
                    index = end
                    continue
                }
                index += 1
            }
        }
        return found.compactMap { localAddress($0, base: base) }
    }

    private static func attributeName(before index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        var start = index
        while start > 0, start > index - 8, bytes[start - 1] >= UInt8(ascii: "a"), bytes[start - 1] <= UInt8(ascii: "z") { start -= 1 }
        guard start > 0, bytes[start - 1] == UInt8(ascii: " ") || bytes[start - 1] == UInt8(ascii: "\n") || bytes[start - 1] == UInt8(ascii: "\t") else { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// `loc` or `link` when an element of that name (with no attributes) starts at `index`.
    private static func elementName(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        for name in ["loc", "link"] {
            let utf8 = Array(name.utf8)
            guard index + utf8.count < bytes.count else { continue }
            if zip(utf8.indices, utf8).allSatisfy({ bytes[index + $0] == $1 }) && bytes[index + utf8.count] == UInt8(ascii: ">") { return name }
        }
        return nil
    }

    /// `link` as an address of this site's static part, or nil.
    static func localAddress(_ link: String, base: String) -> String? {
        var address = Substring(link)
        if !base.isEmpty, address.hasPrefix(base), address.dropFirst(base.count).first == "/" {
            address = address.dropFirst(base.count)
        }
        guard address.first == "/", address.dropFirst().first != "/" else { return nil }
        if let end = address.firstIndex(where: { $0 == "#" || $0 == "?" || $0 == "&" }) {
            // A query (or its `&amp;`-escaped form) means the server; a fragment is only a place on the page.
            guard address[end] == "#" else { return nil }
            address = address[..<end]
        }
        guard !address.hasPrefix("/assets/") else { return nil }
        for prefix in serverOnly where address.hasPrefix(prefix) {
            let rest = address.dropFirst(prefix.count)
            if prefix.hasSuffix("/") || rest.isEmpty || rest.first == "/" { return nil }
        }
        return String(address)
    }

    // MARK: Files

    private func write(_ body: ByteBuffer, to file: String) throws -> Int {
        let folder = (file as NSString).deletingLastPathComponent
        if !folders.withLock({ $0.contains(folder) }) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw MastheadError(.storage, "cannot be written: \(error.localizedDescription)", location: .init(file: folder))
            }
            folders.withLock { _ = $0.insert(folder) }
        }
        // Plain writes, no flush to disk for each of thousands of files: the export is swapped in
        // whole when complete, and a crash before that leaves only the work folder.
        do {
            let descriptor = try FileDescriptor.open(
                FilePath(file), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try descriptor.closeAfter { _ = try descriptor.writeAll(body.readableBytesView) }
        } catch {
            throw MastheadError(.storage, "cannot be written: \(error)", location: .init(file: file))
        }
        return body.readableBytes
    }

    /// Copies every file under `source` (no hidden ones) into `destination`; returns how many.
    private func copyFolder(_ source: String, to destination: String) throws -> Int {
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: source) else { return 0 }
        var copied = 0
        for case let relative as String in walker {
            guard !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: source + "/" + relative, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            let target = destination + "/" + relative
            do {
                try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try manager.copyItem(atPath: source + "/" + relative, toPath: target)
            } catch {
                throw MastheadError(.storage, "cannot be copied: \(error.localizedDescription)", location: .init(file: source + "/" + relative))
            }
            copied += 1
        }
        return copied
    }

    /// Refuses a folder that holds anything but a previous export.
    static func checkTarget(_ target: URL) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: target.path, isDirectory: &isFolder) else { return }
        guard isFolder.boolValue else {
            throw MastheadError(.invalidInput, "is a file: export into a new or empty folder, or one export-static wrote", location: .init(file: target.path))
        }
        let contents = (try? manager.contentsOfDirectory(atPath: target.path)) ?? []
        guard contents.isEmpty || contents.contains(marker) else {
            throw MastheadError(
                .invalidInput, "is not empty and was not written by export-static: export into a new or empty folder, or one export-static wrote",
                location: .init(file: target.path))
        }
        // An earlier export: replaced whole, so it must hold nothing the export did not write.
        guard let listed = try? String(contentsOfFile: target.path + "/" + marker, encoding: .utf8) else { return }
        let written = Set(listed.split(separator: "\n").dropFirst().map(String.init))
        let others = contents.filter { $0 != marker && !written.contains($0) }.sorted()
        guard others.isEmpty else {
            throw MastheadError(
                .invalidInput,
                "holds \(others.prefix(5).joined(separator: ", ")) besides an earlier export, which replacing the folder would delete: move them away or export elsewhere",
                location: .init(file: target.path))
        }
    }

    /// Puts the finished export where the previous one (if any) was.
    static func swap(_ staging: URL, into target: URL) throws {
        let manager = FileManager.default
        let previous = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).previous-\(getpid())")
        do {
            if manager.fileExists(atPath: target.path) { try manager.moveItem(at: target, to: previous) }
            try manager.moveItem(at: staging, to: target)
        } catch {
            if manager.fileExists(atPath: previous.path), !manager.fileExists(atPath: target.path) { try? manager.moveItem(at: previous, to: target) }
            throw MastheadError(.storage, "cannot be replaced: \(error.localizedDescription)", location: .init(file: target.path))
        }
        try? manager.removeItem(at: previous)
    }
}

private final class FolderSet: Sendable {
    private let folders = Mutex<Set<String>>([])

    func withLock<T>(_ body: (inout Set<String>) -> T) -> T {
        folders.withLock { body(&$0) }
    }
}

/// Gathers a response body in memory (one request's, written by one task at a time).
private final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    var buffer = ByteBuffer()

    func write(_ part: ByteBuffer) async throws {
        buffer.writeImmutableBuffer(part)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
