import AsyncHTTPClient
import Foundation
import MastheadCore
import MastheadStorage
import NIOCore
import Synchronization

/// What an import from another system did: counts, and every item it left out and why. Printed
/// at the end of an import and written as JSON with `--report FILE`.
public struct ImportReport: Codable, Sendable {
    public struct Skipped: Codable, Sendable, Equatable {
        /// The item as the old system knew it, e.g. `post 12 "Harbour strike ends"`.
        public var item: String
        public var reason: String
    }

    public struct MissingImage: Codable, Sendable, Equatable {
        public var item: String
        public var image: String
        public var reason: String
    }

    public struct Note: Codable, Sendable, Equatable {
        public var item: String
        public var note: String
    }

    /// What the import read, e.g. `WordPress export newsroom.xml`.
    public var source: String
    /// True when nothing was written (`--dry-run`).
    public var dryRun: Bool
    /// Posts and pages imported (created, updated or unchanged).
    public var posts = 0
    public var pages = 0
    /// Imported posts by what happened to them: created, updated, unchanged, kept newsroom edits.
    public var postChanges: [String: Int] = [:]
    /// Imported posts by their status here: published, draft, review, scheduled.
    public var postStatuses: [String: Int] = [:]
    public var authors = 0
    public var sections = 0
    public var tags = 0
    /// Picture files copied into the media folder (a second run copies only new or changed ones).
    public var images = 0
    /// Old addresses that now redirect.
    public var redirects = 0
    /// Comments in the export (not imported: the site has none).
    public var comments = 0
    public var skipped: [Skipped] = []
    public var missingImages: [MissingImage] = []
    /// Parts of bodies that were removed (scripts, forms, frames from unknown sites, plugin shortcodes).
    public var removed: [Note] = []
    /// Things worth knowing (a password-protected post imported as a draft).
    public var notes: [Note] = []
    public var seconds = 0.0

    public init(source: String, dryRun: Bool) {
        self.source = source
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case source, posts, pages, authors, sections, tags, images, redirects, comments, skipped, removed, notes, seconds
        case dryRun = "dry_run", postChanges = "post_changes", postStatuses = "post_statuses", missingImages = "missing_images"
    }

    mutating func count(_ article: ImportedArticle) {
        posts += 1
        postChanges[article.change.rawValue, default: 0] += 1
        postStatuses[article.status.rawValue, default: 0] += 1
    }

    /// The summary printed at the end of an import.
    public var summary: String {
        var lines: [String] = []
        let verb = dryRun ? "Would import" : "Imported"
        let changes = postChanges.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let statuses = postStatuses.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        lines.append("\(verb) from \(source) in \(String(format: "%.1f", seconds)) s:")
        lines.append("  posts      \(posts)" + (posts > 0 ? " (\(changes); \(statuses))" : ""))
        lines.append("  pages      \(pages)")
        lines.append("  authors    \(authors)")
        lines.append("  sections   \(sections)")
        lines.append("  tags       \(tags)")
        lines.append("  images     \(images)")
        lines.append("  redirects  \(redirects) old addresses")
        lines.append("  comments   \(comments) (not imported: Masthead has no comments)")
        // Each list: its heading, its first 50 lines, and how many more the JSON report holds.
        func list(_ heading: String, _ entries: [String]) {
            guard !entries.isEmpty else { return }
            lines.append("\(heading) \(entries.count):")
            lines += entries.prefix(50).map { "  " + $0 }
            if entries.count > 50 { lines.append("  … and \(entries.count - 50) more (see --report)") }
        }
        list("Skipped", skipped.map { "\($0.item): \($0.reason)" })
        list("Images left out", missingImages.map { "\($0.item): \($0.image) (\($0.reason))" })
        list("Removed from bodies", removed.map { "\($0.item): \($0.note)" })
        list("Notes", notes.map { "\($0.item): \($0.note)" })
        if dryRun { lines.append("Nothing was written (--dry-run).") }
        return lines.joined(separator: "\n")
    }

    /// The report as indented JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// Thrown inside a dry run's transaction so that nothing it wrote is kept.
struct DryRunRollback: Error {
    var report: ImportReport
}

/// Fetches pictures an export names but the import was not given: in parallel, with short
/// timeouts and a size limit; a host that fails once is not asked again. Never throws: a
/// picture that cannot be had is reported, not fatal.
final class ImageDownloader: Sendable {
    let folder: String
    let maxBytes: Int
    private let failedHosts = Mutex<Set<String>>([])
    private let succeeded = Mutex(false)
    private let fetched = Mutex<[String: Result<String, DownloadFailure>]>([:])
    static let concurrency = 6

    struct DownloadFailure: Error, Sendable {
        var reason: String
    }

    init(maxBytes: Int) throws {
        folder = NSTemporaryDirectory() + "masthead-import-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.maxBytes = maxBytes
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// The downloaded file for `url`, or why there is none.
    func file(for url: String) -> Result<String, DownloadFailure>? {
        fetched.withLock { $0[url] }
    }

    /// Downloads every one of `urls` not tried yet.
    func fetch(_ urls: [String]) async {
        let todo = Array(Set(urls)).filter { file(for: $0) == nil }.sorted()
        guard !todo.isEmpty else { return }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 3, allowCycles: false), timeout: .init(connect: .seconds(3), read: .seconds(10)))
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for url in todo {
                if running >= Self.concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await self.download(url, with: client) }
                running += 1
            }
        }
        try? await client.shutdown()
    }

    private func download(_ url: String, with client: HTTPClient) async {
        let result: Result<String, DownloadFailure>
        let host = URLComponents(string: url)?.host?.lowercased() ?? ""
        if host.isEmpty || !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            result = .failure(.init(reason: "not a web address"))
        } else if failedHosts.withLock({ $0.contains(host) }) {
            result = .failure(.init(reason: "\(host) could not be reached"))
        } else if !succeeded.withLock({ $0 }), failedHosts.withLock({ $0.count >= 3 }) {
            // Three sites in a row out of reach and none reached: this machine is offline.
            result = .failure(.init(reason: "not downloaded: no site could be reached from this machine"))
        } else {
            do {
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(15))
                guard response.status == .ok else { throw DownloadFailure(reason: "the server answered \(response.status.code)") }
                // The site answered: a picture too large or too slow to arrive is this picture's problem, not the site's.
                let body: ByteBuffer
                do {
                    body = try await response.body.collect(upTo: maxBytes)
                } catch {
                    throw DownloadFailure(reason: "larger than \(maxBytes / 1_048_576) MB, or too slow to arrive")
                }
                let file = folder + "/" + UUID().uuidString.lowercased() + "." + ((URL(string: url)?.pathExtension).map { $0.isEmpty ? "img" : $0 } ?? "img")
                try Data(buffer: body).write(to: URL(fileURLWithPath: file))
                succeeded.withLock { $0 = true }
                result = .success(file)
            } catch let failure as DownloadFailure {
                result = .failure(failure)
            } catch {
                failedHosts.withLock { _ = $0.insert(host) }
                result = .failure(.init(reason: "\(host) could not be reached"))
            }
        }
        fetched.withLock { $0[url] = result }
    }
}
