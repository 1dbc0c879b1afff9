import Foundation
import MastheadCore
import MastheadStorage
import Yams

/// Writes the whole site out as Markdown, so a newsroom is never locked in: `site.yaml` (sections
/// in their order, author profiles), `articles/<section>/<slug>.md` (every article, whatever its
/// status, with front matter `import-markdown` reads), `pages/<path>.md` and `media/` (the
/// pictures). `masthead import-markdown DIR` brings such a folder into a site as it was.
public struct MarkdownExporter: Sendable {
    let store: Store
    let mediaDirectory: String

    public init(store: Store, mediaDirectory: String) {
        self.store = store
        self.mediaDirectory = mediaDirectory
    }

    public struct Summary: Sendable {
        public var articles = 0
        public var pages = 0
        public var authors = 0
        public var mediaFiles = 0
    }

    /// Writes the export into `directory`, which must be empty or not exist yet.
    public func export(to directory: String, progress: (@Sendable (Int) -> Void)? = nil) async throws -> Summary {
        let manager = FileManager.default
        if manager.fileExists(atPath: directory), let contents = try? manager.contentsOfDirectory(atPath: directory), !contents.isEmpty {
            throw MastheadError(.invalidInput, "is not empty: export into a new or empty folder", location: .init(file: directory))
        }
        do {
            try manager.createDirectory(atPath: directory + "/articles", withIntermediateDirectories: true)
            try manager.createDirectory(atPath: directory + "/pages", withIntermediateDirectories: true)
        } catch {
            throw MastheadError(.invalidInput, "cannot be written: \(error.localizedDescription)", location: .init(file: directory))
        }
        var summary = Summary()
        let authors = try await store.exportAuthors()
        let manifest: [String: Any] = [
            "sections": try await store.sections().map(\.name),
            "authors": authors.map { ["name": $0.name, "title": $0.title, "bio": $0.bio] },
            "corrections": [Any](),
        ]
        try write(try Yams.dump(object: manifest, sortKeys: true), to: directory + "/site.yaml")
        summary.authors = authors.count

        var after: Int64 = 0
        while true {
            let batch = try await store.exportArticles(after: after, limit: 500)
            guard let last = batch.last else { break }
            for article in batch {
                let folder = directory + "/articles/" + Slug.make(from: article.source.sectionName)
                try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try write(Self.markdown(article.source, mediaPrefix: "../../media/"), to: folder + "/" + article.source.slug + ".md")
            }
            summary.articles += batch.count
            progress?(summary.articles)
            after = last.id
        }
        for page in try await store.exportPages() {
            let file = directory + "/pages/" + page.path + ".md"
            try manager.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let depth = page.path.split(separator: "/").count
            let prefix = String(repeating: "../", count: depth) + "media/"
            var fields: [(String, Any)] = [("title", page.title), ("slug", page.path)]
            if !page.summary.isEmpty { fields.append(("summary", page.summary)) }
            try write(Self.frontMatter(fields) + Self.relinking(page.markdown, mediaPrefix: prefix) + "\n", to: file)
            summary.pages += 1
        }
        summary.mediaFiles = try copyMedia(to: directory + "/media")
        return summary
    }

    /// An article's Markdown file: front matter, a blank line, the body with its pictures' addresses relative to the file.
    static func markdown(_ source: ArticleSource, mediaPrefix: String) -> String {
        var fields: [(String, Any)] = [("title", source.title), ("slug", source.slug), ("section", source.sectionName), ("status", source.status.rawValue)]
        if let date = source.publishedAt { fields.append(("date", DateText.iso8601(date, timeZone: TimeZone(identifier: "UTC")!))) }
        if let updated = source.updatedAt { fields.append(("updated", DateText.iso8601(updated, timeZone: TimeZone(identifier: "UTC")!))) }
        if !source.authorNames.isEmpty { fields.append(("authors", source.authorNames)) }
        if !source.tagNames.isEmpty { fields.append(("tags", source.tagNames)) }
        if !source.summary.isEmpty { fields.append(("summary", source.summary)) }
        if let image = source.image {
            let stored = !(image.hasPrefix("http://") || image.hasPrefix("https://") || image.hasPrefix("/"))
            fields.append(("image", stored ? mediaPrefix + image : image))
            if !source.imageAlt.isEmpty { fields.append(("image_alt", source.imageAlt)) }
            if !source.imageCaption.isEmpty { fields.append(("image_caption", source.imageCaption)) }
            if !source.imageCredit.isEmpty { fields.append(("image_credit", source.imageCredit)) }
        }
        if source.disclaimer { fields.append(("disclaimer", true)) }
        if !source.seoTitle.isEmpty { fields.append(("seo_title", source.seoTitle)) }
        if !source.seoDescription.isEmpty { fields.append(("seo_description", source.seoDescription)) }
        if !source.canonicalURL.isEmpty { fields.append(("canonical_url", source.canonicalURL)) }
        if let corrections = source.corrections, !corrections.isEmpty {
            fields.append(("corrections", corrections.map {
                ["kind": $0.kind.rawValue, "text": $0.text, "date": DateText.iso8601($0.date, timeZone: TimeZone(identifier: "UTC")!)]
            }))
        }
        return frontMatter(fields) + relinking(source.bodyMarkdown, mediaPrefix: mediaPrefix) + "\n"
    }

    /// `---` YAML `---`, in the order given; every value quoted as YAML needs it.
    static func frontMatter(_ fields: [(String, Any)]) -> String {
        var lines = ["---"]
        for (key, value) in fields {
            let yaml = (try? Yams.dump(object: [key: value], width: -1, allowUnicode: true)) ?? ""
            lines.append(yaml.trimmingCharacters(in: .newlines))
        }
        lines.append("---")
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// Pictures in the media folder (`/media/…`) addressed relative to the exported file.
    static func relinking(_ markdown: String, mediaPrefix: String) -> String {
        markdown.replacingOccurrences(of: "](/media/", with: "](" + mediaPrefix).replacingOccurrences(of: "](</media/", with: "](<" + mediaPrefix)
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw MastheadError.storageFault(error) ?? MastheadError(.invalidInput, "cannot be written: \(error.localizedDescription)", location: .init(file: path))
        }
    }

    /// Copies the media folder (not its hidden working folders); returns how many files.
    private func copyMedia(to destination: String) throws -> Int {
        let manager = FileManager.default
        var count = 0
        guard let enumerator = manager.enumerator(atPath: mediaDirectory) else { return 0 }
        while let relative = enumerator.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            let source = mediaDirectory + "/" + relative
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: source, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            let target = destination + "/" + relative
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try manager.copyItem(atPath: source, toPath: target)
            count += 1
        }
        return count
    }
}
