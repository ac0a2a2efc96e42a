import Foundation

/// One manifest file the renderer writes: its name in the output folder and its YAML.
///
/// File names start with a two-digit rank (`00-serviceaccount.yaml`,
/// `10-deployment.yaml`), because `kubectl apply -f DIR` applies files in name order:
/// the ServiceAccount and its Role exist before the pods that use them.
public struct RenderedManifest: Sendable, Equatable {
    /// The file's name, without a folder.
    public var fileName: String
    /// The manifest's kind (`Deployment`, `HTTPRoute`, …).
    public var kind: String
    /// The YAML document, ending in a newline.
    public var text: String

    /// Creates a manifest.
    public init(fileName: String, kind: String, text: String) {
        self.fileName = fileName
        self.kind = kind
        self.text = text
    }
}

/// What rendering a deployment gives: the manifests, and what the deploy stage reports.
public struct KubernetesRendering: Sendable, Equatable {
    /// The manifests in apply order.
    public var manifests: [RenderedManifest]
    /// The Service's cluster DNS name, `NAME.NAMESPACE.svc.cluster.local`: a stage output.
    public var serviceHost: String
    /// `http://NAME.NAMESPACE.svc.cluster.local:PORT`, for a smoke test run in the cluster.
    public var endpoint: ServiceEndpoint
    /// The namespace every object is in.
    public var namespace: String
    /// What `kubectl rollout status` (or `kubectl wait`) watches: `deployment/iris`.
    public var rolloutResource: String
    /// The Knative revision this rendering creates (`iris-v3`); nil for a Deployment.
    public var revisionName: String?

    /// Writes every manifest into `directory` (created if missing), each to a temporary
    /// file renamed into place, and removes the manifests an earlier rendering left there
    /// (files named `NN-NAME.yaml` that this one does not write), so that `kubectl apply
    /// -f DIR` never applies an object the spec no longer asks for. Other files stay.
    public func write(to directory: URL) throws(KubernetesError) {
        let files = FileManager.default
        do {
            try files.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: directory.path, reason: error.localizedDescription)
        }
        let current = Set(manifests.map(\.fileName))
        let existing = (try? files.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in existing.sorted() where Self.isManifestName(name) && !current.contains(name) {
            let stale = directory.appendingPathComponent(name)
            do {
                try files.removeItem(at: stale)
            } catch {
                throw .writeFailed(path: stale.path, reason: "cannot remove an earlier manifest: \(error.localizedDescription)")
            }
        }
        for manifest in manifests {
            let target = directory.appendingPathComponent(manifest.fileName)
            do {
                try Data(manifest.text.utf8).write(to: target, options: .atomic)
            } catch {
                throw .writeFailed(path: target.path, reason: error.localizedDescription)
            }
        }
    }

    /// `NN-NAME.yaml`: the names the renderers give their files.
    static func isManifestName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return bytes.count > 8 && (48...57).contains(bytes[0]) && (48...57).contains(bytes[1]) && bytes[2] == 45
            && name.hasSuffix(".yaml")
    }
}
