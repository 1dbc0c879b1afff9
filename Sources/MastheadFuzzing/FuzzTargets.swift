import Foundation
import MastheadCore
import MastheadForms
import MastheadImaging
import NIOCore

/// The parsers that read what strangers send, each as a fuzz target: given any bytes, it must
/// return (accepting or refusing them) — never crash, hang or grow without bound. Used by the
/// libFuzzer driver (`make fuzz`) and by a seeded random run in the test suite.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A Markdown file with front matter, rendered with every raw-HTML policy, and HTML sanitising.
    case markdown
    /// The Content API's `filter` language.
    case filter
    /// The consent cookie.
    case consent
    /// Form bodies: URL-encoded and multipart (boundary taken from the first line).
    case form
    /// Image bytes: format sniffing, header reading, metadata removal.
    case image

    /// Runs the target on one input.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .markdown:
            let text = String(decoding: bytes, as: UTF8.self)
            if let source = try? ArticleSource.parse(text, file: "fuzz.md", timeZone: TimeZone(identifier: "UTC")!) {
                _ = source.slug
            }
            for policy in [MarkdownRenderer.RawHTML.escaped, .sanitized, .trusted] {
                _ = MarkdownRenderer(rawHTML: policy).html(from: text)
            }
            let clean = HTMLSanitizer.sanitize(text)
            // What the sanitiser keeps is itself clean: a second pass changes nothing.
            precondition(HTMLSanitizer.sanitize(clean) == clean, "sanitising is not stable for \(bytes)")
        case .filter:
            _ = try? ContentFilter.parse(String(decoding: bytes, as: UTF8.self), timeZone: TimeZone(identifier: "UTC")!)
        case .consent:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = ConsentState.parse(text)
            _ = ConsentState(cookie: text, globalPrivacyControl: nil, doNotTrack: nil, policy: ConsentPolicy())
        case .form:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = FormData(urlEncoded: text)
            let lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false)
            let boundary = String(decoding: lines[0].prefix(70), as: UTF8.self)
            guard !boundary.isEmpty, lines.count == 2 else { return }
            let reader = MultipartReader(boundary: boundary, limits: FormLimits(bodyBytes: 1_048_576, fieldBytes: 65_536))
            // Fed in two pieces, as a network would.
            let body = lines[1]
            let cut = body.count / 2
            do {
                try reader.consume(ByteBuffer(bytes: body.prefix(cut)))
                try reader.consume(ByteBuffer(bytes: body.dropFirst(cut)))
                _ = try reader.form()
            } catch {
                reader.discard()
            }
        case .image:
            let data = Data(bytes)
            _ = ImageFormat.sniff(bytes.prefix(64))
            if let stripped = try? MetadataStripper.stripped(data) {
                // Stripping what was stripped changes nothing.
                precondition((try? MetadataStripper.stripped(stripped)) == stripped, "stripping is not stable")
            }
            if bytes.count < 65_536 { _ = ImageRenderer.header(of: data) }
        }
    }

    /// Inputs to start from: what the target reads when used as meant.
    public var seeds: [[UInt8]] {
        let texts: [String]
        switch self {
        case .markdown:
            texts = [
                "---\ntitle: Harbour strike ends\nsection: World\ntags: [Labour, Shipping]\ndate: 2026-11-26T17:05:00+01:00\n---\nCargo *moved* again.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
                "---\ntitle: \"Quoted: yes\"\nauthors:\n  - A\n  - B\nimage: x.jpg\n---\n# Head\n\n<figure><img src=\"a.jpg\" alt=\"x\"><figcaption>Cap</figcaption></figure>\n\n<script>alert(1)</script><a href=\"javascript:x\">l</a>[^1]\n\n[^1]: Note.\n",
                "<p onclick=\"x\">Hi <b>there</b> &amp; &#x41; &#65; &bogus; <!-- c --> <form><input form=\"y\"></form></p>",
            ]
        case .filter:
            texts = ["tag:china", "tags:[china,ukraine]+author:jane", "(tag:a,tag:b)+published_at:>'2026-01-01'", "primary_tag:-x,featured:true", "id:12"]
        case .consent:
            texts = ["v1.1764000000.none.AbCdEfGh12", "v2.1764000000.analytics-media.abcdefgh_-1", "v1.1.media.x"]
        case .form:
            texts = [
                "a=1&b=%C3%A9+x&c&&=d",
                "XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\u{FF}\u{D8}\u{FF}data\r\n--XyZ--\r\n",
            ]
        case .image:
            return [
                [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10] + Array("Exif\0\0MM\0*\0\0\0\u{8}".utf8) + [0xFF, 0xFE, 0x00, 0x04, 0x41, 0x42, 0xFF, 0xDA, 0x00, 0x02, 0x01, 0x02, 0xFF, 0xD9],
                [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE, 0, 0, 0, 4] + Array("tEXtabcd".utf8) + [0, 0, 0, 0, 0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82],
                Array("RIFF".utf8) + [30, 0, 0, 0] + Array("WEBPVP8X".utf8) + [10, 0, 0, 0, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0] + Array("EXIF".utf8) + [2, 0, 0, 0, 1, 2],
                Array("GIF89a".utf8) + [1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x21, 0xFE, 3, 0x61, 0x62, 0x63, 0, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3B],
            ]
        }
        return texts.map { Array($0.utf8) }
    }
}

/// A repeatable stream of mutated inputs (byte flips, insertions, deletions, duplications and
/// splices of the seeds): the fuzzing that runs everywhere, without libFuzzer.
public struct SeededMutator: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    }

    /// The next number of the xorshift stream.
    public mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    private mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }

    /// One mutation of `input`, spliced now and then with `others`.
    public mutating func mutate(_ input: [UInt8], splicingWith others: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            switch below(7) {
            case 0 where !bytes.isEmpty: bytes[below(bytes.count)] ^= UInt8(1 << below(8))
            case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: below(bytes.count + 1))
            case 2 where !bytes.isEmpty: bytes.remove(at: below(bytes.count))
            case 3 where !bytes.isEmpty:
                let start = below(bytes.count)
                let slice = bytes[start..<min(bytes.count, start + 1 + below(16))]
                bytes.insert(contentsOf: Array(repeating: Array(slice), count: 1 + below(8)).joined(), at: below(bytes.count + 1))
            case 4 where !others.isEmpty:
                let other = others[below(others.count)]
                let cut = below(bytes.count + 1)
                bytes = Array(bytes.prefix(cut)) + other.suffix(max(0, other.count - below(other.count + 1)))
            case 5: bytes.insert(contentsOf: Array(["(", "[", "<", "\"", "'", "&", "%", "\\", "-", "\r\n"].randomElement(using: &self)!.utf8), at: below(bytes.count + 1))
            default: if !bytes.isEmpty { bytes[below(bytes.count)] = [0, 0xFF, 0x7F, 0x80, 0x0A, 0x3A, 0x2C][below(7)] }
            }
        }
        return Array(bytes.prefix(16_384))
    }
}

extension SeededMutator: RandomNumberGenerator {}
