import Foundation
import Hummingbird
import MastheadCore
import MultipartKit

/// A file sent with a form.
public struct UploadedFile: Sendable {
    public var filename: String
    public var contentType: String
    public var data: Data
}

/// The fields and files of a posted form, `application/x-www-form-urlencoded` or `multipart/form-data`.
public struct FormData: Sendable {
    public private(set) var fields: [String: [String]] = [:]
    /// Every file sent under each name (an `<input type="file" multiple>` sends several).
    public private(set) var fileLists: [String: [UploadedFile]] = [:]

    /// The first file sent under each name.
    public var files: [String: UploadedFile] { fileLists.compactMapValues(\.first) }

    public init(fields: [String: [String]] = [:], files: [String: UploadedFile] = [:]) {
        self.fields = fields
        self.fileLists = files.mapValues { [$0] }
    }

    /// The first value of `name`, trimmed; "" when absent.
    public subscript(name: String) -> String {
        (fields[name]?.first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The value of `name` as sent (not trimmed), for text areas.
    public func raw(_ name: String) -> String { fields[name]?.first ?? "" }

    public func all(_ name: String) -> [String] { fields[name] ?? [] }

    public func has(_ name: String) -> Bool { fields[name] != nil }

    /// Reads the body of `request` as a form; anything else is a 415 with the reason.
    static func read(_ request: Request, limit: Int) async throws -> FormData {
        let contentType = request.headers[.contentType] ?? ""
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw HTTPError(.contentTooLarge, message: "The form is larger than \(limit / 1_048_576) MB.")
        }
        if contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            return FormData(urlEncoded: String(buffer: buffer))
        }
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = Self.boundary(in: contentType) else {
                throw HTTPError(.badRequest, message: "The multipart form names no boundary.")
            }
            return try FormData(multipart: buffer, boundary: boundary)
        }
        if buffer.readableBytes == 0 { return FormData() }
        throw HTTPError(.unsupportedMediaType, message: "Forms must be sent as application/x-www-form-urlencoded or multipart/form-data.")
    }

    init(urlEncoded text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    init(multipart buffer: ByteBuffer, boundary: String) throws {
        let parser = MultipartParser(boundary: boundary)
        var headers: [String: String] = [:]
        var body = ByteBuffer()
        var parts: [([String: String], ByteBuffer)] = []
        parser.onHeader = { name, value in headers[name.lowercased()] = value }
        parser.onBody = { chunk in body.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append((headers, body))
            headers = [:]
            body = ByteBuffer()
        }
        do {
            try parser.execute(buffer)
        } catch {
            throw HTTPError(.badRequest, message: "The multipart form cannot be read: it is cut short or malformed.")
        }
        for (headers, body) in parts {
            let disposition = Self.dispositionParameters(headers["content-disposition"] ?? "")
            guard let name = disposition["name"] else { continue }
            if let filename = disposition["filename"] {
                guard !filename.isEmpty, body.readableBytes > 0 else { continue }
                fileLists[name, default: []].append(UploadedFile(
                    filename: filename, contentType: headers["content-type"] ?? "application/octet-stream", data: Data(buffer: body)))
            } else {
                fields[name, default: []].append(String(buffer: body))
            }
        }
    }

    private static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// `form-data; name="image"; filename="a b.jpg"` → ["name": "image", "filename": "a b.jpg"].
    private static func dispositionParameters(_ header: String) -> [String: String] {
        var values: [String: String] = [:]
        var rest = Substring(header)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop(while: { $0 == " " })
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].lowercased()
            var value = rest[rest.index(after: equals)...]
            if value.hasPrefix("\"") {
                value = value.dropFirst()
                var text = ""
                var escaped = false
                var end = value.endIndex
                for index in value.indices {
                    let character = value[index]
                    if escaped { text.append(character); escaped = false; continue }
                    if character == "\\" { escaped = true; continue }
                    if character == "\"" { end = index; break }
                    text.append(character)
                }
                values[key] = text
                rest = end < value.endIndex ? value[value.index(after: end)...] : ""
            } else {
                let end = value.firstIndex(of: ";") ?? value.endIndex
                values[key] = value[..<end].trimmingCharacters(in: .whitespaces)
                rest = value[end...]
            }
        }
        return values
    }
}
