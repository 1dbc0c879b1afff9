import Foundation
import Hummingbird
import MastheadCore
import MultipartKit

/// A file sent with a form: kept in memory (the tip line, whose files must never touch disk
/// before they are sealed), or written to a temporary file as it arrives (newsroom uploads).
public struct UploadedFile: Sendable {
    public enum Storage: Sendable {
        case memory(Data)
        /// A temporary file, removed when the request ends unless the handler moved it.
        case spooled(path: String)
    }

    public var filename: String
    public var contentType: String
    public var storage: Storage
    /// The file's size in bytes.
    public var size: Int

    public init(filename: String, contentType: String, data: Data) {
        self.filename = filename
        self.contentType = contentType
        self.storage = .memory(data)
        self.size = data.count
    }

    init(filename: String, contentType: String, spooledAt path: String, size: Int) {
        self.filename = filename
        self.contentType = contentType
        self.storage = .spooled(path: path)
        self.size = size
    }

    /// The temporary file holding the bytes, when they were spooled.
    public var spooledPath: String? {
        if case .spooled(let path) = storage { return path }
        return nil
    }

    /// Removes the temporary file, if any (a handler that kept the file has moved it already).
    public func removeSpooledFile() {
        if let spooledPath { try? FileManager.default.removeItem(atPath: spooledPath) }
    }

    /// The file's bytes (read from its temporary file when it was spooled).
    public func contents() throws -> Data {
        switch storage {
        case .memory(let data): return data
        case .spooled(let path): return try Data(contentsOf: URL(fileURLWithPath: path))
        }
    }
}

/// How much of a posted form may be read, and where its files go.
public struct FormLimits: Sendable {
    /// The most bytes of body in all.
    public var bodyBytes: Int
    /// The most bytes of text fields (all together).
    public var fieldBytes: Int = 2 * 1_048_576
    /// The most fields and files.
    public var parts: Int = 1_000
    /// Where files are written as they arrive; nil keeps them in memory.
    public var spoolDirectory: String?

    public init(bodyBytes: Int, fieldBytes: Int = 2 * 1_048_576, spoolDirectory: String? = nil) {
        self.bodyBytes = bodyBytes
        self.fieldBytes = min(fieldBytes, bodyBytes)
        self.spoolDirectory = spoolDirectory
    }
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

    /// Temporary files of spooled uploads; the reader of the form removes what is left of them.
    var spooledPaths: [String] { fileLists.values.flatMap { $0 }.compactMap(\.spooledPath) }

