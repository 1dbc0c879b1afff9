import ArgumentParser
import Foundation
import MastheadApp
import MastheadCore

struct ImportWordPress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-wordpress",
        abstract: "Import a WordPress site from its export file (Tools → Export, WXR 1.0–1.2).",
        discussion: """
            Posts and pages come with their slugs, dates, excerpts, authors, categories (one becomes \
            the section: Yoast's primary category, else the first) and tags. Drafts, pending, scheduled, \
            private and password-protected posts are never made public. Pictures are taken from --uploads \
            (a copy of wp-content/uploads), else downloaded, else listed as missing. Every old address \
            (permalinks, ?p=ID, ?page_id=ID, /category/, /tag/, /author/) answers with a redirect to the \
            new one. The whole import is one transaction; running it again updates what changed and \
            duplicates nothing; a story edited in the newsroom since keeps its text (the import is kept \
            as a revision). A summary goes to standard output, progress to standard error.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("A copy of the old site's wp-content/uploads folder.", valueName: "dir"))
    var uploads: String?

    @OptionGroup var importing: ForeignImportFlags

    @Argument(help: ArgumentHelp("The export file WordPress wrote.", valueName: "export.xml"))
    var export: String

    func run() async throws {
        try await importing.run(options, folder: uploads) { site, options, progress in
            try await site.wordpressImporter.run(export, options: options, progress: progress)
        }
    }
}

struct ImportGhost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-ghost",
        abstract: "Import a Ghost site from its JSON export (Settings → Labs → Export; Ghost 4 to 6).",
        discussion: """
            Posts and pages come from their HTML with their tags (the primary tag becomes the section;             internal #tags are dropped), authors in Ghost's order, feature images with their alt text and             captions, custom excerpts, canonical URLs and statuses (drafts and scheduled posts stay private;             members-only posts are imported as drafts). Pictures are taken from --images (a copy of             content/images), else downloaded, else listed as missing. Ghost's addresses redirect to the             new ones. One transaction; running it again updates what changed and duplicates nothing.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("A copy of the old site's content/images folder.", valueName: "dir"))
    var images: String?

    @OptionGroup var importing: ForeignImportFlags

    @Argument(help: ArgumentHelp("The export file Ghost wrote.", valueName: "export.json"))
    var export: String

    func run() async throws {
        try await importing.run(options, folder: images) { site, options, progress in
            try await site.ghostImporter.run(export, options: options, progress: progress)
        }
    }
}

struct ExportMarkdown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-markdown",
        abstract: "Write every article, page, author profile and picture out as Markdown files.",
        discussion: """
            DIR (new or empty) receives site.yaml (sections in order, author profiles),             articles/<section>/<slug>.md (every article, whatever its status, with front matter),             pages/<path>.md and media/ (the pictures). `masthead import-markdown DIR` brings it into             another site as it was.
            """)

    @OptionGroup var options: GlobalOptions

    @Argument(help: ArgumentHelp("The folder to write (new or empty).", valueName: "dir"))
    var directory: String

    func run() async throws {
        let (configuration, logger) = try await reportingErrors { try await options.load() }
        try await withSite(configuration, logger) { site in
            let summary = try await MarkdownExporter(store: site.store, mediaDirectory: configuration.mediaDirectory).export(to: directory)
            print("Exported \(summary.articles) articles, \(summary.pages) pages, \(summary.authors) author profiles and \(summary.mediaFiles) media files to \(directory)")
        }
    }
}

struct ExportStatic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-static",
        abstract: "Write the public site as files for any web server or CDN.",
        discussion: """
            DIR (new, empty, or written by an earlier export-static, which it replaces when the new \
            export is complete) receives every page a reader can reach from the home page, the feeds \
            and the sitemaps, as index.html files (feeds as index.xml and index.json), the image \
            variants the pages use, the theme's assets and 404.html. Search, the tip line and privacy \
            choices need a running Masthead: see docs/deployment.md.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Pages rendered at once (default: twice the cores).", valueName: "n"))
    var jobs: Int?

    @Argument(help: ArgumentHelp("The folder to write.", valueName: "dir"))
    var directory: String

    func validate() throws {
        if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs must be between 1 and 64, not \(jobs)") }
    }

    func run() async throws {
        var (configuration, logger) = try await reportingErrors { try await options.load() }
        // Every page is rendered once: keeping them in the page cache would only cost memory.
        configuration.pageCacheBytes = 0
        try await withSite(configuration, logger) { site in
            let meter = ProgressMeter(noun: "files", verb: ("exporting", "exported"))
            let exporter = jobs.map { StaticExporter(site: site, width: $0) } ?? StaticExporter(site: site)
            let summary = try await exporter.export(to: directory) { done, total in meter.update(done, of: total) }
            meter.finish()
            print(summary.description + " to " + directory)
            for link in summary.brokenLinks.prefix(20) {
                FileHandle.standardError.write(Data("masthead: warning: \(link.from) links to \(link.target), which is not found\n".utf8))
            }
            if summary.brokenLinks.count > 20 {
                FileHandle.standardError.write(Data("masthead: warning: and \(summary.brokenLinks.count - 20) more links to pages not found\n".utf8))
            }
        }
    }
}

/// What every import from another system takes, and how it runs: progress on standard error,
/// the summary on standard output, the JSON report where `--report` says.
struct ForeignImportFlags: ParsableArguments {
    @Flag(name: .long, help: "Report what would be imported without writing anything.")
    var dryRun = false

    @Flag(name: .long, help: "Do not download pictures missing from the folder given.")
    var noDownload = false

    @Option(name: .long, help: ArgumentHelp("Write the report as JSON to this file.", valueName: "file"))
    var report: String?

    func run(
        _ global: GlobalOptions, folder: String?,
        _ body: (Site, ForeignImport.Options, @escaping ForeignImport.Progress) async throws -> ImportReport
    ) async throws {
        let (configuration, logger) = try await reportingErrors { try await global.load() }
        try await withSite(configuration, logger) { site in
            let meter = ProgressMeter(noun: "posts and pages")
            let result = try await body(site, ForeignImport.Options(folder: folder, dryRun: dryRun, download: !noDownload)) { done, total in
                meter.update(done, of: total)
            }
            meter.finish()
            try finish(result, report: report)
        }
    }
}

/// Prints an import's summary and writes its JSON report.
func finish(_ result: ImportReport, report: String?) throws {
    print(result.summary)
    guard let report else { return }
    do {
        try result.json().write(to: URL(fileURLWithPath: report))
    } catch {
        throw MastheadError(.invalidInput, "cannot write the report: \(error.localizedDescription)", location: .init(file: report))
    }
}
