import Crypto
import Foundation
import Logging
import MastheadCore
import MastheadImaging
import NIOCore
import NIOPosix
import Synchronization

/// Variants made once and kept: on disk (bounded, least recently used evicted first) and the
/// hottest in memory. Concurrent requests for one variant share one conversion, and no more
/// conversions run at once than there are cores.
public final class ImageVariantCache: Sendable {
    private struct Entry {
        var size: Int
        var lastUsed: UInt64
    }

    private struct State {
        var disk: [String: Entry] = [:]
        var diskBytes = 0
        var memory: [String: ByteBuffer] = [:]
        var memoryBytes = 0
        var clock: UInt64 = 0
        var inFlight: [String: Task<Data, any Error>] = [:]
        var renders = 0
        /// Request addresses (with their Accept header) already checked and resolved, and when.
        var resolved: [String: (format: ImageFormat, key: String, at: ContinuousClock.Instant)] = [:]
        /// Checked sources by path, with the size and time they were checked at, and the cache
        /// keys already worked out for their variants ("variant/format" → key).
        var sources: [String: (size: Int, modified: Date, image: SourceImage, keys: [String: String], checked: ContinuousClock.Instant)] = [:]
    }

    public let directory: String
    public let capacityBytes: Int
    public let memoryCapacityBytes: Int
    private let state = Mutex(State())
    private let logger: Logger

    public init(directory: String, capacityBytes: Int, memoryCapacityBytes: Int = 64 * 1024 * 1024, logger: Logger) {
        self.directory = directory
        self.capacityBytes = capacityBytes
        self.memoryCapacityBytes = memoryCapacityBytes
        self.logger = logger
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        loadIndex()
    }

    /// The checked source at `path` and the cache key of its `variant` in `format`. A file checked
    /// before and unchanged since (same size and time) is not opened again, and its keys are
    /// remembered: a cached variant then costs one `stat` and two dictionary lookups.
    public func source(at path: String, variant: ImageVariant, format: (SourceImage) -> ImageFormat, limits: ImageLimits) async throws -> (SourceImage, ImageFormat, String) {
        // A source looked at within the last second is taken as unchanged without a `stat`.
        let now = ContinuousClock.now
        if let recent = state.withLock({ state -> (SourceImage, ImageFormat, String)? in
            guard let known = state.sources[path], now - known.checked < .seconds(1) else { return nil }
            let chosen = format(known.image)
            return known.keys["\(variant)/\(chosen.rawValue)"].map { (known.image, chosen, $0) }
        }) {
            return recent
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ImageRejection(.missing, "\((path as NSString).lastPathComponent): no such image")
        }
        let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        let size = Int(info.st_size)
        let image: SourceImage
        if let known = state.withLock({ $0.sources[path] }), known.size == size, known.modified == modified {
            image = known.image
            state.withLock { $0.sources[path]?.checked = now }
        } else {
            // Reading the header opens the file and starts libvips: off the shared threads.
            image = try await BlockingWork.run { try SourceImage.inspect(path, limits: limits) }
            state.withLock { state in
                if state.sources.count > 10_000 { state.sources.removeAll() }
                state.sources[path] = (size, modified, image, [:], now)
            }
        }
        let chosen = format(image)
        let name = "\(variant)/\(chosen.rawValue)"
        if let key = state.withLock({ $0.sources[path]?.keys[name] }) { return (image, chosen, key) }
        let key = Self.key(source: image, modified: modified, variant: variant, format: chosen)
        state.withLock { $0.sources[path]?.keys[name] = key }
        return (image, chosen, key)
    }

