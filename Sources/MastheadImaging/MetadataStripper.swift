import Foundation

/// Removes metadata from encoded images without decoding them: the picture's own bytes stay as
/// they are (no generation loss), every block that can describe where, when, how or by whom it was
/// taken goes — EXIF (with its GPS position), XMP, IPTC, comments, text chunks, maker notes, and
/// anything appended after the picture ends (such as the second image of an MPF "multi-picture"
/// JPEG, which carries its own EXIF).
///
/// Colour information stays (ICC profiles, sRGB, gamma), as does what animation needs.
/// Every public copy of an image goes through ``ImageRenderer/publishable(_:)``, which uses this
/// and falls back to re-encoding where bytes alone cannot do (a JPEG that must be turned upright,
/// AVIF).
public enum MetadataStripper {
    /// The image in `data` without its metadata, or nil when it cannot be cleaned losslessly:
    /// an AVIF file, or a JPEG whose EXIF orientation asks for a rotation (dropping that tag would
    /// show the picture on its side). Throws when the bytes are not a well-formed image of their kind.
    public static func stripped(_ data: Data) throws -> Data? {
        let bytes = [UInt8](data)
        switch ImageFormat.sniff(bytes.prefix(64)) {
        case .jpeg: return try jpeg(bytes).map { Data($0) }
        case .png: return Data(try png(bytes))
        case .webp: return Data(try webp(bytes))
        case .gif: return Data(try gif(bytes))
        case .avif, nil: return nil
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: JPEG

    /// Keeps SOI, tables, frames, scans and EOI; keeps APP0 only as JFIF, APP2 only as an ICC
    /// profile and APP14 (Adobe: how to read the colours); drops every other APPn and COM, and
    /// whatever follows EOI.
    static func jpeg(_ bytes: [UInt8]) throws -> [UInt8]? {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw Malformed(description: "not a JPEG") }
        var output: [UInt8] = [0xFF, 0xD8]
        output.reserveCapacity(bytes.count)
        var position = 2
        while position < bytes.count {
            guard bytes[position] == 0xFF else { throw Malformed(description: "JPEG segment expected at byte \(position)") }
            while position + 1 < bytes.count, bytes[position + 1] == 0xFF { position += 1 }
            guard position + 1 < bytes.count else { break }
            let marker = bytes[position + 1]
            if marker == 0xD9 {
                output += [0xFF, 0xD9]
                return output
            }
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                output += [0xFF, marker]
                position += 2
                continue
            }
            guard position + 4 <= bytes.count else { throw Malformed(description: "JPEG cut short") }
            let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let end = position + 2 + length
            guard length >= 2, end <= bytes.count else { throw Malformed(description: "JPEG segment runs past the end") }
            let payload = bytes[(position + 4)..<end]
            if marker == 0xE1, orientation(exif: payload) > 1 { return nil }
            if keepsJPEGSegment(marker: marker, payload: payload) { output += bytes[position..<end] }
            position = end
            if marker == 0xDA {
                // Entropy-coded data runs to the next marker that is not a stuffed 0x00 or a restart.
                var scan = position
                while scan + 1 < bytes.count {
                    if bytes[scan] == 0xFF, bytes[scan + 1] != 0x00, !(0xD0...0xD7).contains(bytes[scan + 1]) { break }
                    scan += 1
                }
                guard scan + 1 < bytes.count else { throw Malformed(description: "JPEG scan has no end") }
                output += bytes[position..<scan]
                position = scan
            }
        }
        throw Malformed(description: "JPEG has no end marker")
    }

    private static func keepsJPEGSegment(marker: UInt8, payload: ArraySlice<UInt8>) -> Bool {
        switch marker {
        case 0xE0: return payload.starts(with: Array("JFIF\0".utf8))
        case 0xE2: return payload.starts(with: Array("ICC_PROFILE\0".utf8))
        case 0xEE: return payload.starts(with: Array("Adobe".utf8))
        case 0xE1...0xEF, 0xFE: return false
        default: return true
        }
    }

