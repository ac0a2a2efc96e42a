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
///
/// A store that is not a local folder gives a lease whose release runs its own code
/// (``init(onRelease:)``); either way a lease is released at most once.
public final class StoreLease: Sendable {
    private let descriptor: LockedDescriptor
    private let onRelease: (@Sendable () -> Void)?

    init(descriptor: Int32) {
        self.descriptor = LockedDescriptor(descriptor)
        self.onRelease = nil
    }

    /// A lease that calls `onRelease` once, when released or deallocated.
    public init(onRelease: @escaping @Sendable () -> Void) {
        self.descriptor = LockedDescriptor(0)
        self.onRelease = onRelease
    }

    deinit {
        release()
    }

    /// Gives the lease up. Calling it again does nothing.
    public func release() {
        if let onRelease {
            if descriptor.markClosed() { onRelease() }
        } else {
            descriptor.close()
        }
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

    /// Marks the value closed without closing a descriptor; true the first time.
    func markClosed() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard value >= 0 else { return false }
        value = -1
        return true
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
