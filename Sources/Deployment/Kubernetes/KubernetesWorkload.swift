/// What a Kubernetes or Knative deployment runs: a model version, served by an image
/// named by its digest, listening on a port. The renderer's input besides the spec.
///
/// `name` names every object (Deployment, Service, …) and so must be an RFC 1035 label
/// (lower-case, starting with a letter, at most 63 characters): a Service name is one.
/// `version` becomes the `app.kubernetes.io/version` label and the Knative revision's
/// suffix. `image` must be pinned by digest (`REGISTRY/REPO@sha256:HEX`): a tag can be
/// moved, and then the cluster would run something other than what was tested.
public struct KubernetesWorkload: Sendable, Equatable {
    /// The model's name: every object's name.
    public var name: String
    /// The model version: a label, and the Knative revision's suffix.
    public var version: String
    /// `REGISTRY/REPOSITORY@sha256:<64 hex>`, optionally with a tag before the `@`.
    public var image: String
    /// The port the serving app listens on (its `PORT`); also the Service's port.
    public var port: Int

    /// The serving app's default port.
    public static let defaultPort = 8080

    /// Creates the workload; `check()` says whether the renderer can take it.
    public init(name: String, version: String, image: String, port: Int = KubernetesWorkload.defaultPort) {
        self.name = name
        self.version = version
        self.image = image
        self.port = port
    }

    /// Refuses a name, version, image or port the cluster would refuse, saying which and
    /// how to fix it.
    func check() throws(KubernetesError) {
        guard SpecValue.isLabel(name), let first = name.utf8.first, (97...122).contains(first) else {
            throw .invalidWorkload(field: "name", value: name,
                                   problem: "use 1 to 63 lower-case letters, digits and '-', starting with a letter "
                                       + "(the model's name is the Service's name)")
        }
        guard SpecValue.isLabelValue(version, allowEmpty: false) else {
            throw .invalidWorkload(field: "version", value: version,
                                   problem: "use at most 63 letters, digits, '-', '_' and '.', starting and ending "
                                       + "with a letter or digit (it is a label value)")
        }
        guard let at = image.range(of: "@sha256:"), at.lowerBound != image.startIndex else {
            throw .invalidWorkload(field: "image", value: image,
                                   problem: "name the image by digest, REGISTRY/REPO@sha256:HEX, so that the cluster "
                                       + "runs exactly the image that was tested")
        }
        let hex = image[at.upperBound...]
        let repository = image[..<at.lowerBound]
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
              repository.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 64 }) else {
            throw .invalidWorkload(field: "image", value: image,
                                   problem: "the digest is sha256: and 64 lower-case hex digits, after a repository "
                                       + "without spaces")
        }
        guard (1...65_535).contains(port) else {
            throw .invalidWorkload(field: "port", value: String(port), problem: "use a port from 1 to 65535")
        }
    }

    /// `v` and the version made lower case with anything but letters and digits as
    /// `-`: the Knative revision `NAME-v3`, `NAME-v1-4`.
    var revisionSuffix: String {
        "v" + String(version.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
    }

    /// The labels every object carries.
    var labels: [String: String] {
        [
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/version": version,
            "app.kubernetes.io/component": "model-server",
            "app.kubernetes.io/managed-by": "mlpipe",
        ]
    }

    /// The labels that select the model's pods: the same across versions, so that a new
    /// version rolls out in place of the old one.
    var selector: [String: String] {
        ["app.kubernetes.io/name": name, "app.kubernetes.io/component": "model-server"]
    }
}
