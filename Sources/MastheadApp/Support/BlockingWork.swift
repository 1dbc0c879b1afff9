import Foundation
import HTTPTypes
import NIOPosix

/// Work that holds a thread while it runs — decoding and encoding images with libvips, reading
/// or writing whole files, key derivations — runs here: on NIO's blocking-work threads, never on
/// the event loops or the Swift concurrency pool that every reader's request shares.
///
/// Image work also passes through one limiter for the whole process (one conversion per core at
/// a time, the rest wait in order), whichever door it came in by: page images, uploads, imports
/// or tip attachments.
public enum BlockingWork {
    /// The process's image conversions: at most one per core at once.
    static let images = ConversionLimiter(permits: max(1, ProcessInfo.processInfo.activeProcessorCount))
    /// Threads of their own for image work, so a burst of conversions never queues other blocking work.
    static let imageThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, ProcessInfo.processInfo.activeProcessorCount))
        pool.start()
        return pool
    }()

    /// Runs image work (libvips) on the image threads, within the image limiter.
    public static func image<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await images.run { try await imageThreads.runIfActive(body) }
    }

    /// Runs other blocking work (file I/O, hashing) on the blocking-work threads.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}

extension HTTPResponse.Status {
    /// 507: the server cannot store what it was sent (its disk is full or read-only).
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
}
