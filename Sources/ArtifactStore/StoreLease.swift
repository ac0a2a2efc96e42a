#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A shared hold on the store that keeps garbage collection from running.
///
/// It is an open descriptor of the store's lock file with a shared `flock`, so
/// the kernel drops it when the process dies, however it dies: a crashed run
/// never blocks `mlpipe cache gc` forever. Release it when the run ends; it is
/// also released when the lease is deallocated.
public final class StoreLease: Sendable {
    private let descriptor: LockedDescriptor

    init(descriptor: Int32) {
        self.descriptor = LockedDescriptor(descriptor)
    }

    deinit {
        descriptor.close()
    }

    /// Gives the lease up. Calling it again does nothing.
    public func release() {
        descriptor.close()
    }

    /// Whether ``release()`` has run.
    public var isReleased: Bool { descriptor.isClosed }
}

/// A file descriptor closed at most once, from any thread.
final class LockedDescriptor: @unchecked Sendable {
    // Safe: `value` is only read or written while `lock` is held.
    private let lock = NSLock()
    private var value: Int32

    init(_ value: Int32) {
        self.value = value
    }

    var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value < 0
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if value >= 0 {
            #if canImport(Glibc)
            _ = Glibc.close(value)
            #else
            _ = Darwin.close(value)
            #endif
            value = -1
        }
    }
}
