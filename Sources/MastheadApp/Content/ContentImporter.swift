import Foundation
import Logging
import MastheadCore
import MastheadImaging
import MastheadRendering
import MastheadStorage
import Synchronization

/// Brings Markdown files into the store: checks every file first, copies their images into the
/// media folder, then stores all articles in one transaction. Nothing is half-imported: a bad
/// file stops the whole run before anything is written, and a failed write removes the copied images.
public struct ContentImporter: Sendable {
    public var store: Store
    public var site: SiteSettings
    public var mediaDirectory: String
    public var markdown: MarkdownRenderer
    /// Images are checked against these before they are copied.
    public var imageLimits: ImageLimits

    public init(store: Store, site: SiteSettings, mediaDirectory: String, markdown: MarkdownRenderer, imageLimits: ImageLimits = ImageLimits()) {
        self.store = store
        self.site = site
        self.mediaDirectory = mediaDirectory
        self.markdown = markdown
        self.imageLimits = imageLimits
    }

    /// The Markdown files named by `paths`: files as given, folders searched recursively, sorted.
    public static func markdownFiles(in paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw MastheadError(.invalidInput, "no such file or folder", location: .init(file: path))
            }
            if isFolder.boolValue {
                let found = (FileManager.default.subpaths(atPath: path) ?? [])
                    .filter { $0.hasSuffix(".md") || $0.hasSuffix(".markdown") }
                    .sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
                files.append(contentsOf: found)
            } else {
                files.append(path)
            }
        }
        guard !files.isEmpty else {
            throw MastheadError(.invalidInput, "no Markdown files (.md) found in \(paths.joined(separator: ", "))")
        }
        return files
    }

    /// How far an import is: articles stored so far, and of how many.
    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    /// Files read, checked and rendered at a time, spread over the cores, before they are stored.
    public static let readBatch = 256

    /// Imports the articles in `paths`; returns what happened to each, in order.
    ///
    /// The files are read in batches while earlier ones are stored, so memory stays flat however
    /// many there are. All of them are one transaction: a bad file anywhere and nothing is
    /// imported. With `batchSize`, every `batchSize` articles are a transaction of their own:
    /// a bad file then stops the import there, with the batches before it stored.
    public func importArticles(
        from paths: [String], batchSize: Int? = nil, now: Date = .now, progress: Progress? = nil
    ) async throws -> [ImportedArticle] {
        let files = try Self.markdownFiles(in: paths)
        try await StagedMedia.recover(store: store, mediaDirectory: mediaDirectory)
        var imported: [ImportedArticle] = []
        imported.reserveCapacity(files.count)
        let step = max(1, batchSize ?? files.count)
        for start in stride(from: 0, to: files.count, by: step) {
            let transaction = Array(files[start..<min(start + step, files.count)])
            let staged = try StagedMedia(mediaDirectory: mediaDirectory)
            let stored: [ImportedArticle]
            do {
                stored = try await store.importArticles(now: now, expecting: transaction.count) { importer in
                    var stored: [ImportedArticle] = []
                    for batchStart in stride(from: 0, to: transaction.count, by: Self.readBatch) {
                        let batch = transaction[batchStart..<min(batchStart + Self.readBatch, transaction.count)]
                        stored += try await importer.save(try await records(for: batch, into: staged))
                        progress?(start + stored.count, files.count)
                    }
                    try await importer.recordStagedMedia(staged.files)
                    return stored
                }
            } catch {
                staged.discard()
                throw error
            }
            // Committed: should moving the images fail, the next start (or import) moves them.
            try await staged.commit(store: store)
            imported += stored
        }
        return imported
    }

    /// The records for `files`: read, checked and rendered on all cores, in order. When several
    /// files are bad, the first of them is reported.
    private func records(for files: ArraySlice<String>, into staged: StagedMedia) async throws -> [ArticleRecord] {
        let lanes = max(1, min(ProcessInfo.processInfo.activeProcessorCount, files.count))
        let size = (files.count + lanes - 1) / lanes
        let parts = stride(from: files.startIndex, to: files.endIndex, by: max(1, size)).map { files[$0..<min($0 + size, files.endIndex)] }
        let results = await withTaskGroup(of: (Int, Result<[ArticleRecord], any Error>).self) { group in
            for (index, part) in parts.enumerated() {
                group.addTask {
                    (index, Result { try part.map { try record(for: $0, into: staged) } })
                }
            }
            var results: [Int: Result<[ArticleRecord], any Error>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        return try parts.indices.flatMap { try results[$0]!.get() }
    }

    /// One file's record: its front matter checked, its images staged, its body rendered.
    private func record(for file: String, into staged: StagedMedia) throws -> ArticleRecord {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw MastheadError(.invalidInput, "cannot be read as UTF-8 text", location: .init(file: file))
        }
        let source = try ArticleSource.parse(text, file: file, timeZone: site.timeZone)
        let image = try source.image.map { try stageImage($0, for: source, into: staged) }
        let body = try markdown.html(from: source.bodyMarkdown) { image in
            try bodyImage(image, for: source, into: staged)
        }
        return ArticleRecord(source: source, bodyHTML: body, image: image)
    }

    /// Imports standing pages (About, Privacy…): title, slug, summary and body of each file.
    public func importPages(from paths: [String], now: Date = .now) async throws -> [String] {
        var pages: [ArticleSource] = []
        for file in try Self.markdownFiles(in: paths) {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            pages.append(try ArticleSource.parse(text, file: file, timeZone: site.timeZone))
        }
        for page in pages {
            try await store.savePage(
                slug: page.slug, title: page.title, summary: page.summary, markdown: page.bodyMarkdown,
                html: markdown.html(from: page.bodyMarkdown), now: now)
        }
        return pages.map { "/\($0.slug)/" }
    }

    /// A body image written as a path next to the Markdown file: checked, copied into the media
    /// folder like the featured image, and written as a responsive `<img>` of preset widths.
    /// Images elsewhere on the web (or already under `/`) stay as they are.
    private func bodyImage(_ image: MarkdownRenderer.BodyImage, for source: ArticleSource, into staged: StagedMedia) throws -> String? {
        let url = image.url
        guard !url.isEmpty, !url.contains(":"), !url.hasPrefix("/"), !url.hasPrefix("#") else { return nil }
        let line = source.bodyLine + image.line - 1
        let location = MastheadError.Location(file: source.file, line: line)
        let (checked, relative, placeholder) = try checkAndStage(
            url.removingPercentEncoding ?? url, named: "body image \(url)", for: source, at: location, into: staged)
        var widths = ImageSigner.presetWidths.filter { $0 <= min(checked.width, 1600) }
        if widths.isEmpty { widths = [ImageSigner.presetWidths[0]] }
        let srcset = widths.map { "\(ImageSigner.presetURL(path: relative, width: $0)) \(min($0, checked.width))w" }.joined(separator: ", ")
        let src = ImageSigner.presetURL(path: relative, width: widths.contains(800) ? 800 : widths[widths.count - 1])
        return #"<img src="\#(src)" srcset="\#(srcset)" sizes="(min-width: 46rem) 44rem, 100vw" width="\#(checked.width)" height="\#(checked.height)" alt="\#(MarkdownRenderer.escapeHTML(image.alt))" loading="lazy" decoding="async" style="\#(ViewBuilder.placeholderStyle(placeholder))">"#
    }

    /// Checks the image file `reference` (relative to the Markdown file, or absolute) as uploads are
    /// checked, makes its placeholder, and stages its copy at `<slug>/<name>` in the media folder.
    private func checkAndStage(
        _ reference: String, named name: String, for source: ArticleSource, at location: MastheadError.Location, into staged: StagedMedia
    ) throws -> (image: SourceImage, relative: String, placeholder: String) {
        let folder = (source.file as NSString).deletingLastPathComponent
        let path = reference.hasPrefix("/") ? reference : (folder as NSString).appendingPathComponent(reference)
        let image: SourceImage
        let placeholder: String
        do {
            image = try SourceImage.inspect(path, limits: imageLimits, checkExtension: true)
            placeholder = try ImageRenderer.placeholder(image)
        } catch let rejection as ImageRejection {
            throw MastheadError(.invalidInput, "\(name) refused: \(rejection.message)", location: location)
        }
        // The copy is public under /media/: it goes there without the photo's metadata (GPS
        // position, camera, times, comments), as uploads do.
        let cleaned: EncodedImage
        do {
            cleaned = try ImageRenderer.publishable(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch let rejection as ImageRejection {
            throw MastheadError(.invalidInput, "\(name) refused: \(rejection.message)", location: location)
        }
        let relative = source.slug + "/" + Slug.make(from: ((path as NSString).lastPathComponent as NSString).deletingPathExtension)
            + "." + cleaned.format.fileExtension
        try staged.stage(cleaned.data, as: relative)
        // A photo turned upright has its sides swapped.
        var stored = image
        stored.width = cleaned.width
        stored.height = cleaned.height
        return (stored, relative, placeholder)
    }

    private func stageImage(_ reference: String, for source: ArticleSource, into staged: StagedMedia) throws -> FeaturedImage {
        let location = MastheadError.Location(file: source.file, line: source.imageLine, field: "image")
        // Without image_alt, the caption (or else the headline) is the best description there is.
        let alt = [source.imageAlt, source.imageCaption, source.title].first { !$0.isEmpty } ?? ""
        if reference.hasPrefix("https://") || reference.hasPrefix("http://") {
            return FeaturedImage(source: reference, alt: alt, caption: source.imageCaption, credit: source.imageCredit)
        }
        let (image, relative, placeholder) = try checkAndStage(reference, named: "image \(reference)", for: source, at: location, into: staged)
        return FeaturedImage(
            source: relative, alt: alt, caption: source.imageCaption, credit: source.imageCredit,
            width: image.width, height: image.height, placeholder: placeholder)
    }
}

/// Image files an import writes into the media folder's hidden `.staging/` folder and moves into
/// place once the import has committed. The import's transaction lists them (`staged_media`), so
/// after a crash `recover` tells a committed import's files (moved into place) from an unfinished
/// one's (removed). Imports hold a shared lock on `.staging/.lock` while they stage; recovery runs
/// only when it can take that lock alone, so it never removes the files of an import in progress.
final class StagedMedia: Sendable {
    static let folder = ".staging"
    let mediaDirectory: String
    /// Staged from several files at once (an import reads on all cores).
    private let staging = Mutex<[(temporary: String, final: String)]>([])
    private var staged: [(temporary: String, final: String)] { staging.withLock { $0 } }
    private let lock: FileLock

    init(mediaDirectory: String) throws {
        self.mediaDirectory = mediaDirectory
        lock = try FileLock(path: Self.lockPath(in: mediaDirectory))
        lock.lock(exclusive: false)
    }

    deinit { lock.close() }

    /// The paths to record with the import, relative to the media folder.
    var files: [(temporary: String, final: String)] { staged }

    func stage(_ data: Data, as relative: String) throws {
        guard !staged.contains(where: { $0.final == relative }) else { return }
        let temporary = Self.folder + "/" + UUID().uuidString.lowercased() + ".importing"
        do {
            try data.write(to: URL(fileURLWithPath: mediaDirectory + "/" + temporary))
        } catch {
            throw MastheadError.storageFault(error)
                ?? MastheadError(.storage, "cannot write \(relative) into the media folder: \(error.localizedDescription)")
        }
        staging.withLock { $0.append((temporary, relative)) }
    }

    /// Moves the files into place (the import has committed) and forgets them.
    func commit(store: Store) async throws {
        let files = staged
        for file in files { try Self.move(file, in: mediaDirectory) }
        try await store.forgetStagedMedia(files.map(\.temporary))
        staging.withLock { $0 = [] }
    }

    func discard() {
        for file in staged { try? FileManager.default.removeItem(atPath: mediaDirectory + "/" + file.temporary) }
        staging.withLock { $0 = [] }
    }

    /// Finishes what a killed import left: files of committed imports are moved into place, files
    /// of imports that never committed are removed. Does nothing while an import is staging.
    /// Returns how many files were moved and removed.
    @discardableResult
    static func recover(store: Store, mediaDirectory: String) async throws -> (moved: Int, removed: Int) {
        // A media folder that cannot be written (a read-only disk) has nothing to recover.
        guard let lock = try? FileLock(path: lockPath(in: mediaDirectory)) else { return (0, 0) }
        defer { lock.close() }
        guard lock.tryLock() else { return (0, 0) }
        let listed = try await store.stagedMedia()
        var moved = 0
        for file in listed where FileManager.default.fileExists(atPath: mediaDirectory + "/" + file.temporary) {
            try move(file, in: mediaDirectory)
            moved += 1
        }
        try await store.forgetStagedMedia(listed.map(\.temporary))
        var removed = 0
        let staging = mediaDirectory + "/" + folder
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] where name.hasSuffix(".importing") {
            try? FileManager.default.removeItem(atPath: staging + "/" + name)
            removed += 1
        }
        return (moved, removed)
    }

    private static func lockPath(in mediaDirectory: String) throws -> String {
        let staging = mediaDirectory + "/" + folder
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw MastheadError(.storage, "cannot create \(staging) (is the disk full or read-only?): \(error.localizedDescription)")
        }
        return staging + "/.lock"
    }

    private static func move(_ file: (temporary: String, final: String), in mediaDirectory: String) throws {
        let manager = FileManager.default
        let final = mediaDirectory + "/" + file.final
        try manager.createDirectory(atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // rename(2) replaces an older file of the same name in one step.
        guard rename(mediaDirectory + "/" + file.temporary, final) == 0 else {
            throw MastheadError(.storage, "cannot move an imported image to \(final): \(String(cString: strerror(errno)))")
        }
    }
}

/// An advisory lock on a file (flock): shared or exclusive, released when closed or when the process ends.
final class FileLock: Sendable {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw MastheadError(.storage, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Waits for the lock.
    func lock(exclusive: Bool) {
        while flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0 && errno == EINTR {}
    }

    /// Takes the lock alone if no one holds it; false otherwise.
    func tryLock() -> Bool {
        flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    func close() {
        _ = Foundation.close(descriptor)
    }
}
