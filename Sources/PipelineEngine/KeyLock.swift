import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive file lock on one cache key, across processes.
///
/// flock(2) is released by the kernel when the process dies, so a killed run never
/// leaves a key locked. Waiting polls with a short sleep instead of blocking, so that a
/// waiting stage holds none of the concurrency pool's threads and stays cancellable.
final class KeyLock: Sendable {
    let fd: Int32

    private init(fd: Int32) {
        self.fd = fd
    }

    static func acquire(key: String, in directory: String) async throws -> KeyLock {
        let name = key.replacingOccurrences(of: "sha256:", with: "")
        let path = "\(directory)/\(name).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
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
        return KeyLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
