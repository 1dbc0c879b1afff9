import ArgumentParser
import Foundation
import Hummingbird
import Logging
import MastheadApp
import MastheadCore
import MastheadImaging
import MastheadStorage

@main
struct Masthead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masthead",
        abstract: "Masthead serves a news site: articles, sections, tags and authors, from one binary.",
        discussion: """
            Configuration comes from masthead.yaml (or --config FILE), then MASTHEAD_* environment \
            variables, then command-line options. With none, the site lives in ./data as an SQLite file.
            See docs/configuration.md for every setting.
            """,
        subcommands: [Serve.self, Migrate.self, ImportMarkdown.self, ImportWordPress.self, ImportGhost.self, ExportMarkdown.self, ExportStatic.self, LoadDemo.self, AddCorrection.self, ConvertImage.self, ContentKey.self, UserCommand.self, TipsCommand.self, DatabaseCommand.self],
        defaultSubcommand: Serve.self)
}

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file (YAML).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Data folder: database and media (MASTHEAD_DATA_DIR).", valueName: "path"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp("Database URL, e.g. sqlite:///srv/news/site.sqlite (MASTHEAD_DATABASE_URL).", valueName: "url"))
    var databaseURL: String?

    func load(_ extra: [String: String] = [:]) async throws -> (AppConfiguration, Logger) {
        var overrides = extra
        overrides["data_dir"] = dataDir
        overrides["database_url"] = databaseURL
        let configuration = try await AppConfiguration.load(file: config, overrides: overrides)
        bootstrapLogging
        var logger = Logger(label: "masthead")
        logger.logLevel = configuration.logLevel
        return (configuration, logger)
    }
}

/// Every log line of the process goes through the address-redacting handler (done once).
let bootstrapLogging: Void = LoggingSystem.bootstrap { label in RedactingLogHandler(StreamLogHandler.standardError(label: label)) }

/// Runs `body` with an open site, printing a Masthead error plainly and exiting 1.
func withSite<T>(_ configuration: AppConfiguration, _ logger: Logger, _ body: (Site) async throws -> T) async throws -> T {
    let site = try await reportingErrors { try await Site.open(configuration, logger: logger) }
    do {
        let result = try await reportingErrors { try await body(site) }
        await site.store.close()
        return result
    } catch {
        await site.store.close()
        throw error
    }
}

/// Turns Masthead errors into one clear line on standard error and exit status 1.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as MastheadError {
        FileHandle.standardError.write(Data("masthead: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the site over HTTP.",
        discussion: "Migrates the database first. Stops gracefully on SIGINT or SIGTERM.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Address to listen on (MASTHEAD_HOST).", valueName: "host"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("Port to listen on (MASTHEAD_PORT).", valueName: "port"))
    var port: Int?

    @Flag(name: .long, help: "Load the demo newsroom from ./Demo first if the site has no articles.")
    var demoIfEmpty = false

    func run() async throws {
        var extra: [String: String] = [:]
        extra["host"] = host
        extra["port"] = port.map(String.init)
        let (configuration, logger) = try await reportingErrors { try await options.load(extra) }
        let site = try await reportingErrors { try await Site.open(configuration, logger: logger) }
        if demoIfEmpty, try await site.store.isEmpty() {
            let imported = try await reportingErrors { try await DemoContent().load(into: site.importer) }
            logger.info("loaded the demo newsroom", metadata: ["masthead.articles": "\(imported.count)"])
        }
        try await reportingErrors { try await site.ensureDefaultPages() }
        logger.info("serving", metadata: ["masthead.url": "\(configuration.site.baseURL)", "masthead.database": "\(configuration.database)"])
        try await buildApplication(site: site).runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or update the database schema, then exit.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (configuration, logger) = try await reportingErrors { try await options.load() }
        try await withSite(configuration, logger) { _ in
            print("Database \(configuration.database) is at schema version \(Store.schemaVersion).")
        }
    }
}

struct ImportMarkdown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-markdown",
        abstract: "Import articles from Markdown files with YAML front matter.",
        discussion: """
            PATH may be files or folders (searched for .md files). Front matter fields: title (required), \
            slug, section, tags, authors, date, updated, summary, image, image_alt, image_caption, \
            image_credit, disclaimer, status. Unknown sections, tags and authors are created; an existing \
            slug is updated. All files are imported in one transaction: one bad file and nothing is imported \
            (with --batch N, every N articles are committed on their own).
            Prints one line per article: its URL path. Progress goes to standard error: a bar on a terminal, \
            a line every ten seconds otherwise.
            """)

    @OptionGroup var options: GlobalOptions

    @Flag(name: .long, help: "Import the files as standing pages (About, Privacy…) instead of articles.")
    var pages = false

    @Option(name: .long, help: ArgumentHelp(
        "Commit every N articles on their own, so a bad file stops the import there instead of undoing it all.",
        valueName: "N"))
    var batch: Int?

    @Argument(help: ArgumentHelp("Markdown files or folders.", valueName: "path"))
    var paths: [String]

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be 1 or more (got \(batch))") }
    }

    func run() async throws {
        let (configuration, logger) = try await reportingErrors { try await options.load() }
        try await withSite(configuration, logger) { site in
            if pages {
                for path in try await site.importer.importPages(from: paths) { print(path) }
            } else {
                let meter = ProgressMeter(noun: "articles")
                let progress: ContentImporter.Progress = { done, total in meter.update(done, of: total) }
                // A folder `export-markdown` wrote: sections, authors, pages and articles, as they were.
                let imported = paths.count == 1 && ContentImporter.isSiteFolder(paths[0])
                    ? try await site.importer.importSiteFolder(paths[0], batchSize: batch, progress: progress)
                    : try await site.importer.importArticles(from: paths, batchSize: batch, progress: progress)
                meter.finish()
                for article in imported {
                    let note = article.status == .published ? "" : "  (\(article.status.rawValue), not public)"
                    print(article.path + note)
                }
            }
        }
    }
}