    /// Removes the temporary files of spooled uploads that the handler did not move elsewhere.
    func removeSpooledFiles() {
        for path in spooledPaths { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Reads the body of `request` as a form, within `limits`: a body announced or found larger is
    /// refused (413) as soon as that is known, before it is read whole; anything but a form is a 415.
    static func read(_ request: Request, limits: FormLimits) async throws -> FormData {
        let contentType = request.headers[.contentType] ?? ""
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.bodyBytes {
            throw Self.tooLarge(limits.bodyBytes)
        }
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = Self.boundary(in: contentType), !boundary.isEmpty, boundary.utf8.count <= 200 else {
                throw HTTPError(.badRequest, message: "The multipart form names no boundary.")
            }
            return try await FormData(multipart: request.body, boundary: boundary, limits: limits)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: min(limits.bodyBytes, limits.fieldBytes))
        } catch {
            throw Self.tooLarge(min(limits.bodyBytes, limits.fieldBytes))
        }
        if contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            let form = FormData(urlEncoded: String(buffer: buffer))
            guard form.fields.values.reduce(0, { $0 + $1.count }) <= limits.parts else {
                throw HTTPError(.contentTooLarge, message: "The form has more than \(limits.parts) fields.")
            }
            return form
        }
        if buffer.readableBytes == 0 { return FormData() }
        throw HTTPError(.unsupportedMediaType, message: "Forms must be sent as application/x-www-form-urlencoded or multipart/form-data.")
    }

    private static func tooLarge(_ limit: Int) -> HTTPError {
        let size = limit >= 1_048_576 ? "\(limit / 1_048_576) MB" : "\(max(1, limit / 1024)) KB"
        return HTTPError(.contentTooLarge, message: "The form is larger than \(size); nothing was changed.")
    }

    init(urlEncoded text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Reads a multipart body as it arrives: text fields into memory (within the field limit),
    /// files into memory or, with a spool folder, straight into temporary files.
    init(multipart body: RequestBody, boundary: String, limits: FormLimits) async throws {
        let reader = MultipartReader(boundary: boundary, limits: limits)
        do {
            for try await chunk in body {
                try reader.consume(chunk)
            }
            let (fields, files) = try reader.finish()
            self.fields = fields
            self.fileLists = files
        } catch {
            reader.discard()
            if let error = error as? HTTPError { throw error }
            throw HTTPError(.badRequest, message: "The multipart form cannot be read: it is cut short or malformed.")
        }
    }

    /// Builds a form from a multipart body held in memory (tests, small bodies).
    init(multipart buffer: ByteBuffer, boundary: String) throws {
        let reader = MultipartReader(boundary: boundary, limits: FormLimits(bodyBytes: .max, fieldBytes: .max))
        do {
            try reader.consume(buffer)
            (fields, fileLists) = try reader.finish()
        } catch {
            reader.discard()
            throw HTTPError(.badRequest, message: "The multipart form cannot be read: it is cut short or malformed.")
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
    static func dispositionParameters(_ header: String) -> [String: String] {
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

/// The state of one multipart body being read: the parser, the part in progress, and the limits.
/// Used by one request's task only.
private final class MultipartReader {
    private let parser: MultipartParser
    private let limits: FormLimits
    private var headers: [String: String] = [:]
    private var partOpen = false
    private var partFile: (name: String, filename: String, type: String, path: String?, handle: FileHandle?, data: Data, size: Int)?
    private var partField: (name: String, data: Data)?
    private var bodyBytes = 0
    private var fieldBytes = 0
    private var parts = 0
    private var failure: HTTPError?
    private(set) var fields: [String: [String]] = [:]
    private(set) var files: [String: [UploadedFile]] = [:]
    private var spooled: [String] = []

    init(boundary: String, limits: FormLimits) {
        parser = MultipartParser(boundary: boundary)
        self.limits = limits
        parser.onHeader = { [unowned self] name, value in
            partOpen = true
            guard headers.count < 32 else { return }
            headers[name.lowercased()] = String(value.prefix(4096))
        }
        parser.onBody = { [unowned self] chunk in
            partOpen = true
            do { try body(&chunk) } catch let error as HTTPError { failure = failure ?? error } catch {
                failure = failure ?? HTTPError(.internalServerError)
            }
        }
        parser.onPartComplete = { [unowned self] in
            do { try completePart() } catch let error as HTTPError { failure = failure ?? error } catch {
                failure = failure ?? HTTPError(.internalServerError)
            }
        }
    }

    func consume(_ chunk: ByteBuffer) throws {
        bodyBytes += chunk.readableBytes
        guard bodyBytes <= limits.bodyBytes else { throw FormData.tooLargeError(limits.bodyBytes) }
        try parser.execute(chunk)
        if let failure { throw failure }
    }

    func finish() throws -> ([String: [String]], [String: [UploadedFile]]) {
        if let failure { throw failure }
        // A part begun and never ended: the body was cut short.
        guard !partOpen else { throw HTTPError(.badRequest, message: "The multipart form cannot be read: it is cut short.") }
        return (fields, files)
    }

    /// Removes every temporary file this body wrote.
    func discard() {
        try? partFile?.handle?.close()
        if let path = partFile?.path { spooled.append(path) }
        for path in spooled { try? FileManager.default.removeItem(atPath: path) }
    }

    private func startPart() throws {
        parts += 1
        guard parts <= limits.parts else { throw HTTPError(.contentTooLarge, message: "The form has more than \(limits.parts) parts.") }
        let disposition = FormData.dispositionParameters(headers["content-disposition"] ?? "")
        let name = disposition["name"] ?? ""
        if let filename = disposition["filename"] {
            var path: String?
            var handle: FileHandle?
            if let folder = limits.spoolDirectory, !filename.isEmpty {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let file = folder + "/" + UUID().uuidString + ".upload"
                guard FileManager.default.createFile(atPath: file, contents: nil), let opened = FileHandle(forWritingAtPath: file) else {
                    throw HTTPError(.insufficientStorage, message: "The upload cannot be written to disk; nothing was changed.")
                }
                spooled.append(file)
                path = file
                handle = opened
            }
            partFile = (name, filename, headers["content-type"] ?? "application/octet-stream", path, handle, Data(), 0)
        } else {
            partField = (name, Data())
        }
    }

    private func body(_ chunk: inout ByteBuffer) throws {
        if partFile == nil && partField == nil { try startPart() }
        let bytes = chunk.readableBytesView
        if partFile != nil {
            partFile!.size += bytes.count
            if let handle = partFile!.handle {
                do { try handle.write(contentsOf: bytes) } catch {
                    throw HTTPError(.insufficientStorage, message: "The upload cannot be written to disk (is it full?); nothing was changed.")
                }
            } else {
                partFile!.data.append(contentsOf: bytes)
            }
        } else {
            fieldBytes += bytes.count
            guard fieldBytes <= limits.fieldBytes else { throw FormData.tooLargeError(limits.fieldBytes) }
            partField!.data.append(contentsOf: bytes)
        }
    }

    private func completePart() throws {
        if partFile == nil && partField == nil { try startPart() }
        if let file = partFile {
            try? file.handle?.close()
            // An empty file input sends a part with no name and no bytes: not a file.
            if !file.filename.isEmpty, file.size > 0, !file.name.isEmpty {
                let uploaded = file.path.map { UploadedFile(filename: file.filename, contentType: file.type, spooledAt: $0, size: file.size) }
                    ?? UploadedFile(filename: file.filename, contentType: file.type, data: file.data)
                files[file.name, default: []].append(uploaded)
            } else if let path = file.path {
                try? FileManager.default.removeItem(atPath: path)
            }
        } else if let field = partField, !field.name.isEmpty {
            fields[field.name, default: []].append(String(decoding: field.data, as: UTF8.self))
        }
        partFile = nil
        partField = nil
        headers = [:]
        partOpen = false
    }
}

extension FormData {
    fileprivate static func tooLargeError(_ limit: Int) -> HTTPError { tooLarge(limit) }
}
