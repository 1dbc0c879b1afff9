import Foundation
import NIOCore
import NIOFoundationCompat

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

    public init(filename: String, contentType: String, spooledAt path: String, size: Int) {
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

/// Why a form body was refused: its HTTP status and a sentence for the person who sent it.
public struct FormError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Malformed or cut short (400).
        case malformed
        /// Over a limit (413).
        case tooLarge
        /// Not a form at all (415).
        case unsupportedType
        /// The disk would not take it (507).
        case storage
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func tooLarge(_ limit: Int) -> FormError {
        let size = limit >= 1_048_576 ? "\(limit / 1_048_576) MB" : "\(max(1, limit / 1024)) KB"
        return FormError(.tooLarge, "The form is larger than \(size); nothing was changed.")
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
    public var spooledPaths: [String] { fileLists.values.flatMap { $0 }.compactMap(\.spooledPath) }

    /// Removes the temporary files of spooled uploads that the handler did not move elsewhere.
    public func removeSpooledFiles() {
        for path in spooledPaths { try? FileManager.default.removeItem(atPath: path) }
    }

    public init(urlEncoded text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Builds a form from a multipart body held in memory.
    public init(multipart buffer: ByteBuffer, boundary: String, limits: FormLimits = FormLimits(bodyBytes: .max, fieldBytes: .max)) throws(FormError) {
        let reader = MultipartReader(boundary: boundary, limits: limits)
        do {
            try reader.consume(buffer)
            (fields, fileLists) = try reader.finish()
        } catch {
            reader.discard()
            throw error
        }
    }

    /// Builds a form from fields and files already read.
    init(fields: [String: [String]], fileLists: [String: [UploadedFile]]) {
        self.fields = fields
        self.fileLists = fileLists
    }

    /// The `boundary` parameter of a `multipart/form-data` content type.
    public static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// `form-data; name="image"; filename="a b.jpg"` → ["name": "image", "filename": "a b.jpg"].
    public static func dispositionParameters(_ header: String) -> [String: String] {
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

/// Reads one multipart body as it arrives, chunk by chunk: text fields into memory (within the
/// field limit), files into memory or, with a spool folder, straight into temporary files.
/// Used by one request's task only; ``discard()`` removes what it wrote when the body is refused.
public final class MultipartReader {
    private let parser: MultipartStream
    private let limits: FormLimits
    private var headers: [String: String] = [:]
    private var partOpen = false
    private var partFile: (name: String, filename: String, type: String, path: String?, handle: FileHandle?, data: Data, size: Int)?
    private var partField: (name: String, data: Data)?
    private var bodyBytes = 0
    private var fieldBytes = 0
    private var parts = 0
    private var failure: FormError?
    private(set) var fields: [String: [String]] = [:]
    private(set) var files: [String: [UploadedFile]] = [:]
    private var spooled: [String] = []

    public init(boundary: String, limits: FormLimits) {
        parser = MultipartStream(boundary: boundary)
        self.limits = limits
        parser.onHeader = { [unowned self] name, value in
            partOpen = true
            guard headers.count < 32 else { return }
            headers[name.lowercased()] = String(value.prefix(4096))
        }
        parser.onBody = { [unowned self] chunk in
            partOpen = true
            do throws(FormError) { try body(&chunk) } catch { failure = failure ?? error }
        }
        parser.onPartComplete = { [unowned self] in
            do throws(FormError) { try completePart() } catch { failure = failure ?? error }
        }
    }

    /// Reads the next piece of the body.
    public func consume(_ chunk: ByteBuffer) throws(FormError) {
        bodyBytes += chunk.readableBytes
        guard bodyBytes <= limits.bodyBytes else { throw FormError.tooLarge(limits.bodyBytes) }
        do {
            try parser.execute(chunk)
        } catch {
            throw FormError(.malformed, "The multipart form cannot be read: it is malformed.")
        }
        if let failure { throw failure }
    }

    /// The fields and files, once the whole body has been read.
    public func finish() throws(FormError) -> ([String: [String]], [String: [UploadedFile]]) {
        if let failure { throw failure }
        // A part begun and never ended, or no closing delimiter: the body was cut short or is not multipart.
        guard !partOpen, parser.isFinished || bodyBytes == 0 else { throw FormError(.malformed, "The multipart form cannot be read: it is cut short.") }
        return (fields, files)
    }

    /// The form read so far, once ``finish()`` accepted it.
    public func form() throws(FormError) -> FormData {
        let (fields, files) = try finish()
        return FormData(fields: fields, fileLists: files)
    }

    /// Removes every temporary file this body wrote.
    public func discard() {
        try? partFile?.handle?.close()
        if let path = partFile?.path { spooled.append(path) }
        for path in spooled { try? FileManager.default.removeItem(atPath: path) }
    }

    private func startPart() throws(FormError) {
        parts += 1
        guard parts <= limits.parts else { throw FormError(.tooLarge, "The form has more than \(limits.parts) parts.") }
        let disposition = FormData.dispositionParameters(headers["content-disposition"] ?? "")
        let name = disposition["name"] ?? ""
        if let filename = disposition["filename"] {
            var path: String?
            var handle: FileHandle?
            if let folder = limits.spoolDirectory, !filename.isEmpty {
                let file = folder + "/" + UUID().uuidString + ".upload"
                guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil,
                      FileManager.default.createFile(atPath: file, contents: nil), let opened = FileHandle(forWritingAtPath: file) else {
                    throw FormError(.storage, "The upload cannot be written to disk (is it full or read-only?); nothing was changed.")
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

    private func body(_ chunk: inout ByteBuffer) throws(FormError) {
        if partFile == nil && partField == nil { try startPart() }
        let bytes = chunk.readableBytesView
        if partFile != nil {
            partFile!.size += bytes.count
            if let handle = partFile!.handle {
                do { try handle.write(contentsOf: bytes) } catch {
                    throw FormError(.storage, "The upload cannot be written to disk (is it full?); nothing was changed.")
                }
            } else {
                partFile!.data.append(contentsOf: bytes)
            }
        } else {
            fieldBytes += bytes.count
            guard fieldBytes <= limits.fieldBytes else { throw FormError.tooLarge(limits.fieldBytes) }
            partField!.data.append(contentsOf: bytes)
        }
    }

    private func completePart() throws(FormError) {
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
