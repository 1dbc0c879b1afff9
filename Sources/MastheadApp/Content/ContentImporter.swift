import Foundation
import Logging
import MastheadCore
import MastheadImaging
import MastheadRendering
import MastheadStorage
import Synchronization
import Yams

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
        try await importArticles(files: try Self.markdownFiles(in: paths), batchSize: batchSize, now: now, progress: progress)
    }

    /// Imports `files`; `first` writes what must come before the articles in the first transaction.
    private func importArticles(
        files: [String], batchSize: Int?, now: Date, progress: Progress?,
        first: (@Sendable (ArticleImport, ImportImages) async throws -> Void)? = nil
    ) async throws -> [ImportedArticle] {
        try await StagedMedia.recover(store: store, mediaDirectory: mediaDirectory)
        var imported: [ImportedArticle] = []
        imported.reserveCapacity(files.count)
        let step = max(1, batchSize ?? files.count)
        // Something to write first (a site folder's sections and pages) makes a transaction even without articles.
        for start in stride(from: 0, to: max(files.count, first == nil ? 0 : 1), by: step) {
            let transaction = Array(files[start..<min(start + step, files.count)])
            let images = try ImportImages(mediaDirectory: mediaDirectory, limits: imageLimits)
            let stored: [ImportedArticle]
            do {
                stored = try await store.importArticles(now: now, expecting: transaction.count) { importer in
                    if start == 0 { try await first?(importer, images) }
                    var stored: [ImportedArticle] = []
                    // The next batch is read and rendered on the other cores while one is stored.
                    let batches = stride(from: 0, to: transaction.count, by: Self.readBatch).map {
                        transaction[$0..<min($0 + Self.readBatch, transaction.count)]
                    }
                    var reading = batches.first.map { batch in Task { try await records(for: batch, images: images) } }
                    do {
                        for index in batches.indices {
                            let records = try await reading!.value
                            reading = index + 1 < batches.count ? Task { [batch = batches[index + 1]] in try await self.records(for: batch, images: images) } : nil
                            stored += try await importer.save(records)
                            progress?(start + stored.count, files.count)
                        }
                    } catch {
                        reading?.cancel()
                        _ = try? await reading?.value
                        throw error
                    }
                    try await images.record(in: importer)
                    return stored
                }
            } catch {
                images.staged.discard()
                throw error
            }
            // Committed: should moving the images fail, the next start (or import) moves them.
            try await images.staged.commit(store: store)
            imported += stored
        }
        return imported
    }

    /// The records for `files`: read, checked and rendered on all cores, in order. When several
    /// files are bad, the first of them is reported.
    private func records(for files: ArraySlice<String>, images: ImportImages) async throws -> [ArticleRecord] {
        let lanes = max(1, min(ProcessInfo.processInfo.activeProcessorCount, files.count))
        let size = (files.count + lanes - 1) / lanes
        let parts = stride(from: files.startIndex, to: files.endIndex, by: max(1, size)).map { files[$0..<min($0 + size, files.endIndex)] }
        let results = await withTaskGroup(of: (Int, Result<[ArticleRecord], any Error>).self) { group in
            for (index, part) in parts.enumerated() {
                group.addTask {
                    do {
                        var records: [ArticleRecord] = []
                        for file in part { records.append(try await record(for: file, images: images)) }
                        return (index, .success(records))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [Int: Result<[ArticleRecord], any Error>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        return try parts.indices.flatMap { try results[$0]!.get() }
    }

    /// One file's record: its front matter checked, its images staged, its body rendered. Body
    /// images next to the file are staged in the media folder and the Markdown kept with their
    /// new address (`/media/<slug>/<name>`), so the newsroom edits what readers see.
    private func record(for file: String, images: ImportImages) async throws -> ArticleRecord {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw MastheadError(.invalidInput, "cannot be read as UTF-8 text", location: .init(file: file))
        }
        var source = try ArticleSource.parse(text, file: file, timeZone: site.timeZone)
        let image = try source.image.map { try stageImage($0, for: source, images: images) }
        var known: [String: BodyImages.Known] = [:]
        var moved: [(from: String, to: String)] = []
        // Body images are found by rendering once; a body without any is rendered only to be stored.
        if source.bodyMarkdown.contains("![") {
            _ = try markdown.html(from: source.bodyMarkdown) { image in
                let url = image.url
                guard !url.isEmpty, !url.contains(":"), !url.hasPrefix("/"), !url.hasPrefix("#") else { return nil }
                let location = MastheadError.Location(file: source.file, line: source.bodyLine + image.line - 1)
                let stored = try stage(url.removingPercentEncoding ?? url, named: "body image \(url)", for: source, at: location, images: images)
                known[stored.path] = stored.known
                moved.append((url, "/media/" + stored.path))
                return nil
            }
        }
        for (from, to) in moved { source.bodyMarkdown = Self.replacingImageAddress(from, with: to, in: source.bodyMarkdown) }
        let body = try await store.bodyHTML(markdown: source.bodyMarkdown, renderer: markdown, known: known)
        return ArticleRecord(source: source, bodyHTML: body, image: image)
    }

    /// What `site.yaml` holds in a folder `export-markdown` wrote (and in the demo): sections in
    /// their order and author profiles.
    struct SiteManifest: Decodable {
        struct Author: Decodable {
            var name: String
            var title: String
            var bio: String
        }
        var sections: [String]
        var authors: [Author]

        static func read(_ path: String) throws -> SiteManifest {
            do {
                return try YAMLDecoder().decode(SiteManifest.self, from: try String(contentsOfFile: path, encoding: .utf8))
            } catch {
                throw MastheadError(.invalidInput, "cannot be read as a site manifest: \(error)", location: .init(file: path))
            }
        }
    }

    /// Creates the manifest's sections (in order) and saves its author profiles.
    func apply(_ manifest: SiteManifest) async throws {
        try await store.ensureSections(manifest.sections)
        for author in manifest.authors {
            try await store.saveAuthor(name: author.name, title: author.title, bioMarkdown: author.bio, bioHTML: markdown.html(from: author.bio))
        }
    }

    /// Whether `path` is a folder `export-markdown` wrote (`site.yaml` beside `articles/`).
    public static func isSiteFolder(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/site.yaml") && FileManager.default.fileExists(atPath: path + "/articles")
    }

    /// Imports a folder `export-markdown` wrote: sections and authors, pages, then articles.
    /// All of it is one transaction (with `batchSize`, the first batch of articles holds the rest).
    public func importSiteFolder(_ path: String, batchSize: Int? = nil, now: Date = .now, progress: Progress? = nil) async throws -> [ImportedArticle] {
        let manifest = try SiteManifest.read(path + "/site.yaml")
        let hasPages = (FileManager.default.subpaths(atPath: path + "/pages") ?? []).contains { $0.hasSuffix(".md") }
        let pages = try hasPages ? Self.markdownFiles(in: [path + "/pages"]).map { file in
            try ArticleSource.parse(try String(contentsOfFile: file, encoding: .utf8), file: file, timeZone: site.timeZone, allowsPath: true)
        } : []
        let articles = (FileManager.default.subpaths(atPath: path + "/articles") ?? []).contains { $0.hasSuffix(".md") }
            ? try Self.markdownFiles(in: [path + "/articles"]) : []
        let markdown = markdown
        return try await importArticles(files: articles, batchSize: batchSize, now: now, progress: progress) { importer, images in
            try await importer.ensureSections(manifest.sections)
            for author in manifest.authors {
                try await importer.saveAuthor(name: author.name, title: author.title, bioMarkdown: author.bio, bioHTML: markdown.html(from: author.bio))
            }
            for page in pages {
                let (body, html) = try await pageBody(page, images: images)
                _ = try await importer.savePage(
                    path: page.slug, title: page.title, summary: page.summary, markdown: body, html: html,
                    origin: ImportOrigin(origin: "markdown page", id: page.slug), legacyPaths: [])
            }
        }
    }

    /// Imports standing pages (About, Privacy…): title, slug, summary and body of each file.
    public func importPages(from paths: [String], now: Date = .now) async throws -> [String] {
        var pages: [ArticleSource] = []
        for file in try Self.markdownFiles(in: paths) {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            pages.append(try ArticleSource.parse(text, file: file, timeZone: site.timeZone, allowsPath: true))
        }
        for page in pages {
            let images = try ImportImages(mediaDirectory: mediaDirectory, limits: imageLimits)
            let (markdown, html) = try await pageBody(page, images: images)
            do {
                try await store.savePage(slug: page.slug, title: page.title, summary: page.summary, markdown: markdown, html: html, now: now)
            } catch {
                images.staged.discard()
                throw error
            }
            try await images.staged.commit(store: store)
        }
        return pages.map { "/\($0.slug)/" }
    }

    /// A page's Markdown and HTML; its pictures in an export's `media/` folder are brought into the media folder.
    private func pageBody(_ page: ArticleSource, images: ImportImages) async throws -> (markdown: String, html: String) {
        var references: [String] = []
        _ = try markdown.html(from: page.bodyMarkdown) { image in
            if !image.url.contains(":"), Self.keptMediaPath(image.url) != nil { references.append(image.url) }
            return nil
        }
        var known: [String: BodyImages.Known] = [:]
        var body = page.bodyMarkdown
        for reference in references {
            let stored = try stage(
                reference.removingPercentEncoding ?? reference, named: "image \(reference)", for: page, at: .init(file: page.file), images: images)
            known[stored.path] = stored.known
            body = Self.replacingImageAddress(reference, with: "/media/" + stored.path, in: body)
        }
        return (body, try await store.bodyHTML(markdown: body, renderer: markdown, known: known))
    }

    /// Checks the image file `reference` (relative to the Markdown file, or absolute) as uploads are
    /// checked, makes its placeholder, and stages its copy at `<slug>/<name>` in the media folder.
    private func stage(
        _ reference: String, named name: String, for source: ArticleSource, at location: MastheadError.Location, images: ImportImages
    ) throws -> ImportImages.Stored {
        let folder = (source.file as NSString).deletingLastPathComponent
        let path = reference.hasPrefix("/") ? reference : (folder as NSString).appendingPathComponent(reference)
        // A picture in a `media/` folder beside the files (an export's) keeps its path in the media folder.
        let mediaPath = Self.keptMediaPath(reference)
            ?? source.slug + "/" + Slug.make(from: ((path as NSString).lastPathComponent as NSString).deletingPathExtension)
        do {
            return try images.stage(file: path, as: mediaPath, checkExtension: true)
        } catch let rejection as ImageRejection {
            throw MastheadError(.invalidInput, "\(name) refused: \(rejection.message)", location: location)
        }
    }

    /// `markdown` with the image address `from` written as `to`: inline (`](night.jpg "…")`, in
    /// angle brackets or not) and in reference definitions (`[n]: night.jpg`), never inside a
    /// longer address.
    static func replacingImageAddress(_ from: String, with to: String, in markdown: String) -> String {
        let address = NSRegularExpression.escapedPattern(for: from)
        let replacement = NSRegularExpression.escapedTemplate(for: to)
        var text = markdown
        for pattern in [#"(\]\(\s*<?)"# + address + #"(?=>?[\s)])"#, #"(?m)(^\s{0,3}\[[^\]]+\]:\s*<?)"# + address + #"(?=>?(\s|$))"#] {
            let expression = try! NSRegularExpression(pattern: pattern)
            text = expression.stringByReplacingMatches(
                in: text, range: NSRange(location: 0, length: (text as NSString).length), withTemplate: "$1" + replacement)
        }
        return text
    }

    /// `wordpress/2013/01/photo.jpg` for `../../media/wordpress/2013/01/photo.jpg`, as
    /// `export-markdown` writes references: up out of the file's folder into a `media/` folder,
    /// then a path of plain names.
    static func keptMediaPath(_ reference: String) -> String? {
        let parts = reference.split(separator: "/").map(String.init)
        let ups = parts.prefix { $0 == ".." }.count
        guard ups > 0, parts.count > ups + 1, parts[ups] == "media" else { return nil }
        let kept = parts[(ups + 1)...]
        guard kept.allSatisfy({ !$0.hasPrefix(".") && !$0.isEmpty }) else { return nil }
        return kept.joined(separator: "/")
    }

    private func stageImage(_ reference: String, for source: ArticleSource, images: ImportImages) throws -> FeaturedImage {
        let location = MastheadError.Location(file: source.file, line: source.imageLine, field: "image")
        // Without image_alt, the caption (or else the headline) is the best description there is.
        let alt = [source.imageAlt, source.imageCaption, source.title].first { !$0.isEmpty } ?? ""
        if reference.hasPrefix("https://") || reference.hasPrefix("http://") {
            return FeaturedImage(source: reference, alt: alt, caption: source.imageCaption, credit: source.imageCredit)
        }
        let stored = try stage(reference, named: "image \(reference)", for: source, at: location, images: images)
        return FeaturedImage(
            source: stored.path, alt: alt, caption: source.imageCaption, credit: source.imageCredit,
            width: stored.known.width, height: stored.known.height, placeholder: stored.known.placeholder)
    }
}

