/// Bounds that keep a hostile file from making a scan hang or eat memory.
///
/// Hitting a limit makes the file `invalid` (the scanner could not read all of it),
/// never `safe`. The defaults are far above what numpy, scikit-learn, joblib and
/// torch.save write for real models: a one-gigabyte tensor is one opcode and a
/// skipped payload, not a billion operations.
public struct ScanLimits: Sendable {
    /// Opcodes interpreted per pickle stream (each nested pickle has its own count).
    public var maxOpcodes: Int
    /// Values on the pickle stack, all `MARK` segments together.
    public var maxStackDepth: Int
    /// Entries in a pickle's memo.
    public var maxMemoSize: Int
    /// Open `MARK`s in a pickle, and pickles nested in pickles (joblib object arrays).
    public var maxNestingDepth: Int
    /// Archives inside archives (a zip in a zip counts 2).
    public var maxArchiveDepth: Int
    /// Bytes a compressed member or stream may expand to before the scan stops.
    public var maxDecompressedSize: Int64
    /// Uncompressed-to-compressed ratio above which a member counts as a zip bomb
    /// (checked for members of at least `bombMinimumSize` bytes).
    public var maxCompressionRatio: Double
    /// Members smaller than this are never called bombs, whatever their ratio.
    public var bombMinimumSize: Int64
    /// Members scanned per archive, so that a million tiny members cannot stall a scan.
    public var maxArchiveMembers: Int
    /// Findings kept per file; the rest are counted in one summary finding.
    public var maxFindings: Int

    /// Limits that read every real model we know of and stop a hostile one early.
    public static let `default` = ScanLimits()

    public init(maxOpcodes: Int = 50_000_000, maxStackDepth: Int = 1_000_000,
                maxMemoSize: Int = 2_000_000, maxNestingDepth: Int = 200,
                maxArchiveDepth: Int = 4, maxDecompressedSize: Int64 = 4 << 30,
                maxCompressionRatio: Double = 200, bombMinimumSize: Int64 = 1 << 20,
                maxArchiveMembers: Int = 100_000, maxFindings: Int = 100) {
        self.maxOpcodes = maxOpcodes
        self.maxStackDepth = maxStackDepth
        self.maxMemoSize = maxMemoSize
        self.maxNestingDepth = maxNestingDepth
        self.maxArchiveDepth = maxArchiveDepth
        self.maxDecompressedSize = maxDecompressedSize
        self.maxCompressionRatio = maxCompressionRatio
        self.bombMinimumSize = bombMinimumSize
        self.maxArchiveMembers = maxArchiveMembers
        self.maxFindings = maxFindings
    }
}
