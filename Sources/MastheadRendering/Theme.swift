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
        assetsDirectory = directory + "/assets"
        assetsVersion = Self.fingerprint(ofFolder: assetsDirectory)
    }

    /// The HTML of `view` through the template `name`.
    public func render(_ view: Any, template name: String) throws -> String {
        guard let html = library.render(TemplateValues.tree(view) ?? view, withTemplate: name) else {
            throw MastheadError(.configuration, "the theme has no template named \(name)")
        }
        return html
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

/// A view as the templates read it: structs as dictionaries, optionals unwrapped (nil left out),
/// arrays element by element. Made in one pass over the view, so that each `{{name}}` in a
/// template is a dictionary lookup instead of a reflection over the whole struct (which the
/// template engine would otherwise do for every name, at every level of the context stack).
enum TemplateValues {
    static func tree(_ value: Any) -> Any? {
        switch value {
        case is String, is Bool, is Int, is Int64, is Double: return value
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.flatMap { tree($0.value) }
        case .struct, .class:
            var fields: [String: Any] = [:]
            fields.reserveCapacity(Int(mirror.children.count))
            for child in mirror.children {
                if let label = child.label, let field = tree(child.value) { fields[label] = field }
            }
            return fields
        case .collection, .set:
            return mirror.children.compactMap { tree($0.value) }
        default:
            return value
        }
    }
}
