import Foundation
import Orchestration
import PipelineSpec

/// Turns a pipeline's stages into pods (`PodTask`), the same way for an exported Argo
/// workflow and for a stage with `executor: kubernetes`.
///
/// Each pod runs, in the repository checked out at the pinned commit:
///
///     mlpipe run PIPELINE --only STAGE --cached-upstream --remote URL --remote-required --executor local [--param K=V]…
///
/// so it takes what its stage needs from the remote cache and fails (rather than
/// computing it again) when something is missing, and puts its result there. A secret the
/// stage lists (and those the remote names) reaches the pod as the environment variable
/// its `{ env: VARIABLE }` source reads, set from the key of that secret's name in one
/// Kubernetes Secret. A `{ vault: … }` secret is read by the pod's own mlpipe, which logs
/// in to Vault with the pod's service account (see `PodTaskPlan+Vault.swift`): the pod
/// gets the server's address and the login's role as plain variables, never a value or a
/// token. A `{ file: … }` secret cannot be read in a pod and is refused, with its line.
/// Without secrets for the remote, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN` come from the same Secret when it has them (optional references).
struct PodTaskPlan {
    var pipeline: Pipeline
    /// The pipeline file, relative to the repository root (what the pod's mlpipe reads).
    var pipelinePath: String
    var remote: RemoteSetting
    var params: [ParamOverride]
    var cluster: ClusterOptions
    var names: TaskNames
    /// The environment of the mlpipe that renders the pods: where `vault` secrets' pods
    /// learn the Vault address and the Kubernetes login's role (see `vaultEnvironment`).
    var environment: [String: String]

    /// The pipeline secret that holds the cluster's kubeconfig, for mlpipe's Kubernetes
    /// executor; never sent to a pod, even by a stage that lists it.
    static let kubeconfigSecret = "KUBECONFIG"

    init(pipeline: Pipeline, pipelinePath: String, remote: RemoteSetting, params: [ParamOverride],
         cluster: ClusterOptions, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.pipeline = pipeline
        self.pipelinePath = pipelinePath
        self.remote = remote
        self.params = params
        self.cluster = cluster
        self.environment = environment
        names = TaskNames(stages: pipeline.topologicalOrder, reserved: [ArgoWorkflowRenderer.entrypoint])
    }

    /// The Kubernetes Secret pods read their secrets from.
    var secretName: String {
        cluster.secretName ?? String(("mlpipe-" + TaskNames.sanitize(pipeline.name)).prefix(253))
    }

    /// The pod of `stage`; its dependencies are those of the stage, as task names.
    func task(for stage: Stage) throws(EngineError) -> PodTask {
        // `--executor local`: the pod computes the stage itself, even one with `executor: kubernetes`.
        var arguments = ["run", pipelinePath, "--only", stage.name, "--cached-upstream",
                         "--remote", remote.url.text, "--remote-required", "--executor", "local"]
        for param in params { arguments += ["--param", "\(param.key)=\(param.value)"] }
        let secrets = try podSecrets(for: stage)
        var environment = secrets.environment
        if let store = cluster.store { environment["MLPIPE_STORE"] = store }
        return PodTask(stage: stage.name, name: names[stage.name],
                       dependencies: Array(Set(stage.dependencies.map { names[$0] })).sorted(),
                       arguments: arguments, environment: environment, secrets: secrets.references,
                       timeout: stage.timeout, retries: stage.retries, resources: stage.placement.resources,
                       nodeSelector: stage.placement.nodeSelector)
    }

    /// What a stage's pod gets for its secrets: references to keys of the Kubernetes
    /// Secret for `env` secrets, in the order the stage lists them, then the remote's; and
    /// for `vault` secrets the plain variables its mlpipe logs in to Vault with. Every
    /// secret that cannot reach the pod is reported at once.
    func podSecrets(for stage: Stage) throws(EngineError) -> (references: [SecretReference], environment: [String: String]) {
        var wanted = stage.secrets.filter { $0 != Self.kubeconfigSecret }
        for name in remote.secretNames where !wanted.contains(name) { wanted.append(name) }
        var references: [SecretReference] = []
        var fromVault: [(name: String, source: SecretSource)] = []
        var refused: [Diagnostic] = []
        for name in wanted {
            guard let source = pipeline.secrets[name] else { continue }
            switch source.provider {
            case "env":
                references.append(SecretReference(variable: source.reference, secret: secretName, key: name))
            case "vault":
                fromVault.append((name, source))
            default:
                refused.append(Diagnostic(location: source.location, message:
                    "secret \(name) comes from \(source.written), which a pod cannot read; stage '\(stage.name)' "
                    + "runs in a pod, where secrets are environment variables set from the Kubernetes Secret "
                    + "'\(secretName)': declare it `{ env: \(name) }` and put its value under the key \(name) "
                    + "(`kubectl create secret generic \(secretName) --from-file=\(name)=FILE`), or keep it in "
                    + "Vault and declare it `{ vault: \"MOUNT/data/PATH#KEY\" }`"))
            }
        }
        var environment: [String: String] = [:]
        var vaultRefused: [Diagnostic] = []
        if !fromVault.isEmpty {
            do throws(VaultPodError) {
                environment = try vaultEnvironment()
                // A variable the stage sets from the Kubernetes Secret stays the Secret's.
                for reference in references { environment[reference.variable] = nil }
            } catch {
                vaultRefused.append(Diagnostic(location: fromVault[0].source.location,
                                               message: error.message(stage: stage.name, secrets: fromVault)))
            }
        }
        if !refused.isEmpty || !vaultRefused.isEmpty {
            // A file the pipeline names is a definition to change; a missing setting of
            // this machine's is its environment.
            throw EngineError(refused.isEmpty ? .environment : .definition,
                              "\(refused.count + vaultRefused.count) secret source(s) cannot reach a pod",
                              diagnostics: (refused + vaultRefused).sorted { $0.location < $1.location })
        }
        if remote.secretNames.isEmpty {
            for variable in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
            where !references.contains(where: { $0.variable == variable }) {
                references.append(SecretReference(variable: variable, secret: secretName, key: variable, optional: true))
            }
        }
        return (references, environment)
    }

    /// The source pods check out: `cluster.repository`, else the `origin` remote's URL.
    static func source(repositoryRoot: String, commit: String,
                       cluster: ClusterOptions) throws(EngineError) -> SourceCheckout {
        if let repository = cluster.repository, !repository.isEmpty {
            return SourceCheckout(repository: repository, commit: commit)
        }
        let url = originURL(repositoryRoot: repositoryRoot)
        guard let url, !url.isEmpty else {
            throw EngineError(.definition,
                "pods clone the repository at commit \(commit.prefix(12)), but it has no `origin` remote to clone from; "
                + "add one (`git remote add origin URL`) or give the URL with --repo")
        }
        if url.hasPrefix("/") || url.hasPrefix("file:") || url.hasPrefix(".") {
            throw EngineError(.definition,
                "the `origin` remote is \(url), a path on this machine, which a pod cannot clone; "
                + "give the URL pods clone with --repo")
        }
        return SourceCheckout(repository: url, commit: commit)
    }

    /// `git config --get remote.origin.url`, or nil.
    static func originURL(repositoryRoot: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", repositoryRoot, "config", "--get", "remote.origin.url"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
