// The lists behind `ScanPolicy.default`. Every name here was seen in a pickle
// written by numpy 1.x/2.x, scikit-learn, joblib, scipy.sparse or torch.save, or is a
// plain value type. Functions are listed apart from types because a function kept
// as an attribute through BUILD is a finding, and a type is not.

extension ScanPolicy {
    /// Classes and values: safe to import, construct and keep.
    static let defaultTypes: [String] = {
        var names = [
            "builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.bytes",
            "builtins.complex", "builtins.slice", "builtins.range", "builtins.dict",
            "builtins.list", "builtins.tuple", "builtins.int", "builtins.float",
            "builtins.bool", "builtins.str", "builtins.object",
            "collections.OrderedDict", "collections.defaultdict", "collections.Counter",
            "collections.deque", "collections.ChainMap",
            "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
            "datetime.timezone", "decimal.Decimal", "fractions.Fraction",
            "numpy.ndarray", "numpy.dtype", "numpy.ma.core.MaskedArray",
            "numpy.random.mtrand.RandomState", "numpy.random._generator.Generator",
            "numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64",
            "numpy.random._pcg64.PCG64DXSM", "numpy.random._philox.Philox",
            "numpy.random._sfc64.SFC64", "numpy.random.bit_generator.SeedSequence",
            "joblib.numpy_pickle.NumpyArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
            "torch.Size", "torch.device", "torch.Tensor", "torch.nn.parameter.Parameter",
            "torch.storage.TypedStorage", "torch.storage.UntypedStorage", "torch.UntypedStorage",
        ]
        let numpyScalars = [
            "bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
            "uint64", "intc", "uintc", "intp", "uintp", "longlong", "ulonglong", "float16",
            "float32", "float64", "longdouble", "half", "single", "double", "complex64",
            "complex128", "clongdouble", "csingle", "cdouble", "str_", "bytes_", "void",
            "object_", "datetime64", "timedelta64",
        ]
        names += numpyScalars.map { "numpy." + $0 }
        let storages = [
            "Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte",
            "Bool", "ComplexFloat", "ComplexDouble", "QInt8", "QUInt8", "QInt32",
            "QUInt4x2", "QUInt2x4",
        ]
        names += storages.map { "torch.\($0)Storage" }
        let torchValues = [
            "float16", "float32", "float64", "bfloat16", "half", "float", "double",
            "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "short", "int", "long", "bool", "complex32", "complex64", "complex128",
            "cfloat", "cdouble", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
            "float8_e5m2fnuz", "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
            "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc",
            "_mkldnn", "per_tensor_affine", "per_channel_affine",
            "per_channel_affine_float_qparams", "per_tensor_symmetric",
            "per_channel_symmetric", "contiguous_format", "channels_last",
            "channels_last_3d", "preserve_format",
        ]
        names += torchValues.map { "torch." + $0 }
        let sparse = [
            ("_csr", "csr"), ("_csc", "csc"), ("_coo", "coo"), ("_bsr", "bsr"),
            ("_dia", "dia"), ("_lil", "lil"), ("_dok", "dok"),
        ]
        for (module, kind) in sparse {
            for suffix in ["matrix", "array"] {
                names.append("scipy.sparse.\(module).\(kind)_\(suffix)")
            }
            names.append("scipy.sparse.\(kind).\(kind)_matrix")
        }
        return names
    }()

    /// Functions that loading calls with arguments from the file, and that do
    /// nothing but rebuild a value from those arguments.
    static let defaultFunctions: [String] = {
        var names = [
            "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
            "_codecs.encode",
            "numpy.ma.core._mareconstruct",
            "numpy.random._pickle.__randomstate_ctor",
            "numpy.random._pickle.__generator_ctor",
            "numpy.random._pickle.__bit_generator_ctor",
            "sklearn.neighbors._kd_tree.newObj", "sklearn.neighbors._ball_tree.newObj",
            "sklearn.metrics._dist_metrics.newObj",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
            "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_nested_tensor",
            "torch._utils._rebuild_device_tensor_from_numpy",
            "torch._utils._rebuild_meta_tensor_no_storage",
            "torch._utils._rebuild_wrapper_subclass", "torch._tensor._rebuild_from_type_v2",
            "torch.serialization._get_layout",
        ]
        for core in ["numpy.core", "numpy._core"] {
            names += [
                "\(core).multiarray._reconstruct", "\(core).multiarray.scalar",
                "\(core).numeric._frombuffer",
            ]
        }
        return names
    }()

    /// Modules none of whose classes are allowed by default; users add their own
    /// with `allowing(["mypkg.*"])`.
    static let defaultClassWildcards: [String] = []

    /// Module trees whose CamelCase classes are allowed: scikit-learn writes its
    /// estimators by class, and its constructors only store their arguments.
    /// Functions in those trees stay unsafe (`sklearn.utils._testing` runs Python).
    static let defaultCamelCaseRules: [(module: [Substring], excluded: [[Substring]])] = [
        (["sklearn"], [
            ["sklearn", "utils", "_testing"], ["sklearn", "externals"], ["sklearn", "datasets"],
            ["sklearn", "utils", "parallel"], ["sklearn", "utils", "_joblib"],
        ]),
    ]

    /// Names that are unsafe whatever a `.*` entry says, grouped by why.
    static let alwaysUnsafeGroups: [(String, [String])] = [
        ("resolves or imports any other global (a universal resolver)", [
            "importlib", "builtins.__import__", "pkgutil", "pydoc", "operator.attrgetter",
            "operator.methodcaller", "operator.itemgetter", "_operator", "functools",
            "_functools", "builtins.getattr", "builtins.setattr", "builtins.delattr",
            "builtins.globals", "builtins.locals", "builtins.vars", "builtins.__build_class__",
            "builtins.type", "numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct",
            "sys", "zipimport", "_imp", "copyreg._inverted_registry", "typing",
        ]),
        ("runs code or commands", [
            "builtins.eval", "builtins.exec", "builtins.compile", "builtins.breakpoint",
            "builtins.input", "builtins.open", "builtins.execfile", "builtins.help",
            "os", "posix", "nt", "subprocess", "_posixsubprocess", "pty", "commands",
            "popen2", "runpy", "code", "codeop", "shutil", "socket", "asyncio",
            "multiprocessing", "threading", "_thread", "ctypes", "_ctypes", "cffi",
            "webbrowser", "bdb", "pdb", "timeit", "trace", "profile", "cProfile",
            "doctest", "idlelib", "distutils", "setuptools", "pip", "venv", "ensurepip",
            "signal", "site", "sysconfig", "tempfile", "glob", "io", "_io", "pathlib",
            "numpy.f2py", "numpy.distutils", "numpy.testing", "torch.hub", "torch.jit",
            "torch.utils.cpp_extension", "torch._dynamo", "torch._inductor",
        ]),
        ("builds code objects or functions", [
            "types", "marshal", "_marshal", "new", "builtins.classmethod",
            "builtins.staticmethod", "builtins.property", "builtins.memoryview",
        ]),
        ("deserializes another payload (a nested load)", [
            "pickle", "_pickle", "cPickle", "pickletools", "dill", "cloudpickle",
            "shelve", "jsonpickle", "yaml", "joblib.load", "joblib.numpy_pickle.load",
            "joblib.numpy_pickle_compat", "torch.load", "torch.serialization",
            "torch.storage._load_from_bytes", "numpy.load", "numpy.lib.npyio",
            "numpy.lib.format", "numpy.fromfile", "numpy.memmap", "keras.models",
            "keras.saving", "tensorflow", "tf_keras",
        ]),
    ]
}
