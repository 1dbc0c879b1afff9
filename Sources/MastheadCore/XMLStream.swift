import CLibXML2
import Foundation

/// Reads an XML file node by node in bounded memory (libxml2's streaming reader), however large
/// the file. Entities are not expanded and nothing is fetched from the network. Control
/// characters that XML forbids (which exports from older systems hold) are dropped as the file
/// is read rather than stopping the import.
public final class XMLStream {
    public enum Event: Equatable {
        /// An element opens; `empty` when it closes at once (`<a/>`), with no `end` to follow.
        case start(name: String, attributes: [String: String], empty: Bool)
        case end(name: String)
        /// Text or CDATA inside the current element.
        case text(String)
    }

    private let reader: xmlTextReaderPtr
    private let input: Input
    private let path: String
    private let errors = Errors()
    /// Names namespaces by what they are rather than by the prefix a file chose.
    private let prefix: (_ namespace: String, _ written: String) -> String

    /// Opens `path`. `prefix` names each element's namespace (by its URI) for ``Event`` names
    /// (`prefix:local`); an element with no namespace is named by its local name alone.
    public init(path: String, prefix: @escaping (_ namespace: String, _ written: String) -> String = { $1 }) throws {
        guard let file = fopen(path, "rb") else {
            throw MastheadError(.invalidInput, "cannot be opened: \(String(cString: strerror(errno)))", location: .init(file: path))
        }
        input = Input(file: file)
        self.path = path
        self.prefix = prefix
        let options = Int32(
            XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_HUGE.rawValue | XML_PARSE_COMPACT.rawValue | XML_PARSE_BIG_LINES.rawValue)
        let context = Unmanaged.passUnretained(input).toOpaque()
        guard let reader = xmlReaderForIO(
            { context, buffer, length in
                Unmanaged<Input>.fromOpaque(context!).takeUnretainedValue().read(into: buffer!, length: Int(length))
            },
            { _ in 0 }, context, nil, nil, options)
        else {
            throw MastheadError(.invalidInput, "cannot be read as XML", location: .init(file: path))
        }
        self.reader = reader
        xmlTextReaderSetErrorHandler(reader, { context, message, severity, locator in
            let errors = Unmanaged<Errors>.fromOpaque(context!).takeUnretainedValue()
            guard severity == XML_PARSER_SEVERITY_ERROR || severity == XML_PARSER_SEVERITY_VALIDITY_ERROR || errors.first == nil else { return }
            if errors.first == nil {
                errors.first = (message.map { String(cString: $0) } ?? "malformed XML").trimmingCharacters(in: .whitespacesAndNewlines)
                errors.line = Int(xmlTextReaderLocatorLineNumber(locator))
            }
        }, Unmanaged.passUnretained(errors).toOpaque())
    }

    deinit {
        xmlFreeTextReader(reader)
        fclose(input.file)
    }

    /// The line of the node just read (or the line the parser reached), for messages.
    public var line: Int {
        if let node = xmlTextReaderCurrentNode(reader) {
            let line = Int(xmlGetLineNo(node))
            if line > 0 { return line }
        }
        return Int(xmlTextReaderGetParserLineNumber(reader))
    }

    /// The next event, or nil at the end. Throws a ``MastheadError`` naming the file and line when
    /// the XML is malformed.
    public func next() throws -> Event? {
        while true {
            let result = xmlTextReaderRead(reader)
            if result == 0 { return nil }
            guard result == 1 else {
                throw MastheadError(
                    .invalidInput, "is not well-formed XML: \(errors.first ?? "the reader stopped")",
                    location: .init(file: path, line: errors.line ?? line))
            }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
                // Exports never declare a document type; one that does could define entities
                // that expand without end. Refused before any of them is used.
                throw MastheadError(.invalidInput, "declares a document type (<!DOCTYPE>), which exports never do", location: .init(file: path, line: line))
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = qualifiedName()
                let empty = xmlTextReaderIsEmptyElement(reader) == 1
                var attributes: [String: String] = [:]
                while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                    if let key = xmlTextReaderConstLocalName(reader), let value = xmlTextReaderConstValue(reader) {
                        attributes[String(cString: key)] = String(cString: value)
                    }
                }
                xmlTextReaderMoveToElement(reader)
                return .start(name: name, attributes: attributes, empty: empty)
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                return .end(name: qualifiedName())
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue), Int32(XML_READER_TYPE_WHITESPACE.rawValue):
                guard let value = xmlTextReaderConstValue(reader) else { continue }
                return .text(String(cString: value))
            default:
                continue
            }
        }
    }

    private func qualifiedName() -> String {
        let local = xmlTextReaderConstLocalName(reader).map { String(cString: $0) } ?? ""
        guard let uri = xmlTextReaderConstNamespaceUri(reader) else { return local }
        let written = xmlTextReaderConstPrefix(reader).map { String(cString: $0) } ?? ""
        let name = prefix(String(cString: uri), written)
        return name.isEmpty ? local : name + ":" + local
    }

    /// The file, read with the control characters XML forbids (all but tab, line feed and
    /// carriage return) left out; bytes of multi-byte UTF-8 characters are never among them.
    private final class Input {
        let file: UnsafeMutablePointer<FILE>

        init(file: UnsafeMutablePointer<FILE>) {
            self.file = file
        }

        func read(into buffer: UnsafeMutablePointer<CChar>, length: Int) -> Int32 {
            let count = fread(buffer, 1, length, file)
            if count == 0 { return ferror(file) != 0 ? -1 : 0 }
            var kept = 0
            for index in 0..<count {
                let byte = UInt8(bitPattern: buffer[index])
                if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D { continue }
                buffer[kept] = buffer[index]
                kept += 1
            }
            // A read that was all control characters must not look like the end of the file.
            if kept == 0 { return read(into: buffer, length: length) }
            return Int32(kept)
        }
    }

    private final class Errors {
        var first: String?
        var line: Int?
    }
}
