import Foundation
import MastheadCore
import MastheadImaging
import MastheadRendering
import MastheadStorage
import Synchronization

/// One post or page from another system's export, converted and ready to store.
struct ForeignItem: Sendable {
    enum Content: Sendable {
        case article(ArticleRecord)
        case page(ForeignPage)
        case skipped(String)
    }

    /// The item as the old system knew it, for the report: `post 12 "Harbour strike ends"`.
    var label: String
    var content: Content
    var missingImages: [(image: String, reason: String)] = []
    var removed: [String] = []
    var notes: [String] = []
}

struct ForeignPage: Sendable {
    /// `about` or `about/team`.
    var path: String
    var title: String
    var summary: String
    var markdown: String
    var html: String
    var origin: ImportOrigin
    var legacyPaths: [String]
}

/// Finds the pictures an export names: in the folder the newsroom gave (a copy of the old site's
/// uploads), else downloaded, and stages them in the media folder under `prefix/`.
final class ForeignPictures: Sendable {
    let images: ImportImages
    let folder: String?
    let downloads: ImageDownloader?
    /// The media folder's subfolder for this system's pictures (`wordpress`, `ghost`).
    let prefix: String
    /// Where a picture's address points inside the given folder (`2013/01/photo.jpg`), if it is the old site's.
    let relativePath: @Sendable (String) -> String?
    /// Other files to try for a relative path, best first (WordPress's resized copies lead to the original).
    let alternatives: @Sendable (String) -> [String]
    /// The picture's full address, for downloading (relative ones are on the old site).
    let absolute: @Sendable (String) -> String
    /// The old site's picture addresses (their paths) and where each picture is now, to redirect them.
    private let moved = Mutex<[String: String]>([:])

