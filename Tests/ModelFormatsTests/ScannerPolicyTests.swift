import Canonical
import Testing
@testable import ModelFormats

@Suite("Scan policy")
struct ScannerPolicyTests {
    let policy = ScanPolicy.default

    @Test("the defaults allow what numpy, torch, joblib, collections and scikit-learn write")
    func defaults() {
        #expect(policy.isAllowed(module: "numpy._core.multiarray", name: "_reconstruct"))
        #expect(policy.isAllowed(module: "numpy.core.multiarray", name: "_reconstruct"))
        #expect(policy.isAllowed(module: "numpy", name: "dtype"))
        #expect(policy.isAllowed(module: "torch._utils", name: "_rebuild_tensor_v2"))
        #expect(policy.isAllowed(module: "torch", name: "FloatStorage"))
        #expect(policy.isAllowed(module: "joblib.numpy_pickle", name: "NumpyArrayWrapper"))
        #expect(policy.isAllowed(module: "collections", name: "OrderedDict"))
        #expect(policy.isAllowed(module: "builtins", name: "set"))
        #expect(policy.isAllowed(module: "sklearn.linear_model._logistic", name: "LogisticRegression"))
    }

    @Test("scikit-learn functions, and classes in its test helpers, are not allowed")
    func sklearnFunctions() {
        #expect(!policy.isAllowed(module: "sklearn.utils._testing", name: "assert_run_python_script_without_output"))
        #expect(!policy.isAllowed(module: "sklearn.utils._testing", name: "TempMemmap"))
        #expect(!policy.isAllowed(module: "sklearn.utils", name: "check_array"))
    }

    @Test("names are compared component by component, never as string prefixes")
    func components() {
        #expect(!policy.isAllowed(module: "collections", name: "OrderedDict.fromkeys"))
        #expect(!policy.isAllowed(module: "collections", name: "OrderedDictX"))
        #expect(!policy.isAllowed(module: "numpyx", name: "ndarray"))
        #expect(!policy.isAllowed(module: "torch._utils", name: "_rebuild_tensor_v2.__globals__"))
        #expect(!policy.isAllowed(module: "os.path", name: "join"))
        #expect(!policy.isAllowed(module: "", name: "eval"))
        #expect(!policy.isAllowed(module: "numpy..core", name: "x"))
    }

    @Test("a module wildcard allows its classes and submodules, but no dunder and no attribute chain")
    func wildcard() {
        let extended = policy.allowing(["mypkg.*"])
        #expect(extended.isAllowed(module: "mypkg", name: "Model"))
        #expect(extended.isAllowed(module: "mypkg.layers", name: "Dense"))
        #expect(!extended.isAllowed(module: "mypkgevil", name: "Model"))
        #expect(!extended.isAllowed(module: "mypkg", name: "Model.save"))
        #expect(!extended.isAllowed(module: "mypkg", name: "__builtins__"))
        #expect(extended.extraAllowed == ["mypkg.*"])
    }

    @Test("universal resolvers stay unsafe under a wildcard, and only an exact entry allows them")
    func alwaysUnsafe() {
        let wild = policy.allowing(["builtins.*", "operator.*", "functools.*", "importlib.*"])
        #expect(!wild.isAllowed(module: "builtins", name: "getattr"))
        #expect(!wild.isAllowed(module: "builtins", name: "eval"))
        #expect(!wild.isAllowed(module: "operator", name: "attrgetter"))
        #expect(!wild.isAllowed(module: "functools", name: "partial"))
        #expect(!wild.isAllowed(module: "importlib", name: "import_module"))
        #expect(wild.isAllowed(module: "builtins", name: "sorted"))
        let exact = policy.allowing(["functools.partial"])
        #expect(exact.isAllowed(module: "functools", name: "partial"))
        #expect(!exact.isAllowed(module: "functools", name: "reduce"))
    }

    @Test("an allowed global named with --allow makes a pickle that uses it safe")
    func allowedByUser() {
        let pickle = PickleBuilder().proto(2).global("mypkg.models", "Net").op(.emptyTuple).op(.reduce).stop()
        #expect(scanned(pickle).verdict == .unsafe)
        let scanner = Scanner(policy: .default.allowing(["mypkg.models.Net"]), computeDigest: false)
        #expect(scanned(pickle, scanner: scanner).verdict == .safe)
    }

    @Test("allow-list entries that could never match are explained, well-formed ones pass")
    func entryProblems() {
        #expect(ScanPolicy.problem(withEntry: "mypkg.models.Net") == nil)
        #expect(ScanPolicy.problem(withEntry: "mypkg.*") == nil)
        #expect(ScanPolicy.problem(withEntry: "os")?.contains("is not module.name or module.*") == true)
        #expect(ScanPolicy.problem(withEntry: "numpy.")?.contains("empty or blank part") == true)
        #expect(ScanPolicy.problem(withEntry: "a. b")?.contains("empty or blank part") == true)
        #expect(ScanPolicy.problem(withEntry: "*.Net")?.contains("'*'") == true)
        #expect(ScanPolicy.problem(withEntry: "mypkg.Ne*")?.contains("'*'") == true)
    }
}
