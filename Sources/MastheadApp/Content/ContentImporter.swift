import Foundation
import Logging
import MastheadCore
import MastheadImaging
import MastheadRendering
import MastheadStorage

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

    /// Imports the articles in `paths`; returns what happened to each, in order.
    public func importArticles(from paths: [String], now: Date = .now) async throws -> [ImportedArticle] {
        let files = try Self.markdownFiles(in: paths)
        var sources: [ArticleSource] = []
        for file in files {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw MastheadError(.invalidInput, "cannot be read as UTF-8 text", location: .init(file: file))
            }
            sources.append(try ArticleSource.parse(text, file: file, timeZone: site.timeZone))
        }
        let staged = StagedMedia(mediaDirectory: mediaDirectory)
        do {
            var records: [ArticleRecord] = []
            for source in sources {
                let image = try source.image.map { try stageImage($0, for: source, into: staged) }
                let body = try markdown.html(from: source.bodyMarkdown) { image in
                    try bodyImage(image, for: source, into: staged)
                }
                records.append(ArticleRecord(source: source, bodyHTML: body, image: image))
            }
            let imported = try await store.importArticles(records, now: now)
            try staged.commit()
            return imported
        } catch {
            staged.discard()
            throw error
        }
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

/// Image files copied next to their final place, moved there only once the import has committed.
final class StagedMedia {
    let mediaDirectory: String
    private var staged: [(temporary: String, final: String)] = []

    init(mediaDirectory: String) {
        self.mediaDirectory = mediaDirectory
    }

    func stage(_ data: Data, as relative: String) throws {
        let final = mediaDirectory + "/" + relative
        let temporary = final + ".importing"
        guard !staged.contains(where: { $0.final == final }) else { return }
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if manager.fileExists(atPath: temporary) { try manager.removeItem(atPath: temporary) }
            try data.write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw MastheadError(.storage, "cannot write \(relative) into the media folder (is the disk full or read-only?): \(error.localizedDescription)")
        }
        staged.append((temporary, final))
    }

    func commit() throws {
        let manager = FileManager.default
        for file in staged {
            if manager.fileExists(atPath: file.final) { try manager.removeItem(atPath: file.final) }
            try manager.moveItem(atPath: file.temporary, toPath: file.final)
        }
    }

    func discard() {
        for file in staged { try? FileManager.default.removeItem(atPath: file.temporary) }
    }
}