    /// Old picture addresses → their new ones (`/wp-content/uploads/2013/01/a.jpg` → `/media/wordpress/2013/01/a.jpg`).
    var oldAddresses: [(path: String, target: String)] {
        moved.withLock { $0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    init(
        images: ImportImages, folder: String?, downloads: ImageDownloader?, prefix: String,
        relativePath: @escaping @Sendable (String) -> String?, alternatives: @escaping @Sendable (String) -> [String] = { [$0] },
        absolute: @escaping @Sendable (String) -> String
    ) {
        self.images = images
        self.folder = folder
        self.downloads = downloads
        self.prefix = prefix
        self.relativePath = relativePath
        self.alternatives = alternatives
        self.absolute = absolute
    }

    /// The picture at `address`, staged, or why it cannot be had.
    func resolve(_ address: String) -> Result<ImportImages.Stored, ImageDownloader.DownloadFailure> {
        let relative = relativePath(address)
        var reason = downloads == nil ? "not in the folder given, and downloading is off" : "not in the folder given"
        if folder == nil, downloads == nil { reason = "no folder of images was given, and downloading is off" }
        if let folder, let relative {
            for candidate in alternatives(relative) {
                let file = folder + "/" + candidate
                guard FileManager.default.fileExists(atPath: file) else { continue }
                do {
                    let stored = try images.stage(file: file, as: mediaPath(candidate), checkExtension: false)
                    noteMove(address, to: stored)
                    return .success(stored)
                } catch let rejection as ImageRejection {
                    return .failure(.init(reason: rejection.message))
                } catch {
                    return .failure(.init(reason: "\(error)"))
                }
            }
        }
        guard let downloads else { return .failure(.init(reason: reason)) }
        switch downloads.file(for: absolute(address)) {
        case .success(let file):
            // Another site's picture keeps its whole address as its path, so two never meet.
            let url = URLComponents(string: absolute(address))
            let path = (url?.path).map { $0.hasSuffix("/") || $0.isEmpty ? $0 + "image" : $0 } ?? "/image"
            let name = relative ?? "external/" + (url?.host ?? "web") + path
            do {
                let stored = try images.stage(file: file, as: mediaPath(name), checkExtension: false)
                if relative != nil { noteMove(address, to: stored) }
                return .success(stored)
            } catch let rejection as ImageRejection {
                return .failure(.init(reason: rejection.message))
            } catch {
                return .failure(.init(reason: "\(error)"))
            }
        case .failure(let failure):
            return .failure(failure)
        case nil:
            return .failure(.init(reason: reason))
        }
    }

    /// Downloads the pictures among `addresses` that are not in `folder`, before the import's
    /// transaction begins (so the site is not kept waiting on other sites).
    static func download(
        _ addresses: [String], with downloads: ImageDownloader, folder: String?, relativePath: (String) -> String?,
        alternatives: (String) -> [String] = { [$0] }, absolute: (String) -> String
    ) async {
        let missing = addresses.filter { address in
            guard let folder, let relative = relativePath(address) else { return true }
            return !alternatives(relative).contains { FileManager.default.fileExists(atPath: folder + "/" + $0) }
        }
        await downloads.fetch(missing.map(absolute))
    }

    /// The old site's address of a picture redirects to its place here.
    private func noteMove(_ address: String, to stored: ImportImages.Stored) {
        guard let path = URLComponents(string: absolute(address))?.percentEncodedPath, path.count > 1 else { return }
        moved.withLock { $0[path.legacyPath] = "/media/" + stored.path }
    }

    /// `prefix/2013/01/harbour-at-dawn.jpg`: each part of the path made a slug.
    private func mediaPath(_ relative: String) -> String {
        let parts = relative.split(separator: "/").map(String.init).filter { $0 != "." && $0 != ".." && !$0.isEmpty }
        var cleaned = parts.dropLast().map { Slug.make(from: $0) }
        if let file = parts.last {
            let name = (file as NSString).deletingPathExtension
            let fileExtension = (file as NSString).pathExtension.lowercased()
            cleaned.append(Slug.make(from: name) + (fileExtension.isEmpty ? "" : "." + fileExtension))
        }
        return ([prefix] + cleaned).joined(separator: "/")
    }
}

/// The pictures one item's conversion found and missed (conversion calls back synchronously,
/// on one item's task).
final class PicturesUsed: @unchecked Sendable {
    let pictures: ForeignPictures
    private(set) var known: [String: BodyImages.Known] = [:]
    /// Pictures that could not be had, by their full address, with why.
    private(set) var missing: [(image: String, reason: String)] = []

    init(_ pictures: ForeignPictures) {
        self.pictures = pictures
    }

    /// The address a body picture is written with here, or nil when it cannot be had.
    func bodyImage(_ address: String) -> String? {
        stored(address).map { "/media/" + $0.path }
    }

    /// The featured picture at `address`; without alt text the caption (or else the headline) describes it.
    func featured(_ address: String, alt: String, caption: String, title: String) -> FeaturedImage? {
        stored(address).map { stored in
            FeaturedImage(
                source: stored.path, alt: [alt, caption, title].first { !$0.isEmpty } ?? "", caption: caption,
                width: stored.known.width, height: stored.known.height, placeholder: stored.known.placeholder)
        }
    }

    private func stored(_ address: String) -> ImportImages.Stored? {
        switch pictures.resolve(address) {
        case .success(let stored):
            known[stored.path] = stored.known
            return stored
        case .failure(let failure):
            let image = pictures.absolute(address)
            if !missing.contains(where: { $0.image == image }) { missing.append((image, failure.reason)) }
            return nil
        }
    }
}

/// `<img src="…">` addresses in HTML, for downloading before the HTML is converted.
enum ImageAddresses {
    private static let source = try! NSRegularExpression(pattern: #"<img\b[^>]*?\ssrc\s*=\s*["']([^"']+)["']"#, options: [.caseInsensitive])

    static func inHTML(_ html: String) -> [String] {
        let text = html as NSString
        return source.matches(in: html, range: NSRange(location: 0, length: text.length)).map {
            HTMLEntities.decode(text.substring(with: $0.range(at: 1)))
        }
    }
}

/// What importing from another system needs, whichever system (WordPress, Ghost): the store
/// and media folder, the options, the transaction (rolled back for a dry run), the pictures,
/// the report, and the helpers both importers use.
public struct ForeignImport: Sendable {
    public struct Options: Sendable {
        /// A copy of the old site's pictures (`wp-content/uploads`, `content/images`).
        public var folder: String?
        /// Report what would be imported without writing anything.
        public var dryRun: Bool
        /// Download pictures not in `folder` (short timeouts; a host that fails is not asked again).
        public var download: Bool

        public init(folder: String? = nil, dryRun: Bool = false, download: Bool = true) {
            self.folder = folder
            self.dryRun = dryRun
            self.download = download
        }
    }

    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    let store: Store
    let site: SiteSettings
    let mediaDirectory: String
    let imageLimits: ImageLimits
    /// Imported HTML becomes Markdown without raw HTML, which renders the same under any `trust_html`.
    let renderer = MarkdownRenderer(rawHTML: .escaped)
    /// Items converted at a time, spread over the cores, before they are stored.
    static let batch = 256

    init(store: Store, site: SiteSettings, mediaDirectory: String, imageLimits: ImageLimits) {
        self.store = store
        self.site = site
        self.mediaDirectory = mediaDirectory
        self.imageLimits = imageLimits
    }

    /// Checks that `options.folder` (given as `option`, holding `what`) is a folder.
    func check(_ options: Options, option: String, what: String) throws {
        guard let folder = options.folder else { return }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw MastheadError(.invalidInput, "\(option) must be a folder (a copy of \(what))", location: .init(file: folder))
        }
    }

    /// The downloader for `options`, when pictures may be downloaded.
    func downloader(_ options: Options) throws -> ImageDownloader? {
        options.download ? try ImageDownloader(maxBytes: imageLimits.maxBytes) : nil
    }

    /// Sections, tags and authors the imported posts use, for the report and the archive redirects.
    struct Usage {
        var sections: Set<String> = []
        var tags: Set<String> = []
        var authors: Set<String> = []

        mutating func note(_ source: ArticleSource) {
            sections.insert(Slug.make(from: source.sectionName))
            tags.formUnion(source.tagNames.map { Slug.make(from: $0) })
            authors.formUnion(source.authorNames.map { Slug.make(from: $0) })
        }

        /// Counts them in `report`.
        func count(in report: inout ImportReport) {
            report.authors = authors.count
            report.sections = sections.count
            report.tags = tags.count
        }
    }

    /// Text another system stored with entities and perhaps tags, as plain text.
    static func plain(_ text: String) -> String {
        guard text.contains("<") || text.contains("&") else { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
        return MarkdownRenderer.plainText(fromHTML: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A link to the old site itself, made relative (its old address redirects here).
    static func localized(_ address: String, hosts: Set<String>) -> String {
        guard let url = URLComponents(string: address), let host = url.host?.lowercased(), hosts.contains(host),
              !url.path.contains("/wp-content/"), !url.path.contains("/wp-admin")
        else { return address }
        return (url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath) + (url.percentEncodedQuery.map { "?" + $0 } ?? "")
            + (url.percentEncodedFragment.map { "#" + $0 } ?? "")
    }

    /// Runs `body` in one transaction with the import's pictures; commits unless it is a dry run.
    func run(
        report: ImportReport, options: Options, expecting count: Int, now: Date,
        _ body: @Sendable (ArticleImport, ImportImages, inout ImportReport) async throws -> Void
    ) async throws -> ImportReport {
        let dryRun = options.dryRun
        let started = ContinuousClock.now
        try await StagedMedia.recover(store: store, mediaDirectory: mediaDirectory)
        let images = try ImportImages(mediaDirectory: mediaDirectory, limits: imageLimits)
        var finished: ImportReport
        do {
            finished = try await store.importArticles(now: now, expecting: count) { [dryRun] importer in
                var report = report
                try await body(importer, images, &report)
                report.images = images.copied
                try await images.record(in: importer)
                if dryRun { throw DryRunRollback(report: report) }
                return report
            }
        } catch let rollback as DryRunRollback {
            images.staged.discard()
            finished = rollback.report
        } catch {
            images.staged.discard()
            throw error
        }
        if !dryRun { try await images.staged.commit(store: store) }
        let elapsed = ContinuousClock.now - started
        finished.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return finished
    }

    /// Stores converted items in order, counting what happened in `report`.
    static func store(_ items: [ForeignItem], in importer: ArticleImport, report: inout ImportReport) async throws {
        let articles = items.compactMap { item -> ArticleRecord? in
            if case .article(let record) = item.content { return record }
            return nil
        }
        for article in try await importer.save(articles) { report.count(article) }
        for item in items {
            report.missingImages += item.missingImages.map { .init(item: item.label, image: $0.image, reason: $0.reason) }
            report.removed += item.removed.map { .init(item: item.label, note: $0) }
            report.notes += item.notes.map { .init(item: item.label, note: $0) }
            switch item.content {
            case .skipped(let reason): report.skipped.append(.init(item: item.label, reason: reason))
            case .page(let page):
                do {
                    _ = try await importer.savePage(
                        path: page.path, title: page.title, summary: page.summary, markdown: page.markdown, html: page.html,
                        origin: page.origin, legacyPaths: page.legacyPaths)
                    report.pages += 1
                    report.redirects += page.legacyPaths.count
                } catch let error as MastheadError {
                    report.skipped.append(.init(item: item.label, reason: error.message))
                }
            case .article(let record):
                report.redirects += record.legacyPaths.count
            }
        }
    }

    /// Converts `items` on all cores, keeping their order.
    static func convert<Item: Sendable>(_ items: [Item], _ transform: @escaping @Sendable (Item) async throws -> ForeignItem) async throws -> [ForeignItem] {
        try await withThrowingTaskGroup(of: (Int, ForeignItem).self) { group in
            let lanes = max(1, ProcessInfo.processInfo.activeProcessorCount)
            var next = 0
            var results: [ForeignItem?] = Array(repeating: nil, count: items.count)
            while next < min(lanes, items.count) {
                let index = next
                group.addTask { (index, try await transform(items[index])) }
                next += 1
            }
            while let (index, item) = try await group.next() {
                results[index] = item
                if next < items.count {
                    let index = next
                    group.addTask { (index, try await transform(items[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}

extension String {
    /// An old site's path as legacy addresses keep it: decoded, lowercased, ending in `/`.
    var legacyPath: String {
        var path = (removingPercentEncoding ?? self).lowercased()
        if !path.hasPrefix("/") { path = "/" + path }
        if !path.hasSuffix("/") { path += "/" }
        return path
    }
}
