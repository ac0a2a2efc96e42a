import Foundation

/// Applies a rendered folder to a cluster with kubectl and waits for the rollout; a
/// rollout that does not finish in time is undone.
///
/// The sequence, each with `--kubeconfig PATH` (never the file's content):
///
///     kubectl --kubeconfig K apply -f DIR
///     kubectl --kubeconfig K --namespace NS rollout status deployment/NAME --timeout=300s
///     kubectl --kubeconfig K --namespace NS rollout undo deployment/NAME      # only if the status failed
///
/// For a Knative Service (`ksvc/NAME`) the wait is `kubectl wait --for=condition=Ready`,
/// and there is nothing to undo: Knative sends no traffic to a revision that is not ready.
/// A failed apply stops before the wait. Output is kept as its last lines, for the error.
public struct KubectlApplier: Sendable {
    /// The kubeconfig file (a stage writes it from a secret, mode 0600).
    public var kubeconfig: String
    /// `kubectl`, looked up in `PATH`, or a path to it.
    public var executable: String
    /// How long the rollout may take, in seconds.
    public var timeoutSeconds: Int

    /// Creates an applier.
    public init(kubeconfig: String, executable: String = "kubectl", timeoutSeconds: Int = 300) {
        self.kubeconfig = kubeconfig
        self.executable = executable
        self.timeoutSeconds = timeoutSeconds
    }

    /// Applies `directory` (what `KubernetesRendering.write(to:)` wrote) and waits for
    /// `rendering.rolloutResource` in `rendering.namespace`.
    ///
    /// - Parameter log: receives each command line and its output, for the stage's log.
    public func apply(_ directory: URL, rendering: KubernetesRendering,
                      log: @Sendable (String) -> Void = { _ in }) async throws(KubernetesError) {
        let resource = rendering.rolloutResource
        let scoped = ["--kubeconfig", kubeconfig, "--namespace", rendering.namespace]
        let applied = try await run(["--kubeconfig", kubeconfig, "apply", "-f", directory.path], log: log)
        guard applied.status == 0 else {
            throw .kubectlFailed(command: "kubectl apply -f \(directory.path)", status: applied.status,
                                 outputTail: applied.tail)
        }
        let wait = resource.hasPrefix("ksvc/")
            ? scoped + ["wait", "--for=condition=Ready", "--timeout=\(timeoutSeconds)s", resource]
            : scoped + ["rollout", "status", resource, "--timeout=\(timeoutSeconds)s"]
        let status = try await run(wait, log: log)
        guard status.status != 0 else { return }
        if resource.hasPrefix("ksvc/") {
            throw .knativeNotReady(resource: resource, outputTail: status.tail)
        }
        let undo = try await run(scoped + ["rollout", "undo", resource], log: log)
        throw .rolloutFailed(resource: resource, outputTail: status.tail, undone: undo.status == 0,
                             undoOutputTail: undo.status == 0 ? nil : undo.tail)
    }

    /// One kubectl run: its exit status and the last lines of its output.
    struct Outcome {
        var status: Int32
        var tail: String
    }

    /// Runs kubectl with `arguments`, output (stdout and stderr together) to a temporary
    /// file, so that a chatty command can never block on a full pipe.
    func run(_ arguments: [String], log: @Sendable (String) -> Void) async throws(KubernetesError) -> Outcome {
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
            status = try await Self.wait(for: process)
        } catch {
            throw .kubectlNotStarted(executable: program, reason: error.localizedDescription)
        }
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        if !text.isEmpty { log(text) }
        let lines = text.split(separator: "\n").suffix(5).joined(separator: " | ")
        return Outcome(status: status, tail: String(lines.suffix(2_000)))
    }

    /// Starts `process` and waits for it; a cancelled task terminates it.
    static func wait(for process: Process) async throws -> Int32 {
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
            if process.isRunning { process.terminate() }
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
