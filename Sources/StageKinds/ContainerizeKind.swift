import ContainerImage
import Foundation
import PipelineEngine
import PipelineSpec

/// `kind: containerize`: a model package and the serving app as an OCI image, built
/// without a container daemon, as ko and jib build theirs.
///
/// Layers, in order: the base image's (an OCI layout, by default the workspace's
/// `base/oci` that `make base-image` builds), the serving runtime's Python packages
/// (`RequirementsLayer`: the template's requirements.txt plus the package's
/// `requirements`, keyed by their digest, so a new model re-uses it), the serving app
/// (`/opt/mlpipe/app`) and the model package last (`/model`), so that a new model
/// version changes only the last layer. Every layer is reproducible (sorted entries,
/// owner 0, normalised modes, the commit's time or `SOURCE_DATE_EPOCH`) and cached by
/// its inputs under `workspace/cache/layers`, so an unchanged layer is never written
/// again. The config runs `python3 -m mlpipe_serving` as user 65532 with the variables
/// PACKAGE-SCHEMA.md gives; the manifest carries the commit, source, time and the
/// model's name and version as annotations.
///
/// The image is written as an OCI layout to the stage's declared output (`image`, or
/// its only output; else `image` in the stage's folder), and with `docker_archive: true`
/// as `image.tar` beside it (or the output `archive`). Results: `digest` (the
/// manifest's) and `reference` (`REGISTRY/REPO@sha256:…` when pushed, else
/// `LAYOUT@sha256:…`), and for a base pulled from a registry `baseDigest` (what its tag
/// named when the stage ran; see `ContainerizeBase`). Bad input (no package, a base that
/// is not a layout) fails the stage with the path and the fix, and leaves no layout
/// behind. A cached result is checked before it is trusted (`verifyCached`).
public struct ContainerizeKind: StageKind {
    /// What a push gets: the image as built and where it goes. The credentials are the
    /// secrets' values; never log them.
    public struct PushRequest: Sendable {
        public var image: OCIImage
        /// The layout the image was written to.
        public var layout: String
        public var tags: [String]
        public var registry: String
        public var repository: String
        public var insecure: Bool
        public var username: String?
        public var password: String?
        public var token: String?
        /// The names of the secrets the values came from, for messages.
        public var secretNames: [String]
        public var log: LogSink
    }

    /// Pushes an image and returns the digest the registry reports for its manifest;
    /// nil in this build (a stage with `push:` then fails, saying so).
    public var pusher: (@Sendable (PushRequest) async throws -> String)?

    /// Whether a pushed image is still in its registry (see `verifyCached`); nil in this
    /// build, where a cached pushed result is then never trusted.
    public var checker: (@Sendable (ImageCheck) async throws -> Bool)?

    /// The kind without a registry client.
    public init(pusher: (@Sendable (PushRequest) async throws -> String)? = nil,
                checker: (@Sendable (ImageCheck) async throws -> Bool)? = nil) {
        self.pusher = pusher
        self.checker = checker
    }

    /// A pushed image lives in its registry, which can lose it; see `verifyCached`.
    public var cachedResultsLiveOutside: Bool { true }

    public var schema: KindSchema {
        KindSchema(name: "containerize", settings: ContainerizeSettings.self, results: ["digest", "reference", "baseDigest"])
    }

    public var implementationVersion: String { "1" }

    /// The push's password or token secret, when it has one.
    public func secrets(for settings: ContainerizeSettings) -> [String] {
        [settings.push?.passwordSecret, settings.push?.tokenSecret].compactMap { $0 }
    }

    /// Where the image runs from, as PACKAGE-SCHEMA.md says.
    static let appPath = "/opt/mlpipe/app"
    static let modelPath = "/model"
    static let sitePackages = "/opt/mlpipe/site-packages"