    /// A request (address and Accept header) answered within the last second: its format and key.
    /// Its signature and source were checked then, so the answer can be reused as it is.
    public func recentlyResolved(_ request: String) -> (format: ImageFormat, key: String)? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.resolved[request], now - entry.at < .seconds(1) else { return nil }
            return (entry.format, entry.key)
        }
    }

    public func rememberResolved(_ request: String, format: ImageFormat, key: String) {
        let now = ContinuousClock.now
        state.withLock { state in
            if state.resolved.count > 10_000 { state.resolved.removeAll() }
            state.resolved[request] = (format, key, now)
        }
    }

    /// The bytes for `key` if they are in memory.
    public func inMemory(_ key: String) -> ByteBuffer? {
        state.withLock { $0.memory[key] }
    }

    /// The cache key of one variant of one version of a source file in one format.
    public static func key(source: SourceImage, modified: Date, variant: ImageVariant, format: ImageFormat) -> String {
        let text = "\(source.path)|\(modified.timeIntervalSince1970)|\(source.byteCount)|\(variant)|\(format.rawValue)"
return SHA256.hash(data: Data(text.utf8)).hexEncoded
    }

    /// The bytes for `key`, from memory, disk, or `render` (run on a thread pool, one per key at a time).
    /// Memory hits share the stored buffer: nothing is copied.
    public func data(for key: String, render: @escaping @Sendable () throws -> EncodedImage) async throws -> ByteBuffer {
        if let buffer = state.withLock({ state -> ByteBuffer? in
            guard let buffer = state.memory[key] else { return nil }
            state.clock += 1
            state.disk[key]?.lastUsed = state.clock
            return buffer
        }) {
            return buffer
        }
        // On disk already: from an earlier run, or rendered by another instance sharing the folder.
        let file = path(for: key)
        if let data = try await BlockingWork.run({ FileManager.default.contents(atPath: file) }) {
            state.withLock { state in
                guard state.disk[key] == nil else { return }
                state.disk[key] = Entry(size: data.count, lastUsed: state.clock)
                state.diskBytes += data.count
            }
            return remember(key, data)
        }
        let (task, isNew) = state.withLock { state -> (Task<Data, any Error>, Bool) in
            if let running = state.inFlight[key] { return (running, false) }
            state.renders += 1
            let task = Task<Data, any Error> { try await BlockingWork.image { try render().data } }
            state.inFlight[key] = task
            return (task, true)
        }
        guard isNew else { return ByteBuffer(data: try await task.value) }
        defer { _ = state.withLock { $0.inFlight.removeValue(forKey: key) } }
        let data = try await task.value
        return store(key, data)
    }

    /// How many variants were rendered (not served from cache) since start.
    public var renderCount: Int { state.withLock { $0.renders } }
    public var diskCount: Int { state.withLock { $0.disk.count } }

    // MARK: Storage

    private func path(for key: String) -> String {
        "\(directory)/\(key.prefix(2))/\(key)"
    }

    @discardableResult
    private func remember(_ key: String, _ data: Data) -> ByteBuffer {
        let buffer = ByteBuffer(data: data)
        state.withLock { state in
            state.clock += 1
            state.disk[key]?.lastUsed = state.clock
            guard data.count <= memoryCapacityBytes / 8 else { return }
            if state.memory[key] == nil {
                state.memory[key] = buffer
                state.memoryBytes += data.count
            }
            if state.memoryBytes > memoryCapacityBytes {
                // Keep the most recently used half.
                let keep = state.memory.keys.sorted { (state.disk[$0]?.lastUsed ?? 0) > (state.disk[$1]?.lastUsed ?? 0) }
                var kept: [String: ByteBuffer] = [:]
                var bytes = 0
                for key in keep where bytes + (state.memory[key]?.readableBytes ?? 0) <= memoryCapacityBytes / 2 {
                    kept[key] = state.memory[key]
                    bytes += state.memory[key]?.readableBytes ?? 0
                }
                state.memory = kept
                state.memoryBytes = bytes
            }
        }
        return buffer
    }

    private func store(_ key: String, _ data: Data) -> ByteBuffer {
        let final = path(for: key)
        let temporary = final + ".\(UUID().uuidString).tmp"
        do {
            try FileManager.default.createDirectory(atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: temporary))
            _ = try? FileManager.default.removeItem(atPath: final)
            try FileManager.default.moveItem(atPath: temporary, toPath: final)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            logger.warning("cannot write an image variant to the cache", metadata: ["masthead.error": "\(error)"])
            return ByteBuffer(data: data)
        }
        let evicted = state.withLock { state -> [String] in
            state.clock += 1
            if let old = state.disk[key] { state.diskBytes -= old.size }
            state.disk[key] = Entry(size: data.count, lastUsed: state.clock)
            state.diskBytes += data.count
            var evicted: [String] = []
            if state.diskBytes > capacityBytes {
                for (oldKey, entry) in state.disk.sorted(by: { $0.value.lastUsed < $1.value.lastUsed }) where state.diskBytes > capacityBytes && oldKey != key {
                    state.disk.removeValue(forKey: oldKey)
                    state.diskBytes -= entry.size
                    if let bytes = state.memory.removeValue(forKey: oldKey) { state.memoryBytes -= bytes.readableBytes }
                    evicted.append(oldKey)
                }
            }
            return evicted
        }
        for old in evicted { try? FileManager.default.removeItem(atPath: path(for: old)) }
        return remember(key, data)
    }

    /// Reads what is on disk from an earlier run, oldest first by modification time.
    private func loadIndex() {
        let manager = FileManager.default
        var found: [(String, Int, Date)] = []
        for file in manager.subpaths(atPath: directory) ?? [] {
            let name = (file as NSString).lastPathComponent
            let full = directory + "/" + file
            if name.hasSuffix(".tmp") {
                // Left by a run that stopped mid-write; a recent one may be another instance's, still being written.
                let modified = (try? manager.attributesOfItem(atPath: full))?[.modificationDate] as? Date ?? .distantPast
                if modified < Date.now.addingTimeInterval(-600) { try? manager.removeItem(atPath: full) }
                continue
            }
            guard name.count == 64, let attributes = try? manager.attributesOfItem(atPath: full),
                (attributes[.type] as? FileAttributeType) == .typeRegular else { continue }
            found.append((name, (attributes[.size] as? NSNumber)?.intValue ?? 0, attributes[.modificationDate] as? Date ?? .distantPast))
        }
        state.withLock { state in
            for (key, size, _) in found.sorted(by: { $0.2 < $1.2 }) {
                state.clock += 1
                state.disk[key] = Entry(size: size, lastUsed: state.clock)
                state.diskBytes += size
            }
        }
    }
}

/// At most `permits` conversions at once; the rest wait their turn in order.
actor ConversionLimiter {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) {
        available = permits
    }

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if available > 0 {
            available -= 1
        } else {
            await withCheckedContinuation { waiters.append($0) }
        }
        defer {
            if waiters.isEmpty { available += 1 } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
