import Foundation
import Logging
import MastheadApp
import MastheadCore
import MastheadImaging
import MastheadStorage

/// A throwaway site for tests: its own data folder under the system's temporary folder, a real
/// database, and the repository's default theme. The database is an SQLite file in the folder;
/// when `MASTHEAD_TEST_POSTGRES_URL` names a PostgreSQL server (`make test` starts one), it is a
/// new database there instead, dropped at the end.
public struct TestSite: Sendable {
    public let directory: String
    public let site: Site

    /// The repository's root, found from this file's place in it.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The PostgreSQL server the tests run on, if any.
    public static let postgresServerURL: String? = ProcessInfo.processInfo.environment["MASTHEAD_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Whether the tests run on PostgreSQL (some tests are about SQLite's files and plans only).
    public static var onPostgres: Bool { postgresServerURL != nil }

    /// A fresh, empty site. `configure` may adjust the configuration before it opens.
    public static func make(_ configure: (inout AppConfiguration) -> Void = { _ in }) async throws -> TestSite {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = AppConfiguration(
            site: SiteSettings(title: "Test Gazette", baseURL: "http://news.test"),
            dataDirectory: directory + "/data",
            themeDirectory: repositoryRoot + "/Themes/default")
        configuration.adminDirectory = repositoryRoot + "/Admin"
        // The cheapest cost bcrypt allows keeps tests quick; the site's default is 12.
        configuration.signIn.bcryptCost = 4
        var logger = Logger(label: "masthead.test")
        logger.logLevel = .warning
        if let server = postgresServerURL {
            configuration.database = .postgres(url: try await PostgresDatabases.create(on: server, logger: logger))
            configuration.secret = Data("a secret for the tests, shared by their instances".utf8)
        }
        configure(&configuration)
        return TestSite(directory: directory, site: try await Site.open(configuration, logger: logger))
    }

    /// Writes a Markdown file into the test folder and returns its path.
    @discardableResult
    public func write(_ text: String, to name: String) throws -> String {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes a Markdown article with the given front matter lines and body; returns its path.
    @discardableResult
    public func writeArticle(_ name: String, frontMatter: [String], body: String = "Body text of the story.") throws -> String {
        try write("---\n" + frontMatter.joined(separator: "\n") + "\n---\n" + body + "\n", to: name)
    }

    /// Writes a real JPEG of `width × height` pixels (a colour gradient) and returns its path.
    @discardableResult
    public func writeJPEG(_ name: String, width: Int = 320, height: Int = 180) throws -> String {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let offset = (y * width + x) * 3
                pixels[offset] = UInt8(x * 255 / max(1, width - 1))
                pixels[offset + 1] = UInt8(y * 255 / max(1, height - 1))
                pixels[offset + 2] = 128
            }
        }
        let path = directory + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JPEGEncoder.encode(rgb: pixels, width: width, height: height).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Imports the given files or folders as articles.
    @discardableResult
    public func importArticles(_ paths: String...) async throws -> [ImportedArticle] {
        try await site.importer.importArticles(from: paths)
    }

    /// Closes the store and removes the folder.
    public func tearDown() async {
        await site.store.close()
        if case .postgres(let url) = site.configuration.database {
            try? await PostgresDatabases.drop(url, logger: site.logger)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fresh ``TestSite``, tearing it down afterwards whatever happens.
public func withTestSite<T>(_ body: (TestSite) async throws -> T) async throws -> T {
    try await withTestSite(configuring: { _ in }, body)
}

/// Runs `body` with a fresh ``TestSite`` whose configuration `configure` adjusted first.
public func withTestSite<T>(
    configuring configure: (inout AppConfiguration) -> Void, _ body: (TestSite) async throws -> T
) async throws -> T {
    let testSite = try await TestSite.make(configure)
    do {
        let result = try await body(testSite)
        await testSite.tearDown()
        return result
    } catch {
        await testSite.tearDown()
        throw error
    }
}
