/// The findings of one file, deduplicated and capped.
///
/// A hostile file can repeat one bad global a million times; the report keeps the
/// first occurrence of each (kind, global, member) and counts the rest in a
/// summary, so that its size does not grow with the file. The worst verdict is
/// kept whatever is dropped.
struct FindingLog {
    private(set) var findings: [Finding] = []
    private var seen: Set<String> = []
    private(set) var dropped = 0
    private var droppedWorst: Verdict = .safe
    private(set) var worst: Verdict = .safe
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    mutating func add(_ finding: Finding) {
        if finding.verdict > worst { worst = finding.verdict }
        let key = [finding.kind, finding.global ?? finding.message, finding.member ?? "",
                   finding.opcode ?? ""].joined(separator: "\u{1}")
        guard seen.insert(key).inserted else { return }
        guard findings.count < limit else {
            dropped += 1
            if finding.verdict > droppedWorst { droppedWorst = finding.verdict }
            return
        }
        findings.append(finding)
    }

    mutating func add(contentsOf other: [Finding]) {
        for finding in other { add(finding) }
    }

    /// Whether any finding forces a verdict worse than `safe`.
    var hasProblems: Bool { worst > .safe }

    /// The findings, with one more that counts those dropped past the limit.
    func finished() -> [Finding] {
        guard dropped > 0 else { return findings }
        return findings + [Finding(
            kind: "more-findings", verdict: droppedWorst,
            message: "\(dropped) more distinct findings were not listed")]
    }
}
