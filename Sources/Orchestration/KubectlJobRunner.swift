import Foundation

/// Applies a rendered Job with kubectl, waits until it completes or fails, and fetches
/// its logs.
///
/// The sequence, each with `--kubeconfig PATH` (never the file's content):
///
///     kubectl --kubeconfig K apply -f JOB.yaml
///     kubectl --kubeconfig K [--namespace NS] wait --for=condition=Complete --timeout=Ts job/NAME
///     kubectl --kubeconfig K [--namespace NS] wait --for=condition=Failed --timeout=Ts job/NAME
///     kubectl --kubeconfig K [--namespace NS] logs job/NAME --all-containers=true
///
/// The two waits run at once and the first to succeed decides (kubectl before 1.31 waits
/// for one condition only); the other is stopped. A cancelled stage deletes its Job
/// (`kubectl delete job/NAME --wait=false`) so the cluster stops the pod too. The logs
/// are fetched whatever the outcome, for the stage's log. This is the sequence of
/// `Deployment`'s `KubectlApplier`, for a Job; both are tested with a fake kubectl.
public struct KubectlJobRunner: Sendable {
    /// The kubeconfig file (written from a secret, mode 0600).
    public var kubeconfig: String
    /// `kubectl`, looked up in `PATH`, or a path to it.
    public var executable: String
    /// The namespace of the Job; nil for the kubeconfig's.
    public var namespace: String?

    /// A runner.
    public init(kubeconfig: String, executable: String = "kubectl", namespace: String? = nil) {
        self.kubeconfig = kubeconfig
        self.executable = executable
        self.namespace = namespace
    }

    /// How a Job ended.
    public enum Outcome: Sendable, Equatable {
        case complete
        case failed
        /// Neither condition within the timeout.
        case timedOut
    }

    /// Applies `manifest` (a file holding the Job), waits at most `timeoutSeconds` and
    /// returns how the Job ended; `log` gets each command line and kubectl's output.
    public func run(manifest: String, job: String, timeoutSeconds: Int,
                    log: @escaping @Sendable (String) -> Void) async throws(OrchestrationError) -> Outcome {
        let applied = try await kubectl(["--kubeconfig", kubeconfig, "apply", "-f", manifest], log: log)
        guard applied.status == 0 else {
            throw .kubectlFailed(command: "kubectl apply -f \(manifest)", status: applied.status, outputTail: applied.tail)
        }
        let scoped = ["--kubeconfig", kubeconfig] + (namespace.map { ["--namespace", $0] } ?? [])
        let outcome: Outcome
        do {
            outcome = try await withThrowingTaskGroup(of: Outcome?.self) { group in
                for (condition, result) in [("Complete", Outcome.complete), ("Failed", Outcome.failed)] {
                    group.addTask {
                        let waited = try await kubectl(scoped + ["wait", "--for=condition=\(condition)",
                                                                 "--timeout=\(timeoutSeconds)s", "job/\(job)"], log: log)
                        return waited.status == 0 ? result : nil
                    }
                }
                var found: Outcome = .timedOut
                while let next = try await group.next() {
                    if let next {
                        found = next
                        group.cancelAll()
                        break
                    }
                }
                return found
            }
        } catch let error as OrchestrationError {
            throw error
        } catch {
            throw .kubectlNotStarted(executable: executable, reason: "\(error)")
        }
        if Task.isCancelled {
            // Stop the pod on the cluster too; the stage is cancelled whatever this says.
            _ = try? await kubectl(scoped + ["delete", "job/\(job)", "--wait=false"], log: log, stoppable: false)
            return outcome
        }
        _ = try await kubectl(scoped + ["logs", "job/\(job)", "--all-containers=true"], log: log)
        return outcome
    }

    /// One kubectl run: its exit status and the last lines of its output.
    struct Result {
        var status: Int32
        var tail: String
    }

    /// Runs kubectl with `arguments`, output (stdout and stderr together) to a temporary
    /// file, so that a chatty command can never block on a full pipe; a cancelled task
    /// terminates it, unless it is not `stoppable` (the delete of a cancelled Job).
    func kubectl(_ arguments: [String], log: @Sendable (String) -> Void,
                 stoppable: Bool = true) async throws(OrchestrationError) -> Result {
        log("kubectl " + arguments.joined(separator: " "))
        let program = Self.locate(executable)
        let outputFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlpipe-kubectl-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let status: Int32
        do {
            guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown)
            }
            let output = try FileHandle(forWritingTo: outputFile)
            defer { try? output.close() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
            status = try await Self.wait(for: process, stoppable: stoppable)
        } catch {
            throw .kubectlNotStarted(executable: program, reason: error.localizedDescription)
        }
        let text: String
        do {
            text = try String(contentsOf: outputFile, encoding: .utf8)
        } catch {
            text = "(kubectl's output could not be read: \(error.localizedDescription))"
        }
        if !text.isEmpty { log(text) }
        let lines = text.split(separator: "\n").suffix(5).joined(separator: " | ")
        return Result(status: status, tail: String(lines.suffix(2_000)))
    }

    /// Starts `process` and waits for it; a cancelled task terminates it when `stoppable`.
    static func wait(for process: Process, stoppable: Bool) async throws -> Int32 {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if stoppable && process.isRunning { process.terminate() }
        }
    }

    /// `name` if it has a `/`, else the first executable `PATH` entry of that name.
    static func locate(_ name: String) -> String {
        guard !name.contains("/") else { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return name
    }
}
