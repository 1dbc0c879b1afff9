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

/// What WordPress and Ghost imports share: the transaction (rolled back for a dry run), the
/// pictures, the report and the end of the import.
struct ForeignImportRun {
    let store: Store
    let mediaDirectory: String
    let imageLimits: ImageLimits
    let dryRun: Bool

    /// Runs `body` in one transaction with the import's pictures; commits unless it is a dry run.
    func run(
        report: ImportReport, expecting count: Int, now: Date,
        _ body: @Sendable (ArticleImport, ImportImages, inout ImportReport) async throws -> Void
    ) async throws -> ImportReport {
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
