import PipelineSpec

/// One stage as a pod: what an Argo DAG task and a Kubernetes Job both run.
///
/// The container runs `mlpipe run PIPELINE --only STAGE --cached-upstream --remote URL
/// --remote-required` in the repository checked out at the pinned commit: the stage
/// takes what it needs from the remote cache and puts its result there, so that the
/// next task (or the mlpipe that waits for a Job) finds it. Everything here is already
/// decided by the caller (names, arguments, secret references): the renderers only
/// write it out, the same way every time.
public struct PodTask: Sendable, Equatable {
    /// The stage's name as mlpipe knows it (`train[lr=0.1]` for a matrix instance).
    public var stage: String
    /// The DNS-safe name of the task, its template and its container (see `TaskNames`).
    public var name: String
    /// Names (`name`) of the tasks that must succeed first, sorted.
    public var dependencies: [String]
    /// The container's arguments after `mlpipe`: `run pipelines/iris.yaml --only train …`.
    public var arguments: [String]
    /// Plain variables (never a secret's value), by name.
    public var environment: [String: String]
    /// Variables set from Kubernetes Secrets, by reference only.
    public var secrets: [SecretReference]
    /// Seconds per attempt (`activeDeadlineSeconds`); nil for none.
    public var timeout: Double?
    /// Extra attempts after a failure.
    public var retries: Int
    /// Requests and limits (`gpu` is written as `nvidia.com/gpu`).
    public var resources: StageResources
    /// Node labels the pod must land on.
    public var nodeSelector: [String: String]

    /// A task; see the properties.
    public init(stage: String, name: String, dependencies: [String] = [], arguments: [String],
                environment: [String: String] = [:], secrets: [SecretReference] = [],
                timeout: Double? = nil, retries: Int = 0, resources: StageResources = StageResources(),
                nodeSelector: [String: String] = [:]) {
        self.stage = stage
        self.name = name
        self.dependencies = dependencies
        self.arguments = arguments
        self.environment = environment
        self.secrets = secrets
        self.timeout = timeout
        self.retries = retries
        self.resources = resources
        self.nodeSelector = nodeSelector
    }

    /// `activeDeadlineSeconds`: the timeout rounded up to whole seconds (at least 1).
    public var deadlineSeconds: Int? {
        timeout.map { max(1, Int($0.rounded(.up))) }
    }
}

/// An environment variable set from a key of a Kubernetes Secret (`secretKeyRef`): the
/// manifest names the Secret and the key, never the value.
public struct SecretReference: Sendable, Equatable {
    /// The variable the container sees.
    public var variable: String
    /// The Kubernetes Secret's name.
    public var secret: String
    /// The key inside it.
    public var key: String
    /// True when the pod may start without it (the remote's AWS credentials, which a pod
    /// with a workload identity does not need).
    public var optional: Bool

    /// A reference.
    public init(variable: String, secret: String, key: String, optional: Bool = false) {
        self.variable = variable
        self.secret = secret
        self.key = key
        self.optional = optional
    }
}

/// The repository at the pinned commit, as every pod checks it out.
public struct SourceCheckout: Sendable, Equatable {
    /// The URL a pod clones (`https://…`, `git@…`).
    public var repository: String
    /// The full commit id (40 hex characters).
    public var commit: String
    /// Where it is checked out in the container; the container's working folder.
    public var path: String

    /// A checkout at `/workspace/src` unless told.
    public init(repository: String, commit: String, path: String = "/workspace/src") {
        self.repository = repository
        self.commit = commit
        self.path = path
    }
}

/// What every pod of one export or run shares.
public struct PodSettings: Sendable, Equatable {
    /// The image with mlpipe, git and the pipeline's tools.
    public var image: String
    /// The namespace of the Workflow or Job; nil leaves it to `kubectl`/`argo` (`-n`).
    public var namespace: String?
    /// The pods' service account; nil for the namespace's default.
    public var serviceAccount: String?
    /// Seconds a finished Workflow or Job is kept before Kubernetes deletes it.
    public var secondsAfterFinished: Int

    /// Settings; a finished object is kept a day unless told.
    public init(image: String, namespace: String? = nil, serviceAccount: String? = nil,
                secondsAfterFinished: Int = 86_400) {
        self.image = image
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.secondsAfterFinished = secondsAfterFinished
    }
}