    public func run(_ context: StageContext, settings: ContainerizeSettings) async throws -> StageResult {
        let start = ContinuousClock.now
        let inputs = try await ContainerizeInputs(context: context, settings: settings)
        let mtime = ImageTime.epoch(commitTime: context.commitTime,
                                    environment: context.inheritedEnvironment.merging(context.environment) { $1 })
        let writer = LayerWriter(mtime: mtime, compression: settings.compression)
        let cache = LayerCache(folder: context.workspace + "/cache/layers")

        let requirements = RequirementsLayer(lines: inputs.requirementLines,
                                             folder: context.workspace + "/cache/requirements")
        let python = Self.python(context)
        let runtime = try await timed(context, "requirements (\(requirements.lines.count) lines)") {
            try await requirements.layer(cache: cache, writer: writer) { arguments in
                try await Self.runPip(python, arguments, context: context)
            }
        }
        try Task.checkCancellation()
        var app = LayerContents()
        try Self.imageError {
            try app.addTree(inputs.template, at: Self.appPath, including: Self.belongsInApp)
        }
        let appLayer = try await timed(context, "serving app \(inputs.templateName)") {
            try cache.layer(for: app, writer: writer)
        }
        var model = LayerContents()
        try Self.imageError { try model.addTree(inputs.package, at: Self.modelPath) }
        let modelLayer = try await timed(context, "model package \(inputs.model.name)") {
            try cache.layer(for: model, writer: writer)
        }

        var builder = ImageBuilder(base: inputs.base, created: mtime)
        builder.entrypoint = ["python3", "-m", "mlpipe_serving"]
        builder.environment = [
            "PYTHONPATH": Self.appPath + ":" + Self.sitePackages,
            "MLPIPE_MODEL_DIR": Self.modelPath,
            "PORT": "8080",
        ]
        if let version = inputs.explicitVersion { builder.environment["MLPIPE_MODEL_VERSION"] = version }
        builder.exposedPorts = ["8080/tcp"]
        builder.user = "65532:65532"
        builder.workingDir = Self.appPath
        builder.labels = settings.labels
        builder.annotations = inputs.annotations(commit: context.commit, created: ImageTime.rfc3339(mtime))
        let image = builder.build([
            ImageBuilder.Step(layer: runtime.layer, createdBy: "mlpipe containerize: pip install --target "
                              + Self.sitePackages + " " + requirements.lines.joined(separator: " ")),
            ImageBuilder.Step(layer: appLayer.layer, createdBy: "mlpipe containerize: serving app "
                              + inputs.templateName + " at " + Self.appPath),
            ImageBuilder.Step(layer: modelLayer.layer, createdBy: "mlpipe containerize: model package "
                              + inputs.model.name + " at " + Self.modelPath),
        ])

        let layout = Self.outputPath(context, names: ["image", "layout"], default: "image")
        try Self.imageError { try OCILayoutWriter(destination: layout).write(image, tags: settings.tags) }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        context.log.line("image \(image.digest) (\(image.layers.count) layers) written to \(layout) in "
                         + String(format: "%.2f s", seconds))
        if settings.dockerArchive {
            let archive = Self.outputPath(context, names: ["archive"], default: "image.tar")
            let name = settings.push?.repository ?? inputs.model.repositoryName
            try Self.imageError {
                try DockerArchiveWriter(path: archive, mtime: mtime)
                    .write(image, repositoryTags: settings.tags.map { name + ":" + $0 })
            }
            context.log.line("docker archive: \(archive) (docker load -i \(archive))")
        }

        var reference = layout + "@" + image.digest.description
        if let push = settings.push {
            reference = try await self.push(image, layout: layout, settings: settings, push: push, context: context)
        }
        var results: [String: Value] = ["digest": .string(image.digest.description), "reference": .string(reference)]
        if let baseDigest = inputs.baseDigest { results["baseDigest"] = .string(baseDigest.description) }
        return StageResult(results: results)
    }

    /// Pushes through `pusher` and checks the registry's digest against ours.
    private func push(_ image: OCIImage, layout: String, settings: ContainerizeSettings,
                      push: ContainerizeSettings.Push, context: StageContext) async throws -> String {
        guard let pusher else {
            throw StageFailure("containerize: `push:` is set, but this mlpipe has no registry client yet; "
                               + "remove `push:` and push \(layout) with `skopeo copy oci:\(layout):\(settings.tags[0]) "
                               + "docker://\(push.registry)/\(push.repository):\(settings.tags[0])`")
        }
        let request = PushRequest(
            image: image, layout: layout, tags: settings.tags, registry: push.registry, repository: push.repository,
            insecure: push.insecure, username: push.username,
            password: push.passwordSecret.flatMap { context.secrets[$0] },
            token: push.tokenSecret.flatMap { context.secrets[$0] },
            secretNames: secrets(for: settings), log: context.log)
        let pushed = try await pusher(request)
        guard pushed == image.digest.description else {
            throw StageFailure("containerize: \(push.registry)/\(push.repository) reports the manifest digest "
                               + "\(pushed) after the push, but the image is \(image.digest); the registry changed "
                               + "the manifest (a proxy or an old registry converting it); push to another registry")
        }
        return "\(push.registry)/\(push.repository)@\(pushed)"
    }
}