    /// The EXIF orientation (1–8) in an APP1 payload; 1 when there is none or it cannot be read.
    static func orientation(exif payload: ArraySlice<UInt8>) -> Int {
        let header = Array("Exif\0\0".utf8)
        guard payload.starts(with: header) else { return 1 }
        let tiff = Array(payload.dropFirst(header.count))
        guard tiff.count >= 8 else { return 1 }
        let little = tiff[0] == 0x49 && tiff[1] == 0x49
        guard little || (tiff[0] == 0x4D && tiff[1] == 0x4D) else { return 1 }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let high = u16(little ? at + 2 : at), let low = u16(little ? at : at + 2) else { return nil }
            return high << 16 | low
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return 1 }
        for entry in 0..<min(count, 512) {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return 1 }
            if tag == 0x0112, let value = u16(at + 8), (1...8).contains(value) { return value }
        }
        return 1
    }

    // MARK: PNG

    /// Chunks that draw the picture or say how its colours look; everything else (tEXt, zTXt,
    /// iTXt, eXIf, tIME and unknown chunks) is dropped.
    private static let pngChunksKept: Set<String> = [
        "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "hIST", "pHYs", "cICP",
        "acTL", "fcTL", "fdAT",
    ]

    static func png(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= 8 else { throw Malformed(description: "not a PNG") }
        var output = Array(bytes[0..<8])
        var position = 8
        while position + 12 <= bytes.count {
            let length = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
            let end = position + 12 + length
            guard length >= 0, end <= bytes.count else { throw Malformed(description: "PNG chunk runs past the end") }
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            if pngChunksKept.contains(type) { output += bytes[position..<end] }
            position = end
            if type == "IEND" { return output }
        }
        throw Malformed(description: "PNG has no IEND chunk")
    }

    // MARK: WebP

    private static let webpChunksKept: Set<String> = ["VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF", "ICCP"]

    static func webp(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= 12 else { throw Malformed(description: "not a WebP image") }
        var body: [UInt8] = Array("WEBP".utf8)
        var position = 12
        while position + 8 <= bytes.count {
            let type = String(decoding: bytes[position..<(position + 4)], as: UTF8.self)
            let size = Int(bytes[position + 4]) | Int(bytes[position + 5]) << 8 | Int(bytes[position + 6]) << 16 | Int(bytes[position + 7]) << 24
            let end = position + 8 + size + (size & 1)
            guard end <= bytes.count || position + 8 + size == bytes.count else { throw Malformed(description: "WebP chunk runs past the end") }
            let chunkEnd = min(end, bytes.count)
            if webpChunksKept.contains(type) {
                var chunk = Array(bytes[position..<chunkEnd])
                // VP8X's flags announce EXIF (0x08) and XMP (0x04) chunks that are no longer there.
                if type == "VP8X", chunk.count > 8 { chunk[8] &= ~UInt8(0x0C) }
                if chunk.count < 8 + size + (size & 1) { chunk.append(0) }
                body += chunk
            }
            position = end
        }
        let size = UInt32(body.count)
        return Array("RIFF".utf8) + [UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24)] + body
    }

    // MARK: GIF

    /// Keeps the picture, its palettes, frame timing and the looping extension; drops comments and
    /// every other application extension (XMP among them), and anything after the trailer.
    static func gif(_ bytes: [UInt8]) throws -> [UInt8] {
        guard bytes.count >= 13 else { throw Malformed(description: "not a GIF") }
        func table(_ flags: UInt8) -> Int { flags & 0x80 != 0 ? 3 << (Int(flags & 0x07) + 1) : 0 }
        var position = 13 + table(bytes[10])
        guard position <= bytes.count else { throw Malformed(description: "GIF cut short") }
        var output = Array(bytes[0..<position])
        /// The end of the data sub-blocks starting at `start`.
        func subBlocksEnd(_ start: Int) throws -> Int {
            var at = start
            while at < bytes.count {
                let size = Int(bytes[at])
                at += 1
                if size == 0 { return at }
                at += size
            }
            throw Malformed(description: "GIF data runs past the end")
        }
        while position < bytes.count {
            switch bytes[position] {
            case 0x3B:
                output.append(0x3B)
                return output
            case 0x21:
                guard position + 2 < bytes.count else { throw Malformed(description: "GIF cut short") }
                let label = bytes[position + 1]
                let end = try subBlocksEnd(position + 2)
                var keep = label == 0xF9 || label == 0x01
                if label == 0xFF, position + 14 <= bytes.count {
                    let application = String(decoding: bytes[(position + 3)..<(position + 14)], as: UTF8.self)
                    keep = application == "NETSCAPE2.0" || application == "ANIMEXTS1.0"
                }
                if keep { output += bytes[position..<end] }
                position = end
            case 0x2C:
                guard position + 10 < bytes.count else { throw Malformed(description: "GIF cut short") }
                let start = position
                position += 10 + table(bytes[position + 9])
                guard position < bytes.count else { throw Malformed(description: "GIF cut short") }
                let end = try subBlocksEnd(position + 1)
                output += bytes[start..<end]
                position = end
            default:
                throw Malformed(description: "unknown GIF block at byte \(position)")
            }
        }
        // A GIF without its trailer still shows in browsers; end it properly.
        output.append(0x3B)
        return output
    }
}

extension ImageRenderer {
    /// The image as it may be made public: without metadata, upright, in its own format. Cleaned
    /// losslessly where the bytes allow it; re-encoded at high quality otherwise (a JPEG that
    /// must be turned upright, AVIF). Works in memory.
    public static func publishable(_ data: Data) throws -> EncodedImage {
        guard let format = ImageFormat.sniff(data.prefix(64)) else {
            throw ImageRejection(.unsupportedType, "not a JPEG, PNG, WebP, AVIF or GIF image")
        }
        let cleaned: Data?
        do {
            cleaned = try MetadataStripper.stripped(data)
        } catch {
            throw ImageRejection(.damaged, "the image is damaged or truncated: \(error)")
        }
        guard let cleaned else { return try withoutMetadata(data) }
        guard let header = header(of: cleaned) else {
            throw ImageRejection(.damaged, "the image is damaged or truncated")
        }
        return EncodedImage(data: cleaned, format: format, width: header.width, height: header.height)
    }
}
