import Crypto
import Foundation
import MastheadCore
import MastheadImaging
import MastheadStorage
import Synchronization

/// The pictures an import brings: each file checked as uploads are, its metadata removed, staged
/// once (however many articles show it) under its media path, and listed for the media library.
final class ImportImages: Sendable {
    /// A picture staged for the import.
    struct Stored: Sendable {
        /// Its path in the media folder, e.g. `wp/2013/01/harbour.jpg`.
        var path: String
        var known: BodyImages.Known
        var media: NewMedia
    }

    let staged: StagedMedia
    let limits: ImageLimits
    private let stored = Mutex<[String: Stored]>([:])

    init(mediaDirectory: String, limits: ImageLimits) throws {
        staged = try StagedMedia(mediaDirectory: mediaDirectory)
        self.limits = limits
    }

    /// How many picture files the import copies into the media folder (new or changed ones).
    var copied: Int { staged.files.count }

    /// Every picture staged so far, for the media library.
    var media: [NewMedia] { stored.withLock { $0.values.map(\.media).sorted { $0.path < $1.path } } }

    /// Checks the image file at `file`, and stages it at `mediaPath` (its extension set by its
    /// format). Throws ``ImageRejection`` when it is not an image the site can show.
    func stage(file: String, as mediaPath: String, checkExtension: Bool) throws -> Stored {
        if let known = stored.withLock({ $0[file] }) { return known }
        let image = try SourceImage.inspect(file, limits: limits, checkExtension: checkExtension)
        let placeholder = try ImageRenderer.placeholder(image)
        // The copy is public under /media/: it goes there without the photo's metadata (GPS
        // position, camera, times, comments), as uploads do.
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ImageRejection(.missing, "cannot be read: \(error.localizedDescription)")
        }
        let cleaned = try ImageRenderer.publishable(data)
        var path = (mediaPath as NSString).deletingPathExtension + "." + cleaned.format.fileExtension
        // Another file of the import took that path already: this one's gets a mark of its own.
        if stored.withLock({ $0.values.contains { $0.path == path } }) {
            let mark = SHA256.hash(data: Data(file.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
            path = (mediaPath as NSString).deletingPathExtension + "-" + mark + "." + cleaned.format.fileExtension
        }
        // Imported before, unchanged: the file in place stays as it is.
        if FileManager.default.contents(atPath: staged.mediaDirectory + "/" + path) != cleaned.data {
            try staged.stage(cleaned.data, as: path)
        }
        // A photo turned upright has its sides swapped.
        let result = Stored(
            path: path, known: BodyImages.Known(width: cleaned.width, height: cleaned.height, placeholder: placeholder),
            media: NewMedia(
                path: path, originalName: (file as NSString).lastPathComponent, format: cleaned.format.rawValue, width: cleaned.width,
                height: cleaned.height, bytes: cleaned.data.count, alt: "", caption: "", credit: "", placeholder: placeholder))
        stored.withLock { $0[file] = result }
        return result
    }

    /// Records the pictures and the staged files in the import's transaction.
    func record(in importer: ArticleImport) async throws {
        try await importer.recordMedia(media)
        try await importer.recordStagedMedia(staged.files)
    }
}

/// Image files an import writes into the media folder's hidden `.staging/` folder and moves into
/// place once the import has committed. The import's transaction lists them (`staged_media`), so
/// after a crash `recover` tells a committed import's files (moved into place) from an unfinished
/// one's (removed). Imports hold a shared lock on `.staging/.lock` while they stage; recovery runs
/// only when it can take that lock alone, so it never removes the files of an import in progress.
final class StagedMedia: Sendable {
    static let folder = ".staging"
    let mediaDirectory: String
    /// Staged from several files at once (an import reads on all cores).
    private let staging = Mutex<[(temporary: String, final: String)]>([])
    private var staged: [(temporary: String, final: String)] { staging.withLock { $0 } }
    private let lock: FileLock

    init(mediaDirectory: String) throws {
        self.mediaDirectory = mediaDirectory
        lock = try FileLock(path: Self.lockPath(in: mediaDirectory))
        lock.lock(exclusive: false)
    }

    deinit { lock.close() }

    /// The paths to record with the import, relative to the media folder.
    var files: [(temporary: String, final: String)] { staged }

    func stage(_ data: Data, as relative: String) throws {
        guard !staged.contains(where: { $0.final == relative }) else { return }
        let temporary = Self.folder + "/" + UUID().uuidString.lowercased() + ".importing"
        do {
            try data.write(to: URL(fileURLWithPath: mediaDirectory + "/" + temporary))
        } catch {
            throw MastheadError.storageFault(error)
                ?? MastheadError(.storage, "cannot write \(relative) into the media folder: \(error.localizedDescription)")
        }
        staging.withLock { $0.append((temporary, relative)) }
    }

    /// Moves the files into place (the import has committed) and forgets them.
    func commit(store: Store) async throws {
        let files = staged
        for file in files { try Self.move(file, in: mediaDirectory) }
        try await store.forgetStagedMedia(files.map(\.temporary))
        staging.withLock { $0 = [] }
    }

    func discard() {
        for file in staged { try? FileManager.default.removeItem(atPath: mediaDirectory + "/" + file.temporary) }
        staging.withLock { $0 = [] }
    }

    /// Finishes what a killed import left: files of committed imports are moved into place, files
    /// of imports that never committed are removed. Does nothing while an import is staging.
    /// Returns how many files were moved and removed.
    @discardableResult
    static func recover(store: Store, mediaDirectory: String) async throws -> (moved: Int, removed: Int) {
        // A media folder that cannot be written (a read-only disk) has nothing to recover.
        guard let lock = try? FileLock(path: lockPath(in: mediaDirectory)) else { return (0, 0) }
        defer { lock.close() }
        guard lock.tryLock() else { return (0, 0) }
        let listed = try await store.stagedMedia()
        var moved = 0
        for file in listed where FileManager.default.fileExists(atPath: mediaDirectory + "/" + file.temporary) {
            try move(file, in: mediaDirectory)
            moved += 1
        }
        try await store.forgetStagedMedia(listed.map(\.temporary))
        var removed = 0
        let staging = mediaDirectory + "/" + folder
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] where name.hasSuffix(".importing") {
            try? FileManager.default.removeItem(atPath: staging + "/" + name)
            removed += 1
        }
        return (moved, removed)
    }

    private static func lockPath(in mediaDirectory: String) throws -> String {
        let staging = mediaDirectory + "/" + folder
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw MastheadError(.storage, "cannot create \(staging) (is the disk full or read-only?): \(error.localizedDescription)")
        }
        return staging + "/.lock"
    }

    private static func move(_ file: (temporary: String, final: String), in mediaDirectory: String) throws {
        let manager = FileManager.default
        let final = mediaDirectory + "/" + file.final
        try manager.createDirectory(atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // rename(2) replaces an older file of the same name in one step.
        guard rename(mediaDirectory + "/" + file.temporary, final) == 0 else {
            throw MastheadError(.storage, "cannot move an imported image to \(final): \(String(cString: strerror(errno)))")
        }
    }
}

/// An advisory lock on a file (flock): shared or exclusive, released when closed or when the process ends.
final class FileLock: Sendable {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw MastheadError(.storage, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Waits for the lock.
    func lock(exclusive: Bool) {
        while flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0 && errno == EINTR {}
    }

    /// Takes the lock alone if no one holds it; false otherwise.
    func tryLock() -> Bool {
        flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    func close() {
        _ = Foundation.close(descriptor)
    }
}
