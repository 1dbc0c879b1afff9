import CVips
import Foundation

/// An image could not be read or written; `message` carries libvips' own words.
public struct ImagingError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// libvips, started once per process.
enum Vips {
    private static let started: Bool = {
        guard masthead_vips_init("masthead") == 0 else { return false }
        masthead_vips_configure(Int32(max(1, ProcessInfo.processInfo.activeProcessorCount)))
        masthead_vips_warm_heif()
        return true
    }()

    static func start() throws {
        guard started else { throw ImagingError(message: "libvips could not start: \(lastError())") }
    }

    static func lastError() -> String {
        let message = String(cString: masthead_vips_error()).trimmingCharacters(in: .whitespacesAndNewlines)
        masthead_vips_error_clear()
        return message
    }
}

/// Encodes raw pixels as JPEG.
public enum JPEGEncoder {
    /// A progressive JPEG, without metadata, of `pixels`: 8-bit RGB, row by row, `width × height × 3` bytes.
    public static func encode(rgb pixels: [UInt8], width: Int, height: Int, quality: Int = 82) throws -> Data {
        precondition(pixels.count == width * height * 3, "pixel buffer does not match its size")
        try Vips.start()
        var output: UnsafeMutableRawPointer?
        var length = 0
        let status = pixels.withUnsafeBytes { buffer in
            masthead_vips_rgb_to_jpeg(buffer.baseAddress, buffer.count, Int32(width), Int32(height), Int32(quality), &output, &length)
        }
        guard status == 0, let output else { throw ImagingError(message: "JPEG encoding failed: \(Vips.lastError())") }
        defer { masthead_vips_free(output) }
        return Data(bytes: output, count: length)
    }
}
