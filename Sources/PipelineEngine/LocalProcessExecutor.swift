import CSpawn
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs each process on this machine, in its own session and process group.
///
/// The process gets stdin from /dev/null and one pipe for stdout and stderr, so that
/// the log keeps their order, and mlpipe's inherited environment under the stage's own.
/// A spec's `image`, `resources` and `nodeSelector` are ignored: the command runs on
/// this host as it is, with whatever it can use here.
///
/// A dedicated thread (not one of the concurrency pool's few threads) waits on the pipe
/// and the process. Cancellation, a timeout, or a log that cannot be written (a full
/// disk) stop the whole group: SIGTERM, then SIGKILL after the grace period, or at once
/// when `RunningStages.stopAllNow()` escalates the stop (a second Ctrl-C). When the main
/// process exits, whatever it left running in its group is ended too, as CI runners do.
public struct LocalProcessExecutor: Executor {
    let registry: RunningStages

    /// An executor whose processes `registry` can stop at once (the process-wide one
    /// that mlpipe's interrupt handling uses, unless a test gives its own).
    public init(registry: RunningStages = .shared) {
        self.registry = registry
    }

    public func execute(_ spec: ProcessSpec, log: LogSink) async throws -> ProcessOutcome {
        let control = ProcessControl()
        let registry = registry
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessOutcome, Error>) in
                // A thread of its own, not a dispatch worker: dispatch adds workers
                // beyond the core count only after they have been blocked a while, which
                // started the stages of --jobs 8 on 2 cores a second apart.
                let thread = Thread {
                    do {
                        continuation.resume(returning: try Self.runBlocking(spec, log: log, control: control, registry: registry))
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

    /// How one process is asked to stop; shared between the waiting thread, the task's
    /// cancellation handler and `RunningStages`.
    final class ProcessControl: StoppableWork {
        private let cancelled = Atomic<Bool>(false)
        private let killRequested = Atomic<Bool>(false)
        /// The process group (the spawned pid), set before the control is registered.
        let processGroup = Atomic<Int32>(0)

        /// Stop politely: SIGTERM, SIGKILL after the grace period.
        func cancel() { cancelled.store(true, ordering: .sequentiallyConsistent) }
        var isCancelled: Bool { cancelled.load(ordering: .sequentiallyConsistent) }
        var isKillRequested: Bool { killRequested.load(ordering: .sequentiallyConsistent) }

        /// Stop now: SIGKILL to the group from the caller's thread, so that the group is
        /// gone even if mlpipe exits before the waiting thread wakes up.
        func stopNow() {
            killRequested.store(true, ordering: .sequentiallyConsistent)
            cancel()
            // Registered only once spawned, unregistered before the process is reaped:
            // the group id cannot have been reused here.
            let group = processGroup.load(ordering: .sequentiallyConsistent)
            if group > 0 { kill(-group, SIGKILL) }
        }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var program: String
        var errno: Int32
        var description: String { "cannot start \(program): \(String(cString: strerror(errno)))" }
    }

    /// Why mlpipe stopped the process.
    enum StopReason {
        case cancelled
        case timedOut
        case logFailed
    }

    static func runBlocking(_ spec: ProcessSpec, log: LogSink, control: ProcessControl,
                            registry: RunningStages) throws -> ProcessOutcome {
        if control.isCancelled { return .cancelled }
        let (program, argv) = try commandLine(spec)
        var fds: [Int32] = [-1, -1]
        guard mlpipe_pipe_cloexec(&fds) == 0 else { throw SpawnError(program: program, errno: errno) }
        let readEnd = fds[0], writeEnd = fds[1]

        // The order of environ does not matter to a process; sorting it cost more than
        // the rest of starting a trivial stage.
        var envp = spec.environment.map { $0.key + "=" + $0.value }
        for (key, value) in spec.inheritedEnvironment where spec.environment[key] == nil {
            envp.append(key + "=" + value)
        }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { argvPtr in
            withCStrings(envp) { envPtr in
                mlpipe_spawn(program, argvPtr, envPtr, spec.workingDirectory, writeEnd, &pid)
            }
        }
        close(writeEnd)
        guard rc == 0 else {
            close(readEnd)
            throw SpawnError(program: program, errno: rc)
        }
        defer { close(readEnd) }
        control.processGroup.store(pid, ordering: .sequentiallyConsistent)
        let token = registry.register(RunningStages.Entry(stageName: spec.stageName, gracePeriod: spec.gracePeriod),
                                      work: control)

        let start = ContinuousClock.now
        let deadline = spec.timeout.map { start + .milliseconds(Int64($0 * 1000)) }
        let grace = Duration.milliseconds(Int64(spec.gracePeriod * 1000))
        var stop: StopReason?
        var termSentAt: ContinuousClock.Instant?
        var killSent = false
        var logFailure: EngineError?
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
                        // After a failed write the output is drained and dropped, so that
                        // the process is not blocked on a full pipe while it is stopped.
                        if logFailure == nil {
                            do {
                                try log.write(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                            } catch {
                                logFailure = error
                            }
                        }
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
            // Checked after every read, not only when the pipe is quiet: a stage that
            // writes without pause must still be stoppable.
            if !exited && mlpipe_has_exited(pid) != 0 { exited = true }
            if exited && !pipeOpen { break }

            let now = ContinuousClock.now
            if stop == nil {
                if control.isCancelled {
                    stop = .cancelled
                } else if let deadline, now >= deadline {
                    stop = .timedOut
                } else if logFailure != nil {
                    stop = .logFailed
                }
                if stop != nil {
                    kill(-pid, SIGTERM)
                    termSentAt = now
                }
            }
            if let sent = termSentAt, !killSent, control.isKillRequested || now - sent >= grace {
                kill(-pid, SIGKILL)
                killSent = true
            }
        }
        // Out of the registry before the process is reaped: from here on nothing else
        // signals its group id.
        registry.unregister(token)
        // End anything the stage left behind in its group.
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}

        // SIGKILL from `stopNow` may end the process before the loop saw the request.
        if stop == nil && control.isKillRequested { stop = .cancelled }
        if let logFailure, stop != .cancelled { throw logFailure }
        switch stop {
        case .cancelled: return .cancelled
        case .timedOut: return .timedOut
        case .logFailed, nil: break
        }
        if (status & 0x7f) == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(status & 0x7f)
    }

    /// The program to spawn and its argv: `/bin/sh -c LINE`, or an argv whose program
    /// is looked up in the process's PATH when it has no slash.
    static func commandLine(_ spec: ProcessSpec) throws -> (String, [String]) {
        switch spec.command {
        case .shell(let line):
            return ("/bin/sh", ["/bin/sh", "-c", line])
        case .argv(let argv):
            guard let name = argv.first, !name.isEmpty else { throw SpawnError(program: "an empty command", errno: ENOENT) }
            if name.contains("/") { return (name, argv) }
            let path = spec.environment["PATH"] ?? spec.inheritedEnvironment["PATH"] ?? "/usr/bin:/bin"
            for folder in path.split(separator: ":") where access("\(folder)/\(name)", X_OK) == 0 {
                return ("\(folder)/\(name)", argv)
            }
            throw SpawnError(program: name, errno: ENOENT)
        }
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
