import Foundation
import MastheadCore
import Mustache

/// A theme: Mustache templates and static assets in a folder, loaded at run time.
///
/// The folder holds `templates/*.mustache` and `assets/`. Templates see only view models
/// (``ArticlePageView``, ``ListPageView``…), never the database.
public struct Theme: Sendable {
    /// The templates every theme must provide.
    public static let requiredTemplates = ["layout", "home", "article", "list", "page", "error", "tips", "search", "consent", "tips-receipt", "tips-return"]

    private let library: MustacheLibrary
    /// The same templates compiled; nil when the theme uses what only swift-mustache renders.
    private let compiled: CompiledTemplates?
    /// Why the theme is rendered by swift-mustache, when it is.
    public let compileNote: String?
    /// The folder whose files are served under `/assets/`.
    public let assetsDirectory: String
    /// A short fingerprint of the assets, appended to their URLs so browsers can cache them for long.
    public let assetsVersion: String

    /// Loads the theme in `directory`; throws if a template is missing or does not parse.
    public init(directory: String, requiredTemplates: [String] = Theme.requiredTemplates) async throws {
        let templates = directory + "/templates"
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: templates, isDirectory: &isFolder), isFolder.boolValue else {
            throw MastheadError(.configuration, "theme folder \(directory) has no templates/ folder", location: .init(field: "theme"))
        }
        do {
            library = try await MustacheLibrary(directory: templates)
        } catch let error as MustacheLibrary.ParserError {
            throw MastheadError(
                .configuration, "template \(error.filename) does not parse: \(error.error) (line \(error.context.lineNumber))",
                location: .init(file: error.filename, line: error.context.lineNumber))
        }
        for name in requiredTemplates where library.getTemplate(named: name) == nil {
            throw MastheadError(.configuration, "theme \(directory) lacks the template \(name).mustache", location: .init(field: "theme"))
        }
        do {
            compiled = try CompiledTemplates(sources: Self.sources(in: templates))
            compileNote = nil
        } catch {
            compiled = nil
            compileNote = "\(error)"
        }
        assetsDirectory = directory + "/assets"
        assetsVersion = Self.fingerprint(ofFolder: assetsDirectory)
    }

    /// With `MASTHEAD_CHECK_TEMPLATES=1` every page is also rendered by swift-mustache (and from its
    /// view read by reflection), and a page that differs is an error naming the template and the
    /// place: the test suites run this way.
    static let checksAgainstMustache = ProcessInfo.processInfo.environment["MASTHEAD_CHECK_TEMPLATES"] == "1"

    /// The HTML of `view` through the template `name`.
    public func render(_ view: Any, template name: String) throws -> String {
        let value = TemplateValue(reflecting: view) ?? .object([:])
        guard let compiled else {
            guard let html = library.render(value.mustacheValue, withTemplate: name) else { throw Self.noTemplate(name) }
            return html
        }
        guard let html = compiled.render(value, template: name) else { throw Self.noTemplate(name) }
        if Self.checksAgainstMustache {
            // The same page by swift-mustache, and from the view read by reflection (which checks
            // the views' own template values).
            try Self.expectSame(library.render(value.mustacheValue, withTemplate: name), html, name, "swift-mustache")
            let reflected = TemplateValue(reflecting: view, reflectingAll: true) ?? .object([:])
            try Self.expectSame(compiled.render(reflected, template: name), html, name, "the view read by reflection")
        }
        return html
    }

    private static func expectSame(_ reference: String?, _ html: String, _ name: String, _ what: String) throws {
        guard let reference, reference != html else { return }
        let at = zip(reference, html).prefix { $0 == $1 }.count
        throw MastheadError(
            .configuration, "template \(name) renders differently from \(what) at character \(at): "
                + "\(reference.dropFirst(max(0, at - 40)).prefix(80).debugDescription) != \(html.dropFirst(max(0, at - 40)).prefix(80).debugDescription)")
    }

    private static func noTemplate(_ name: String) -> MastheadError {
        MastheadError(.configuration, "the theme has no template named \(name)")
    }

    /// Whether the theme's templates are compiled (else swift-mustache renders them).
    public var isCompiled: Bool { compiled != nil }

    /// Template name (its path under `templates/` without `.mustache`) → text, as swift-mustache names them.
    static func sources(in folder: String) throws -> [String: String] {
        var sources: [String: String] = [:]
        for path in FileManager.default.subpaths(atPath: folder) ?? [] where path.hasSuffix(".mustache") {
            sources[String(path.dropLast(".mustache".count))] = try String(contentsOfFile: folder + "/" + path, encoding: .utf8)
        }
        return sources
    }

    /// FNV-1a over the names, sizes and dates of the files in `folder`.
    private static func fingerprint(ofFolder folder: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let files = (FileManager.default.subpaths(atPath: folder) ?? []).sorted()
        for file in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + file)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            for byte in "\(file)|\(size)|\(date)".utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 36)
    }
}
