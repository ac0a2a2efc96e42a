import Canonical
import Testing
@testable import ModelFormats

@Suite("Pickle interpreter")
struct PickleMachineTests {
    func finding(_ report: FileReport, kind: String) -> Finding? {
        report.findings.first { $0.kind == kind }
    }

    @Test("a GLOBAL and REDUCE of os.system is unsafe, naming the global, its opcode and its offset")
    func classicPayload() throws {
        let report = scanned(PickleBuilder().op(.none).op(.pop).call("os", "system", "id").stop())
        #expect(report.verdict == .unsafe)
        #expect(report.format == .pickle)
        let hit = try #require(finding(report, kind: "unsafe-global"))
        #expect(hit.global == "os.system")
        #expect(hit.opcode == "GLOBAL")
        #expect(hit.offset == 2)
        #expect(hit.member == nil)
    }

    @Test("an allowed class that is called is safe")
    func allowedCall() {
        let report = scanned(PickleBuilder().proto(2).global("collections", "OrderedDict")
            .op(.emptyTuple).op(.reduce).stop())
        #expect(report.verdict == .safe)
        #expect(report.findings.isEmpty)
    }

    @Test("STACK_GLOBAL resolves module and name fetched back from the memo")
    func stackGlobalThroughMemo() throws {
        let pickle = PickleBuilder().proto(4).text("os").op(.memoize).text("system").op(.memoize)
            .op(.pop).op(.pop).binGet(0).binGet(1).op(.stackGlobal).stop()
        let hit = try #require(finding(scanned(pickle), kind: "unsafe-global"))
        #expect(hit.global == "os.system")
        #expect(hit.opcode == "STACK_GLOBAL")
    }

    @Test("MEMOIZE stores at the memo's size, as pickle does when BINPUT used other indices")
    func memoizeIndex() throws {
        // memo[7] = 'torch._utils' by BINPUT; MEMOIZE then stores 'os' at index 1, not 0.
        let pickle = PickleBuilder().proto(4).text("torch._utils").binPut(7).op(.pop)
            .text("os").op(.memoize).op(.pop).text("_rebuild_tensor_v2").op(.memoize).op(.pop)
            .binGet(1).text("system").op(.stackGlobal).stop()
        let hit = try #require(finding(scanned(pickle), kind: "unsafe-global"))
        #expect(hit.global == "os.system")
    }

    @Test("STRING and UNICODE escapes are decoded before the policy sees the name")
    func escapedNames() throws {
        let pickle = PickleBuilder().string0("'\\x6f\\163'").op(.unicode, Array("sy\\u0073tem\n".utf8))
            .op(.stackGlobal).stop()
        let hit = try #require(finding(scanned(pickle), kind: "unsafe-global"))
        #expect(hit.global == "os.system")
    }

    @Test("a denied global is unsafe even when the call's result is dropped with POP")
    func droppedResult() {
        let report = scanned(PickleBuilder().call("subprocess", "check_output").op(.pop).op(.none).stop())
        #expect(report.verdict == .unsafe)
        #expect(report.findings.map(\.global) == ["subprocess.check_output"])
    }

    @Test("INST and OBJ report the class they instantiate")
    func instAndObj() {
        let inst = scanned(PickleBuilder().mark().string0("'1'").global("builtins", "eval", opcode: .inst).stop())
        #expect(inst.findings.first?.opcode == "INST")
        #expect(inst.findings.first?.global == "builtins.eval")
        let obj = scanned(PickleBuilder().mark().global("builtins", "exec").string0("'x'").op(.obj).stop())
        #expect(obj.verdict == .unsafe)
    }

    @Test("Python 2 module names are mapped below protocol 3 and not above")
    func pythonTwoNames() {
        let old = scanned(PickleBuilder().proto(2).global("__builtin__", "set").op(.emptyTuple).op(.reduce).stop())
        #expect(old.verdict == .safe)
        let eval = scanned(PickleBuilder().call("__builtin__", "eval").stop())
        #expect(eval.findings.first?.global == "builtins.eval")
        let newer = scanned(PickleBuilder().proto(3).global("__builtin__", "set").op(.pop).op(.none).stop())
        #expect(newer.findings.first?.global == "__builtin__.set")
    }

