import NIOCore

/// A streaming reader of `multipart/form-data` (RFC 7578): fed the body piece by piece as it
/// arrives, it reports each part's headers, body bytes and end. Linear in the input, with a
/// bounded buffer (a part's header block may be at most 16 KB), and total over all bytes: any
/// input ends in parts or in ``Malformed``, never in a crash.
///
/// (MultipartKit 4.7's parser traps on a byte above 0x7F in a header name: one request would
/// bring the server down. This one is ours, and fuzzed.)
final class MultipartStream {
    struct Malformed: Error {}

    private enum State {
        case preamble
        case afterDelimiter
        case headers
        case body
        case epilogue
    }

    var onHeader: (String, String) -> Void = { _, _ in }
    var onBody: (inout ByteBuffer) -> Void = { _ in }
    var onPartComplete: () -> Void = {}

    /// `\r\n--boundary`: what ends a part (the first one may come without its CRLF).
    private let delimiter: [UInt8]
    private var state = State.preamble
    private var pending: [UInt8] = []
    static let maxHeaderBlock = 16 * 1024

    /// Whether the closing delimiter (`--boundary--`) has been read.
    var isFinished: Bool { if case .epilogue = state { return true } else { return false } }

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    func execute(_ chunk: ByteBuffer) throws {
        guard !isFinished else { return }
        pending.append(contentsOf: chunk.readableBytesView)
        var progress = true
        while progress { progress = try step() }
    }

    /// Takes one step on what is pending; false when more input is needed.
    private func step() throws -> Bool {
        switch state {
        case .preamble:
            // The body may start with the delimiter without its leading CRLF.
            let bare = delimiter.dropFirst(2)
            if pending.count >= bare.count, pending.starts(with: bare) {
                pending.removeFirst(bare.count)
                state = .afterDelimiter
                return true
            }
            if let found = Self.find(delimiter, in: pending) {
                pending.removeFirst(found + delimiter.count)
                state = .afterDelimiter
                return true
            }
            // Keep only what could still be the start of a delimiter.
            if pending.count > delimiter.count { pending.removeFirst(pending.count - delimiter.count) }
            return false
        case .afterDelimiter:
            // Transport padding (spaces, tabs) may follow a delimiter before its line ends.
            while let first = pending.first, first == 0x20 || first == 0x09 { pending.removeFirst() }
            guard pending.count >= 2 else { return false }
            if pending[0] == 0x2D, pending[1] == 0x2D {
                state = .epilogue
                pending = []
                return false
            }
            guard pending[0] == 0x0D, pending[1] == 0x0A else { throw Malformed() }
            pending.removeFirst(2)
            state = .headers
            return true
        case .headers:
            if pending.starts(with: [0x0D, 0x0A]) {
                // A part with no headers at all.
                pending.removeFirst(2)
                state = .body
                return true
            }
            guard let end = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: pending) else {
                if pending.count > Self.maxHeaderBlock { throw Malformed() }
                return false
            }
            guard end <= Self.maxHeaderBlock else { throw Malformed() }
            for line in pending[..<end].split(separator: 0x0A, omittingEmptySubsequences: true) {
                let text = line.last == 0x0D ? line.dropLast() : line
                guard let colon = text.firstIndex(of: 0x3A) else { throw Malformed() }
                let name = text[text.startIndex..<colon]
                guard !name.isEmpty, name.allSatisfy(Self.isTokenByte) else { throw Malformed() }
                let value = String(decoding: text[(colon + 1)...], as: UTF8.self).trimmingSpaces()
                onHeader(String(decoding: name, as: UTF8.self), value)
            }
            pending.removeFirst(end + 4)
            state = .body
            return true
        case .body:
            if let found = Self.find(delimiter, in: pending) {
                emit(found)
                onPartComplete()
                pending.removeFirst(delimiter.count)
                state = .afterDelimiter
                return true
            }
            // All but what could be the start of a delimiter is body.
            let safe = pending.count - (delimiter.count - 1)
            if safe > 0 { emit(safe) }
            return false
        case .epilogue:
            return false
        }
    }

    private func emit(_ count: Int) {
        guard count > 0 else { return }
        var buffer = ByteBuffer(bytes: pending[..<count])
        pending.removeFirst(count)
        onBody(&buffer)
    }

    /// RFC 9110 token characters: what a header name may hold.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: return true
        default: return false
        }
    }

    /// The first index of `needle` in `haystack`.
    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
