import Canonical
import Testing
@testable import ModelFormats

/// Writes pickle streams opcode by opcode, so that unit tests need no Python.
struct PickleBuilder {
    private(set) var bytes: [UInt8] = []

    init() {}

    /// An opcode and its raw argument bytes.
    func op(_ code: PickleOpcode, _ argument: [UInt8] = []) -> PickleBuilder {
        var copy = self
        copy.bytes.append(code.rawValue)
        copy.bytes += argument
        return copy
    }

    func raw(_ more: [UInt8]) -> PickleBuilder {
        var copy = self
        copy.bytes += more
        return copy
    }

    func proto(_ version: UInt8) -> PickleBuilder { op(.proto, [version]) }
    func stop() -> PickleBuilder { op(.stop) }
    func mark() -> PickleBuilder { op(.mark) }

    /// GLOBAL (or INST) with its two text lines.
    func global(_ module: String, _ name: String, opcode: PickleOpcode = .global) -> PickleBuilder {
        op(opcode, Array((module + "\n" + name + "\n").utf8))
    }

    /// SHORT_BINUNICODE.
    func text(_ value: String) -> PickleBuilder {
        let utf8 = Array(value.utf8)
        return op(.shortBinUnicode, [UInt8(utf8.count)] + utf8)
    }

    /// Protocol 0 STRING with the argument written as given (quotes and escapes included).
    func string0(_ quoted: String) -> PickleBuilder { op(.string, Array((quoted + "\n").utf8)) }

    func binPut(_ index: UInt8) -> PickleBuilder { op(.binPut, [index]) }
    func binGet(_ index: UInt8) -> PickleBuilder { op(.binGet, [index]) }

    /// BINBYTES8 with a payload of `count` zero bytes (or just the header, for sparse files).
    func bytes8(_ count: Int, payload: Bool = true) -> PickleBuilder {
        var length = UInt64(count).littleEndian
        let header = withUnsafeBytes(of: &length) { Array($0) }
        return op(.binBytes8, header + (payload ? [UInt8](repeating: 0, count: count) : []))
    }

    /// FRAME whose size is the body's, or `size` when given (to make it lie).
    func frame(_ body: PickleBuilder, size: Int? = nil) -> PickleBuilder {
        var length = UInt64(size ?? body.bytes.count).littleEndian
        return op(.frame, withUnsafeBytes(of: &length) { Array($0) }).raw(body.bytes)
    }

    /// `GLOBAL module name`, one STRING argument, TUPLE, REDUCE: `module.name('arg')`.
    func call(_ module: String, _ name: String, _ argument: String = "x") -> PickleBuilder {
        global(module, name).mark().string0("'\(argument)'").op(.tuple).op(.reduce)
    }

    /// The classic payload: `os.system('id')`, protocol 0.
    static let osSystem = PickleBuilder().call("os", "system", "id").stop()
}

/// Scans bytes as a file and returns the report.
func scanned(_ bytes: [UInt8], scanner: Scanner = Scanner(computeDigest: false)) -> FileReport {
    bytes.withUnsafeBytes { scanner.scan(bytes: $0) }
}

func scanned(_ pickle: PickleBuilder, scanner: Scanner = Scanner(computeDigest: false)) -> FileReport {
    scanned(pickle.bytes, scanner: scanner)
}

@Suite("PickleBuilder")
struct PickleBuilderTests {
    @Test("the builder writes the bytes pickle.dumps writes for the same opcodes")
    func matchesPython() {
        // pickle.dumps(None, protocol=2) == b'\x80\x02N.'
        #expect(PickleBuilder().proto(2).op(.none).stop().bytes == [0x80, 0x02, 0x4E, 0x2E])
        #expect(PickleBuilder().global("os", "system").bytes == Array("cos\nsystem\n".utf8))
        #expect(PickleBuilder().text("ab").bytes == [0x8C, 0x02, 0x61, 0x62])
    }
}
