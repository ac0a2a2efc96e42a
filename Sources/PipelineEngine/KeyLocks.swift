import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Exclusive locks on cache keys, across every process that shares a cache: while one
/// computes a key, the others wait and then take its result instead of computing it
/// again.
///
/// The seam for where locks live: lock files in `workspace/locks/` (``FileKeyLocks``),
/// in this process only (``InMemoryKeyLocks``, for the engine's unit tests), and
/// PostgreSQL advisory locks for runners on several machines (``PostgresKeyLocks``). Waiting must stay
/// cancellable: a cancelled wait throws `CancellationError`.
public protocol KeyLocks: Sendable {
    /// Waits until `key` is free, then holds it until the lease is released.
    func acquire(_ key: String) async throws -> KeyLease
    /// Deletes what is left of locks nobody holds (lock files), for `cache gc`.
    func removeIdle() throws(EngineError)
}

/// A held key lock; released once, by ``release()`` or when deallocated.
public final class KeyLease: Sendable {
    private let onRelease: Mutex<(@Sendable () -> Void)?>

    public init(onRelease: @escaping @Sendable () -> Void) {
        self.onRelease = Mutex(onRelease)
    }

    deinit { release() }

    public func release() {
        let action = onRelease.withLock { action in
            defer { action = nil }
            return action
        }
        action?()
    }
}

/// One lock file per key under a folder, held with flock(2).
///
/// The kernel releases a flock when the process dies, so a killed run never leaves a key
/// locked. Waiting polls with a short sleep instead of blocking, so that a waiting stage
/// holds none of the concurrency pool's threads and stays cancellable.
public struct FileKeyLocks: KeyLocks {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func acquire(_ key: String) async throws -> KeyLease {
        let name = key.replacingOccurrences(of: "sha256:", with: "")
        let path = "\(directory)/\(name).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EngineError(.environment,
                "cannot create the lock file \(path): \(String(cString: strerror(errno))); make the workspace writable")
        }
        var delay: UInt64 = 2_000_000
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            do {
                try await Task.sleep(nanoseconds: delay)
            } catch {
                close(fd)
                throw error
            }
            delay = min(delay * 2, 100_000_000)
        }
        return KeyLease {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    public func removeIdle() throws(EngineError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            if !FileManager.default.fileExists(atPath: directory) { return }
            throw EngineError(.environment, "cannot list the lock folder \(directory): \(error.localizedDescription)")
        }
        for name in names where name.hasSuffix(".lock") {
            let path = directory + "/" + name
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }   // removed meanwhile by another gc
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            close(fd)
        }
    }
}

/// Key locks within this process: what the engine's unit tests use.
public final class InMemoryKeyLocks: KeyLocks {
    private let held = Mutex(Set<String>())
    private let taken = Mutex([String]())

    public init() {}

    public func acquire(_ key: String) async throws -> KeyLease {
        while !held.withLock({ $0.insert(key).inserted }) {
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        taken.withLock { $0.append(key) }
        return KeyLease { [self] in _ = held.withLock { $0.remove(key) } }
    }

    public func removeIdle() {}

    /// Whether `key` is held now.
    public func isHeld(_ key: String) -> Bool { held.withLock { $0.contains(key) } }

    /// Every key acquired so far, in order, once per acquisition.
    public var acquired: [String] { taken.withLock { $0 } }
}