struct LoadDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-demo",
        abstract: "Load the demo newsroom (articles, authors, pages) from a folder.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The demo folder.", valueName: "path"))
    var from = "Demo"

    @Flag(name: .long, help: "Do nothing if the site already has articles.")
    var ifEmpty = false

    func run() async throws {
        let (configuration, logger) = try await reportingErrors { try await options.load() }
        try await withSite(configuration, logger) { site in
            if ifEmpty, try await !site.store.isEmpty() {
                print("The site already has articles; the demo was not loaded.")
                return
            }
            for article in try await DemoContent(directory: from).load(into: site.importer) { print(article.path) }
        }
    }
}

struct AddCorrection: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-correction",
        abstract: "Append a correction or update note to a published article.")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "correction or update.")
    var kind = "correction"

    @Argument(help: "The article's slug.")
    var slug: String

    @Argument(help: "The text of the note.")
    var text: String

    func run() async throws {
        let (configuration, logger) = try await reportingErrors { try await options.load() }
        guard let kind = Correction.Kind(rawValue: kind) else {
            throw ValidationError("--kind must be 'correction' or 'update'")
        }
        try await withSite(configuration, logger) { site in
            let note = try await site.store.addCorrection(articleSlug: slug, kind: kind, text: text)
            print("Added \(note.kind.rawValue) to \(slug).")
        }
    }
}

struct ConvertImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-image",
        abstract: "Make one variant of an image file with the site's image pipeline.",
        discussion: """
            Checks the file as uploads are checked, then resizes, auto-rotates, converts to sRGB and \
            strips metadata, exactly as /img/ URLs do. With --repeat N, prints the median time of N runs.
            """)

    @Argument(help: "The image file.")
    var source: String

    @Option(name: .long, help: ArgumentHelp("The variant, as in /img/ URLs: w800, w800-h450-cover-gsmart, …", valueName: "variant"))
    var variant = "w800"

    @Option(name: .long, help: "jpeg, png, webp or avif.")
    var format = "webp"

    @Option(name: .long, help: ArgumentHelp("Where to write the result.", valueName: "file"))
    var output: String

    @Option(name: .customLong("repeat"), help: "Convert this many times and report the median.")
    var runs: Int = 1

    func run() async throws {
        guard let variant = ImageVariant(parsing: variant) else { throw ValidationError("'\(variant)' is not a variant such as w800 or w800-h450-cover-gsmart-q80") }
        guard let format = ImageFormat(rawValue: format), format != .gif else { throw ValidationError("--format must be jpeg, png, webp or avif") }
        guard runs >= 1 else { throw ValidationError("--repeat must be at least 1") }
        do {
            let image = try SourceImage.inspect(source)
            var times: [Double] = []
            var result: EncodedImage?
            for _ in 0..<runs {
                let start = ContinuousClock.now
                result = try ImageRenderer.render(image, variant: variant, format: format)
                let elapsed = ContinuousClock.now - start
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            guard let result else { return }
            try result.data.write(to: URL(fileURLWithPath: output))
            let median = times.sorted()[times.count / 2]
            print("\(result.width)x\(result.height) \(result.format.rawValue) \(result.data.count) bytes \(String(format: "%.1f", median)) ms")
        } catch let rejection as ImageRejection {
            FileHandle.standardError.write(Data("masthead: error: \(rejection.message)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct ContentKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "content-key",
        abstract: "Manage keys for the read-only Content API.",
        subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a Content API key and print it (it is shown once; only its hash is kept).")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "What the key is for, e.g. 'Mobile app'.")
        var name: String

        func run() async throws {
            let (configuration, logger) = try await reportingErrors { try await options.load() }
            try await withSite(configuration, logger) { site in
                print(try await site.store.createContentKey(name: name))
            }
        }
    }
}

/// Progress on standard error: a bar redrawn in place on a terminal; otherwise a plain line every
/// ten seconds and one at the end, which logs and CI keep readably.
final class ProgressMeter: @unchecked Sendable {
    private let noun: String
    private let verb: (doing: String, done: String)
    private let terminal = isatty(STDERR_FILENO) == 1
    private let start = ContinuousClock.now
    private var lastDrawn = ContinuousClock.now
    private var last: (done: Int, total: Int)?
    private let lock = NSLock()

    init(noun: String, verb: (doing: String, done: String) = ("importing", "imported")) {
        self.noun = noun
        self.verb = verb
    }

    func update(_ done: Int, of total: Int) {
        lock.lock()
        defer { lock.unlock() }
        last = (done, total)
        let now = ContinuousClock.now
        guard now - lastDrawn >= (terminal ? .milliseconds(100) : .seconds(10)) || done == total else { return }
        lastDrawn = now
        draw(done, total, final: false)
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if let last { draw(last.done, last.total, final: true) }
    }

    private func draw(_ done: Int, _ total: Int, final: Bool) {
        let elapsed = (ContinuousClock.now - start).components
        let seconds = max(0.001, Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
        let rate = Int(Double(done) / seconds)
        let counts = "\(done.formatted()) of \(total.formatted()) \(noun), \(rate.formatted())/s"
        if terminal {
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = "\r\(bar) \(counts)\u{1B}[K" + (final ? "\n" : "")
            FileHandle.standardError.write(Data(line.utf8))
        } else {
            FileHandle.standardError.write(Data("\(final ? verb.done : verb.doing): \(counts)\n".utf8))
        }
    }
}
