import CSpawn
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs each process on this machine, in its own session and process group.
///
/// The process gets stdin from /dev/null and one pipe for stdout and stderr, so that
/// the log keeps their order. A dedicated thread (not one of the concurrency pool's few
/// threads) waits on the pipe and the process; cancellation and timeouts signal the whole
/// group: SIGTERM, then SIGKILL after the grace period. When the main process exits,
/// whatever it left running in its group is ended too, as CI runners do.
public struct LocalProcessExecutor: Executor {
    public init() {}

    public func execute(_ spec: ProcessSpec, log: LogSink) async throws -> ProcessOutcome {
        let control = ProcessControl()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutcome, Error>) in
                // A thread of its own, not a dispatch worker: dispatch adds workers
                // beyond the core count only after they have been blocked a while, which
                // started the stages of --jobs 8 on 2 cores a second apart.
                let thread = Thread {
                    do {
                        continuation.resume(returning: try Self.runBlocking(spec, log: log, control: control))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.stackSize = 512 * 1024
                thread.start()
            }
        } onCancel: {
            control.cancel()
        }
    }

    /// Shared between the waiting thread and the cancellation handler.
    final class ProcessControl: Sendable {
        let cancelled = Atomic<Bool>(false)
        func cancel() { cancelled.store(true, ordering: .sequentiallyConsistent) }
        var isCancelled: Bool { cancelled.load(ordering: .sequentiallyConsistent) }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var command: String
        var errno: Int32
        var description: String { "cannot start /bin/sh: \(String(cString: strerror(errno)))" }
    }

    static func runBlocking(_ spec: ProcessSpec, log: LogSink, control: ProcessControl) throws -> ProcessOutcome {
        if control.isCancelled { return .cancelled }
        var fds: [Int32] = [-1, -1]
        guard mlpipe_pipe_cloexec(&fds) == 0 else { throw SpawnError(command: spec.command, errno: errno) }
        let readEnd = fds[0], writeEnd = fds[1]

        let argv = ["/bin/sh", "-c", spec.command]
        // The order of environ does not matter to a process; sorting it cost more than
        // the rest of starting a trivial stage.
        let envp = spec.environment.map { $0.key + "=" + $0.value }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { argvPtr in
            withCStrings(envp) { envPtr in
                mlpipe_spawn("/bin/sh", argvPtr, envPtr, spec.workingDirectory, writeEnd, &pid)
            }
        }
        close(writeEnd)
        guard rc == 0 else {
            close(readEnd)
            throw SpawnError(command: spec.command, errno: rc)
        }
        defer { close(readEnd) }

        let start = ContinuousClock.now
        let deadline = spec.timeout.map { start + .milliseconds(Int64($0 * 1000)) }
        var termSentAt: ContinuousClock.Instant?
        var endReason: ProcessOutcome?
        var status: Int32 = 0
        var exited = false
        var pipeOpen = true
        // Once the pipe is closed the process is usually gone within microseconds: wait
        // for it with a short sleep that grows, not a fixed one that every stage pays.
        var reapDelay: useconds_t = 50
        let bufferSize = 64 * 1024
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 1)
        defer { buffer.deallocate() }

        while true {
            if pipeOpen {
                var pfd = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pfd, 1, exited ? 0 : 100)
                if ready > 0 {
                    let n = read(readEnd, buffer.baseAddress, bufferSize)
                    if n > 0 {
                        log.write(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                        continue
                    } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                        pipeOpen = false
                    }
                } else if ready == 0 && exited {
                    // The main process is gone but something in its group holds the pipe.
                    pipeOpen = false
                }
            } else if !exited {
                usleep(reapDelay)
                reapDelay = min(reapDelay * 2, 20_000)
            }
            if !exited {
                let w = waitpid(pid, &status, WNOHANG)
                if w == pid { exited = true; continue }
            }
            if exited && !pipeOpen { break }

            let now = ContinuousClock.now
            if endReason == nil {
                if control.isCancelled {
                    endReason = .cancelled
                } else if let deadline, now >= deadline {
                    endReason = .timedOut
                }
                if endReason != nil {
                    kill(-pid, SIGTERM)
                    termSentAt = now
                }
            } else if let sent = termSentAt, now - sent >= .milliseconds(Int64(spec.gracePeriod * 1000)) {
                kill(-pid, SIGKILL)
                termSentAt = nil
            }
        }
        // End anything the stage left behind in its group.
        kill(-pid, SIGKILL)

        if let endReason { return endReason }
        if (status & 0x7f) == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(status & 0x7f)
    }
}

/// Calls `body` with a NULL-terminated C array of the strings, all copied into one
/// allocation (a stage's environment is dozens of strings).
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let total = strings.reduce(0) { $0 + $1.utf8.count + 1 }
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
    defer { storage.deallocate() }
    var pointers: [UnsafeMutablePointer<CChar>?] = []
    pointers.reserveCapacity(strings.count + 1)
    var offset = 0
    for string in strings {
        let start = storage + offset
        var copy = string
        copy.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            UnsafeMutableRawPointer(start).copyMemory(from: base, byteCount: bytes.count)
        }
        offset += string.utf8.count
        storage[offset] = 0
        offset += 1
        pointers.append(start)
    }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
