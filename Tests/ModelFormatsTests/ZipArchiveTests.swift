import Canonical
import Testing
@testable import ModelFormats

/// Writes zip archives field by field (stored members only), so that one field can lie.
struct ZipBuilder {
    struct Member {
        var name: String
        var data: [UInt8]
        var localName: String?
        var flags: UInt16 = 0
        var localFlags: UInt16?
        var crc: UInt32?
        var uncompressedSize: UInt32?
        /// Start the data this many bytes earlier (to make members overlap).
        var pullBack = 0
    }

    var members: [Member] = []
    /// Write a zip64 end of central directory record before the classic one.
    var zip64 = false

    func adding(_ name: String, _ data: [UInt8], _ edit: (inout Member) -> Void = { _ in }) -> ZipBuilder {
        var member = Member(name: name, data: data)
        edit(&member)
        var copy = self
        copy.members.append(member)
        return copy
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for member in members {
            let name = Array(member.name.utf8)
            let localName = Array((member.localName ?? member.name).utf8)
            let crc = member.crc ?? member.data.withUnsafeBytes { ZipInflater.crc32($0) }
            let size = UInt32(member.data.count)
            let offset = UInt32(out.count - member.pullBack)
            if member.pullBack > 0 { out.removeLast(member.pullBack) }
            out += le(0x0403_4B50, 4) + le(20, 2) + le(UInt64(member.localFlags ?? member.flags), 2) + le(0, 2)
                + le(0, 4) + le(UInt64(crc), 4) + le(UInt64(size), 4)
                + le(UInt64(member.uncompressedSize ?? size), 4)
                + le(UInt64(localName.count), 2) + le(0, 2) + localName + member.data
            central += le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(UInt64(member.flags), 2) + le(0, 2)
                + le(0, 4) + le(UInt64(crc), 4) + le(UInt64(size), 4)
                + le(UInt64(member.uncompressedSize ?? size), 4) + le(UInt64(name.count), 2)
                + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(UInt64(offset), 4) + name
        }
        let directoryOffset = out.count
        out += central
        if zip64 {
            let record = out.count
            out += le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
                + le(UInt64(members.count), 8) + le(UInt64(members.count), 8)
                + le(UInt64(central.count), 8) + le(UInt64(directoryOffset), 8)
            out += le(0x0706_4B50, 4) + le(0, 4) + le(UInt64(record), 8) + le(1, 4)
            out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(0xFFFF, 2) + le(0xFFFF, 2)
                + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(0, 2)
        } else {
            out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(UInt64(members.count), 2)
                + le(UInt64(members.count), 2) + le(UInt64(central.count), 4) + le(UInt64(directoryOffset), 4) + le(0, 2)
        }
        return out
    }

    private func le(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// A PyTorch-style archive: `<top>/data.pkl`, one tensor storage, `<top>/version`.
    static func torch(top: String = "archive", dataPickle: [UInt8] = PickleBuilder().proto(2)
        .global("collections", "OrderedDict").op(.emptyTuple).op(.reduce).stop().bytes,
                      _ edit: (inout Member) -> Void = { _ in }) -> ZipBuilder {
        ZipBuilder().adding("\(top)/data.pkl", dataPickle, edit)
            .adding("\(top)/data/0", [UInt8](repeating: 0x3F, count: 64))
            .adding("\(top)/version", Array("3\n".utf8))
    }
}

@Suite("Zip archives")
struct ZipArchiveTests {
    func kinds(_ report: FileReport) -> [String] {
        report.findings.map(\.kind)
    }

    @Test("a PyTorch zip with any top folder is pytorch-zip and safe")
    func torchLayout() {
        let report = scanned(ZipBuilder.torch(top: "resnet-50_final").bytes)
        #expect(report.format == .pytorchZip)
        #expect(report.verdict == .safe)
        #expect(report.findings.isEmpty)
    }

    @Test("a malicious data.pkl is reported with its member path")
    func maliciousMember() throws {
        let report = scanned(ZipBuilder.torch(dataPickle: PickleBuilder.osSystem.bytes).bytes)
        #expect(report.verdict == .unsafe)
        let hit = try #require(report.findings.first { $0.kind == "unsafe-global" })
        #expect(hit.member == "archive/data.pkl")
        #expect(hit.offset == 0)
        #expect(hit.global == "os.system")
    }

    @Test("a pickle hidden under another name anywhere in the zip is scanned")
    func hiddenPickle() {
        let report = scanned(ZipBuilder.torch().adding("archive/assets/LICENSE", PickleBuilder.osSystem.bytes).bytes)
        #expect(report.findings.map(\.member) == ["archive/assets/LICENSE"])
    }

    @Test("tensor data is not parsed unless it starts as a pickle and parses as one")
    func tensorData() {
        let looksLikeText = ZipBuilder().adding("archive/data.pkl", PickleBuilder().op(.none).stop().bytes)
            .adding("archive/data/0", Array("cos\nsystem\n(S'id'\ntR.".utf8))
        #expect(scanned(looksLikeText.bytes).verdict == .safe)
        let realPickle = ZipBuilder().adding("archive/data.pkl", PickleBuilder().op(.none).stop().bytes)
            .adding("archive/data/0", PickleBuilder().proto(2).raw(PickleBuilder.osSystem.bytes).bytes)
        #expect(scanned(realPickle.bytes).verdict == .unsafe)
    }

