import Canonical

/// What a push did: the manifest digest the registry confirmed, and how each blob got there.
public struct RegistryPushResult: Sendable, Hashable {
    /// `host:port` of the registry.
    public var registry: String
    public var repository: String
    /// The tags the manifest was put under (empty: pushed by digest only).
    public var tags: [String]
    /// The manifest's digest, ours and the registry's (they are checked to be equal).
    public var manifestDigest: Digest
    /// One entry per blob of the image (layers in order, then the config).
    public var blobs: [RegistryBlobOutcome]

    /// `host:port/repository@sha256:…`: the reference that names exactly this image.
    public var reference: String { "\(registry)/\(repository)@\(manifestDigest)" }

    /// Bytes sent as blob bodies (blobs already present or mounted send none).
    public var uploadedBytes: Int64 {
        blobs.reduce(0) { total, blob in
            switch blob.transfer {
            case .alreadyPresent, .mounted: total
            case .uploadedWhole, .uploadedInChunks: total + blob.size
            }
        }
    }
}

/// How one blob reached the registry.
public struct RegistryBlobOutcome: Sendable, Hashable {
    public var digest: Digest
    public var size: Int64
    public var transfer: RegistryBlobTransfer
}

/// The ways a blob can reach a registry, cheapest first.
public enum RegistryBlobTransfer: Sendable, Hashable {
    /// The registry had it (HEAD answered 200); nothing was sent.
    case alreadyPresent
    /// Mounted from another repository of the same registry; nothing was sent.
    case mounted(from: String)
    /// Sent in one PUT (blobs up to ``RegistryOptions/monolithicLimit``).
    case uploadedWhole
    /// Sent in this many PATCH requests, then a closing PUT.
    case uploadedInChunks(Int)
}