    @Test("a memo miss is invalid, at the offset of the GET")
    func memoMiss() throws {
        let report = scanned(PickleBuilder().proto(2).op(.none).binGet(3).stop())
        #expect(report.verdict == .invalid)
        let hit = try #require(finding(report, kind: "memo-miss"))
        #expect(hit.offset == 3)
        #expect(hit.opcode == "BINGET")
    }

    @Test("a stack underflow, an unknown opcode and a truncated stream are invalid")
    func malformedStreams() {
        #expect(finding(scanned(PickleBuilder().proto(2).op(.none).op(.tuple2).stop()), kind: "stack-underflow") != nil)
        #expect(finding(scanned(PickleBuilder().proto(2).op(.none).raw([0xFF]).stop()), kind: "invalid-pickle") != nil)
        #expect(finding(scanned(PickleBuilder().proto(2).op(.none)), kind: "truncated") != nil)
        #expect(scanned(PickleBuilder().proto(2).op(.binUnicode, [9, 0, 0, 0, 0x61]).stop()).verdict == .invalid)
    }

    @Test("POP on an empty mark segment pops the MARK, as pickle does")
    func popPopsMark() {
        let report = scanned(PickleBuilder().proto(2).op(.none).mark().op(.pop).op(.pop).op(.none).stop())
        #expect(report.verdict == .safe)
    }

    @Test("an opcode that runs past its FRAME is invalid, and what follows is still scanned")
    func acrossFrame() throws {
        let body = PickleBuilder().text("os").text("system").op(.stackGlobal).op(.emptyTuple).op(.reduce).stop()
        let report = scanned(PickleBuilder().proto(4).frame(body, size: 6))
        #expect(finding(report, kind: "frame-boundary") != nil)
        #expect(finding(report, kind: "unsafe-global")?.global == "os.system")
        let wellFramed = scanned(PickleBuilder().proto(4).frame(PickleBuilder().op(.none).stop()))
        #expect(wellFramed.verdict == .safe)
    }

    @Test("an extension code is unsafe: the file cannot say what it imports")
    func extensionCodes() {
        let report = scanned(PickleBuilder().proto(2).op(.ext2, [0x10, 0x27]).stop())
        #expect(report.verdict == .unsafe)
        #expect(report.findings.first?.global == "copyreg.extension.10000")
    }

    @Test("BUILD on a global itself is unsafe, however allowed the global is")
    func buildOnGlobal() {
        let report = scanned(PickleBuilder().proto(2).global("collections", "OrderedDict").op(.none)
            .op(.emptyDict).text("a").text("os").op(.setItem).op(.tuple2).op(.build).stop())
        #expect(report.findings.map(\.kind) == ["build-on-global"])
    }

    @Test("BUILD state with a dunder key is unsafe even when filled after it was memoized")
    func buildDunderThroughMemo() {
        let pickle = PickleBuilder().proto(2).op(.emptyDict).binPut(0)
            .text("__reduce__").global("collections", "Counter").op(.setItem).op(.pop)
            .global("collections", "OrderedDict").op(.emptyTuple).op(.reduce).binGet(0).op(.build).stop()
        let report = scanned(pickle)
        #expect(report.findings.map(\.kind) == ["build-dunder"])
        #expect(report.findings.first?.global == "collections.OrderedDict.__reduce__")
    }

    @Test("calling an object that was made while loading is unsafe")
    func indirectCall() {
        let report = scanned(PickleBuilder().proto(2).global("collections", "OrderedDict").op(.emptyTuple)
            .op(.reduce).op(.emptyTuple).op(.reduce).stop())
        #expect(report.findings.map(\.kind) == ["indirect-call"])
    }

