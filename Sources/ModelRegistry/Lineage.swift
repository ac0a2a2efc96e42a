/// Where a version came from, as a chain: commit → pipeline → inputs' object ids → scan
/// verdict and report digest → package digest → image digest → version.
///
/// Made from what the version recorded at registration. A link that was not known then
/// (no image built, a package without a scan) is nil, and says so when shown.
public struct Lineage: Sendable, Hashable {
    /// One link of the chain.
    public struct Link: Sendable, Hashable {
        /// What the link is: `commit`, `pipeline`, `input PATH`, `scan`, `package`, `image`,
        /// `version`.
        public var label: String
        /// Its value, or nil when it is not known.
        public var value: String?
    }

    /// The version the chain ends at.
    public var version: ModelVersion

    /// The chain in order, from the commit to the version. Inputs come one link each,
    /// by path; a run without recorded inputs has one `inputs` link that is not known.
    public var links: [Link] {
        var links = [Link(label: "commit", value: version.provenance.commit.flatMap { $0.isEmpty ? nil : $0 })]
        let run = version.provenance.runID.map { " (run #\($0)\(version.stage.map { ", stage \($0)" } ?? ""))" } ?? ""
        links.append(Link(label: "pipeline", value: version.pipeline.map { $0 + run }))
        if version.inputs.isEmpty {
            links.append(Link(label: "inputs", value: nil))
        } else {
            for path in version.inputs.keys.sorted() {
                links.append(Link(label: "input \(path.isEmpty ? "(the commit's tree)" : path)", value: version.inputs[path]))
            }
        }
        let scan: String? = switch (version.scanVerdict, version.scanReportDigest) {
        case (nil, nil): nil
        case (let verdict, let report): "\(verdict ?? "unknown verdict"), report \(report ?? "not known")"
        }
        links.append(Link(label: "scan", value: scan))
        links.append(Link(label: "package", value: version.packageDigest))
        links.append(Link(label: "image", value: version.image ?? version.imageDigest))
        links.append(Link(label: "version", value: "\(version.name)@\(version.version)"))
        return links
    }

    /// The lineage of a version.
    public init(of version: ModelVersion) {
        self.version = version
    }
}
