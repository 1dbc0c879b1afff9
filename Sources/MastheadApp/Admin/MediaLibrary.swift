import Foundation
import MastheadCore
import MastheadForms
import MastheadImaging
import MastheadStorage

/// Stores uploaded images: checked from their bytes (never from their name or declared type)
/// against the site's limits, decoded once to prove they are whole, then filed under
/// `uploads/YYYY/MM/` in the media folder and recorded in the library. Nothing is left behind
/// when any step fails.
public struct MediaLibrary: Sendable {
    let store: Store
    let mediaDirectory: String
    let limits: ImageLimits

    public init(store: Store, mediaDirectory: String, limits: ImageLimits) {
        self.store = store
        self.mediaDirectory = mediaDirectory
        self.limits = limits
    }

    public func upload(_ data: Data, filename: String, alt: String, caption: String, credit: String, by user: User, now: Date = .now) async throws -> MediaItem {
        try await upload(UploadedFile(filename: filename, contentType: "", data: data), alt: alt, caption: caption, credit: credit, by: user, now: now)
    }

    /// Checks, cleans and files an uploaded image, then records it in the library. The work runs
    /// on the blocking-work threads within the image limiter, so uploads never stall readers.
    public func upload(_ file: UploadedFile, alt: String, caption: String, credit: String, by user: User, now: Date = .now) async throws -> MediaItem {
        let limits = self.limits
        let mediaDirectory = self.mediaDirectory
        guard file.size > 0 else {
            throw MastheadError(.invalidInput, "the file is empty", location: .init(field: "file"))
        }
        guard file.size <= limits.maxBytes else {
            throw MastheadError(
                .invalidInput, "the file is \(Self.megabytes(file.size)); images may be at most \(Self.megabytes(limits.maxBytes))",
                location: .init(field: "file"))
        }
        let filed = try await BlockingWork.image { try Self.file(file, into: mediaDirectory, limits: limits, now: now) }
        do {
            return try await store.addMedia(
                NewMedia(
                    path: filed.relative, originalName: String(filed.filename.prefix(200)), format: filed.image.format.rawValue,
                    width: filed.image.width, height: filed.image.height, bytes: filed.image.byteCount, alt: alt, caption: caption,
                    credit: credit, placeholder: filed.placeholder),
                uploadedBy: user.id, now: now)
        } catch {
            try? FileManager.default.removeItem(atPath: mediaDirectory + "/" + filed.relative)
            throw error
        }
    }

    /// Judges the file by its bytes, removes its metadata, and moves it to `uploads/YYYY/MM/`.
    private static func file(
        _ file: UploadedFile, into mediaDirectory: String, limits: ImageLimits, now: Date
    ) throws -> (relative: String, filename: String, image: SourceImage, placeholder: String) {
        let data = try file.contents()
        guard let sniffed = ImageFormat.sniff(data.prefix(64)) else {
            throw MastheadError(
                .invalidInput, "“\(file.filename)” is not a JPEG, PNG, WebP, AVIF or GIF image (judged from its contents, not its name)",
                location: .init(field: "file"))
        }
        let filename = file.filename.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "image." + sniffed.fileExtension : file.filename
        // Originals are public under /media/: every metadata block (GPS position, camera, times,
        // comments) goes before the file is kept. Only headers within the limits are decoded.
        guard let header = ImageRenderer.header(of: data), header.width * header.height <= limits.maxPixels,
              max(header.width, header.height) <= limits.maxDimension else {
            throw MastheadError(.invalidInput, "“\(filename)” refused: it is too large or cannot be read", location: .init(field: "file"))
        }
        let cleaned: EncodedImage
        do {
            cleaned = try ImageRenderer.publishable(data)
        } catch let rejection as ImageRejection {
            throw MastheadError(.invalidInput, "“\(filename)” refused: \(rejection.message)", location: .init(field: "file"))
        }
        let manager = FileManager.default
        let incoming = mediaDirectory + "/.incoming"
        try manager.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        let temporary = incoming + "/" + UUID().uuidString + "." + cleaned.format.fileExtension
        guard manager.createFile(atPath: temporary, contents: cleaned.data) else {
            throw MastheadError(.storage, "cannot write into the media folder \(mediaDirectory) (is the disk full?)")
        }
        do {
            let image: SourceImage
            let placeholder: String
            do {
                image = try SourceImage.inspect(temporary, limits: limits)
                placeholder = try ImageRenderer.placeholder(image)
            } catch let rejection as ImageRejection {
                throw MastheadError(.invalidInput, "“\(filename)” refused: \(rejection.message)", location: .init(field: "file"))
            }
            let calendar = Calendar(identifier: .gregorian)
            let parts = calendar.dateComponents(in: TimeZone(identifier: "UTC")!, from: now)
            let base = Slug.make(from: (filename as NSString).deletingPathExtension, maxLength: 60)
            let relative = String(format: "uploads/%04d/%02d/", parts.year ?? 2000, parts.month ?? 1)
                + (base.isEmpty ? "image" : base) + "-" + SecretToken.make(bytes: 4).lowercased().filter { $0.isLetter || $0.isNumber }
                + "." + cleaned.format.fileExtension
            let destination = mediaDirectory + "/" + relative
            try manager.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try manager.moveItem(atPath: temporary, toPath: destination)
            var stored = image
            stored.path = destination
            return (relative, filename, stored, placeholder)
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Deletes a library item and its file (refused while an article features it).
    func delete(id: Int64) async throws {
        let path = try await store.deleteMedia(id: id)
        try? FileManager.default.removeItem(atPath: mediaDirectory + "/" + path)
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}
