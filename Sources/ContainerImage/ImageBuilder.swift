import Canonical

/// Puts an image together from a base and new layers: the config (the base's, with the
/// run settings given here laid over it, the new layers' diff_ids and one history step
/// each) and the manifest, both as canonical JSON.
///
/// Nothing is read or written here: layers are already written (`LayerCache`), and the
/// result goes to `OCILayoutWriter` or `DockerArchiveWriter`. The same base, layers,
/// settings and time give the same manifest bytes, hence the same image digest.
///
/// Settings follow `docker build`: `Env` entries replace the base's of the same name and
/// add the others; `Labels` are merged; setting `Entrypoint` drops the base's `Cmd`
/// unless `cmd` is given too; anything left nil keeps the base's value.
public struct ImageBuilder: Sendable {
    /// A new layer and the history step that describes it.
    public struct Step: Sendable {
        public var layer: Layer
        /// What made it (`mlpipe containerize: model package iris`), shown by
        /// `docker history`.
        public var createdBy: String

        public init(layer: Layer, createdBy: String) {
            self.layer = layer
            self.createdBy = createdBy
        }
    }

    /// The image the new layers go on; nil for an image of the new layers alone.
    public var base: OCIImage?
    /// Seconds since 1970 for `created` and the history (the commit's time).
    public var created: Int64
    public var entrypoint: [String]?
    public var cmd: [String]?
    /// Variables set in the image, replacing the base's of the same name.
    public var environment: [String: String] = [:]
    /// `8080/tcp`, … added to the base's.
    public var exposedPorts: [String] = []
    public var workingDir: String?
    /// `65532:65532`, a name, …
    public var user: String?
    public var labels: [String: String] = [:]
    /// The manifest's annotations (revision, source, created, the model's name, version).
    public var annotations: [String: String] = [:]

    /// A builder on `base` at time `created`.
    public init(base: OCIImage?, created: Int64) {
        self.base = base
        self.created = created
    }

    /// The image of the base's layers followed by `steps`' layers.
    public func build(_ steps: [Step]) -> OCIImage {
        let time = ImageTime.rfc3339(created)
        var config = base?.config ?? ImageConfig()
        config.created = time
        apply(to: &config.config)
        config.rootfs.diffIDs += steps.map(\.layer.diffID)
        var history = config.history ?? []
        history += steps.map { ImageConfig.History(created: time, createdBy: $0.createdBy) }
        config.history = history
        let configBytes = config.canonicalJSON()

        let layers = (base?.layers ?? []) + steps.map(\.layer)
        let descriptors = layers.map { layer -> Descriptor in
            // A Docker-typed base layer is the same bytes as its OCI type.
            let type = layer.mediaType == OCIMediaType.dockerLayerGzip ? OCIMediaType.layerGzip : layer.mediaType
            return Descriptor(mediaType: type, digest: layer.digest, size: layer.size)
        }
        let manifest = ImageManifest(
            config: Descriptor(mediaType: OCIMediaType.config, digest: SHA256Hasher.digest(of: configBytes),
                               size: Int64(configBytes.count)),
            layers: descriptors, annotations: annotations.isEmpty ? nil : annotations)
        return OCIImage(manifest: manifest, manifestBytes: manifest.canonicalJSON(), config: config,
                        configBytes: configBytes, layers: layers)
    }

    private func apply(to execution: inout ImageConfig.Execution) {
        if let entrypoint {
            execution.entrypoint = entrypoint
            execution.cmd = cmd
        } else if let cmd {
            execution.cmd = cmd
        }
        if !environment.isEmpty {
            var env = execution.env ?? []
            for name in environment.keys.sorted() {
                let entry = name + "=" + environment[name]!
                if let index = env.firstIndex(where: { $0.hasPrefix(name + "=") }) {
                    env[index] = entry
                } else {
                    env.append(entry)
                }
            }
            execution.env = env
        }
        if !exposedPorts.isEmpty { execution.exposedPorts = (execution.exposedPorts ?? []).union(exposedPorts) }
        if let workingDir { execution.workingDir = workingDir }
        if let user { execution.user = user }
        if !labels.isEmpty { execution.labels = (execution.labels ?? [:]).merging(labels) { $1 } }
    }
}