    @Test("a local header name that differs from the central one is read by the central name and reported")
    func nameMismatch() {
        let zip = ZipBuilder.torch(dataPickle: PickleBuilder.osSystem.bytes) { $0.localName = "archive/data.txt" }
        let report = scanned(zip.bytes)
        #expect(kinds(report).contains("zip-name-mismatch"))
        #expect(kinds(report).contains("unsafe-global"))
    }

    @Test("odd flag bits and flags that differ between headers are reported; the member is still scanned")
    func flags() {
        let encrypted = scanned(ZipBuilder.torch(dataPickle: PickleBuilder.osSystem.bytes) { $0.flags = 1 }.bytes)
        #expect(kinds(encrypted).contains("zip-flags"))
        #expect(encrypted.verdict == .unsafe)
        let differ = scanned(ZipBuilder.torch { $0.localFlags = 0x800 }.bytes)
        #expect(kinds(differ) == ["zip-flags"])
        #expect(differ.verdict == .invalid)
        let utf8 = scanned(ZipBuilder.torch { $0.flags = 0x800 }.bytes)
        #expect(utf8.verdict == .safe)
    }

    @Test("a bad CRC is reported and the member is read anyway, as PyTorch reads it")
    func badCRC() {
        let report = scanned(ZipBuilder.torch(dataPickle: PickleBuilder.osSystem.bytes) { $0.crc = 0xDEAD_BEEF }.bytes)
        #expect(kinds(report).contains("zip-crc"))
        #expect(kinds(report).contains("unsafe-global"))
    }

    @Test("duplicate names, absolute paths and .. segments are reported")
    func names() {
        let duplicate = scanned(ZipBuilder.torch().adding("archive/data.pkl", PickleBuilder.osSystem.bytes).bytes)
        #expect(kinds(duplicate).contains("zip-duplicate"))
        #expect(duplicate.verdict == .unsafe)
        let traversal = scanned(ZipBuilder().adding("a/../../x.pkl", [0x4E, 0x2E]).bytes)
        #expect(traversal.findings.map(\.kind) == ["path-traversal"])
        #expect(traversal.verdict == .unsafe)
        let absolute = scanned(ZipBuilder().adding("C:\\x.pkl", [0x4E, 0x2E]).bytes)
        #expect(absolute.findings.map(\.kind) == ["path-traversal"])
    }

    @Test("members whose bytes overlap are reported")
    func overlap() {
        let zip = ZipBuilder().adding("a.bin", [UInt8](repeating: 7, count: 40))
            .adding("b.bin", [UInt8](repeating: 7, count: 40)) { $0.pullBack = 20 }
        #expect(kinds(scanned(zip.bytes)).contains("zip-overlap"))
    }

    @Test("a stored member whose sizes disagree is reported")
    func storedSizes() {
        let report = scanned(ZipBuilder().adding("a.bin", [1, 2, 3]) { $0.uncompressedSize = 300 }.bytes)
        #expect(kinds(report).contains("zip-size-mismatch"))
    }

    @Test("a zip64 end of central directory is followed to the members")
    func zip64() {
        var builder = ZipBuilder.torch(dataPickle: PickleBuilder.osSystem.bytes)
        builder.zip64 = true
        let report = scanned(builder.bytes)
        #expect(report.format == .pytorchZip)
        #expect(report.verdict == .unsafe)
    }

    @Test("a zip cut short is invalid, never safe")
    func truncated() {
        let bytes = ZipBuilder.torch().bytes
        for cut in [10, bytes.count / 2, bytes.count - 5] {
            let report = scanned(Array(bytes.prefix(cut)))
            #expect(report.verdict != .safe, "cut at \(cut)")
        }
    }

    @Test("nested zips are scanned with a member path through both archives, up to the depth limit")
    func nesting() {
        let inner = ZipBuilder().adding("payload.pkl", PickleBuilder.osSystem.bytes).bytes
        let outer = scanned(ZipBuilder().adding("inner.zip", inner).bytes)
        #expect(outer.findings.first?.member == "inner.zip/payload.pkl")
        var deep = ZipBuilder().adding("leaf.pkl", PickleBuilder.osSystem.bytes).bytes
        for level in 0..<6 { deep = ZipBuilder().adding("l\(level).zip", deep).bytes }
        let report = scanned(deep)
        #expect(kinds(report).contains("archive-depth"))
        #expect(report.verdict != .safe)
    }

    @Test("more members than the limit make the archive invalid")
    func memberLimit() {
        var limits = ScanLimits.default
        limits.maxArchiveMembers = 3
        var zip = ZipBuilder()
        for index in 0..<5 { zip = zip.adding("m\(index)", [0]) }
        let report = scanned(zip.bytes, scanner: Scanner(limits: limits, computeDigest: false))
        #expect(kinds(report) == ["limit-exceeded"])
    }
}