    @Test("STACK_GLOBAL on a computed value is unsafe, and on bytes is invalid")
    func stackGlobalOperands() {
        let computed = scanned(PickleBuilder().proto(4).global("builtins", "str").text("os").op(.tuple1)
            .op(.reduce).text("system").op(.stackGlobal).stop())
        #expect(computed.findings.map(\.kind) == ["unresolved-global"])
        let bytes = scanned(PickleBuilder().proto(4).op(.shortBinBytes, [2, 0x6F, 0x73]).text("system")
            .op(.stackGlobal).stop())
        #expect(bytes.verdict == .invalid)
    }

    @Test("limits on opcodes, nesting and stack make a hostile stream invalid, not slow")
    func limits() {
        var small = ScanLimits.default
        small.maxOpcodes = 1000
        small.maxStackDepth = 100
        let scanner = Scanner(limits: small, computeDigest: false)
        let many = PickleBuilder().proto(2).raw([UInt8](repeating: PickleOpcode.none.rawValue, count: 500)
            .flatMap { [$0, PickleOpcode.pop.rawValue] }).op(.none).stop()
        #expect(finding(scanned(many, scanner: scanner), kind: "limit-exceeded") != nil)
        let deep = PickleBuilder().proto(2).raw([UInt8](repeating: PickleOpcode.mark.rawValue, count: 300)).stop()
        #expect(finding(scanned(deep), kind: "limit-exceeded") != nil)
        let wide = PickleBuilder().proto(2).raw([UInt8](repeating: PickleOpcode.none.rawValue, count: 200)).stop()
        #expect(finding(scanned(wide, scanner: scanner), kind: "limit-exceeded") != nil)
    }

    @Test("every pickle of a concatenated file is scanned, and trailing bytes are invalid")
    func concatenated() {
        let two = scanned(PickleBuilder().proto(2).op(.none).stop().raw(PickleBuilder.osSystem.bytes))
        #expect(two.verdict == .unsafe)
        let trailing = scanned(PickleBuilder().proto(2).op(.none).stop().raw(Array("garbage".utf8)))
        #expect(trailing.findings.map(\.kind) == ["trailing-data"])
    }

    @Test("text that is not a protocol 0 pickle is of unknown format")
    func notAPickle() {
        let report = scanned(Array("hello, world\n".utf8))
        #expect(report.format == .unknown)
        #expect(report.verdict == .unknown)
    }

    @Test("a protocol 0 pickle that fails after importing a denied global is still unsafe")
    func failingProtocolZero() {
        let report = scanned(PickleBuilder.osSystem.bytes.dropLast() + [0xFF])
        #expect(report.format == .pickle)
        #expect(report.verdict == .unsafe)
    }

    @Test("closing a tuple costs the items it closes, not the whole stack", .timeLimit(.minutes(1)))
    func markPopsDoNotCopyTheStack() {
        // 100,000 values stay on the stack while 50,000 MARK/TUPLE/POP and NONE/TUPLE1/POP
        // runs close tuples above them: linear work is 400,000 opcodes; copying the stack
        // at every close would be ten billion value copies.
        let bottom = [UInt8](repeating: PickleOpcode.none.rawValue, count: 100_000)
        let pops = [UInt8](repeating: 0, count: 50_000).flatMap { _ in
            [PickleOpcode.mark.rawValue, PickleOpcode.tuple.rawValue, PickleOpcode.pop.rawValue,
             PickleOpcode.none.rawValue, PickleOpcode.tuple1.rawValue, PickleOpcode.pop.rawValue]
        }
        let pickle = PickleBuilder().proto(2).raw(bottom + pops).stop()
        var report: FileReport?
        let elapsed = ContinuousClock().measure { report = scanned(pickle) }
        #expect(report?.verdict == .safe, "\(report?.findings ?? [])")
        #expect(elapsed < .seconds(5), "\(elapsed)")
    }
}
