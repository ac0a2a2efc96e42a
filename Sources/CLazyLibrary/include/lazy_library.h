#ifndef MLPIPE_LAZY_LIBRARY_H
#define MLPIPE_LAZY_LIBRARY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/// A shared library that mlpipe opens with dlopen the first time one of its calls is
/// made, instead of linking it: a linked library is loaded and relocated by every
/// mlpipe process, including `mlpipe --version` and `mlpipe runs`, which never call it.
///
/// A C target that wraps a library (CLibGit2, CCrypto) lists the calls it makes with an
/// X-macro and expands MLPIPE_LAZY_CALL/MLPIPE_LAZY_VOID_CALL over it: each call becomes
/// a function of the library's own name and signature (checked against the library's
/// header, so a mismatch does not compile) that jumps through a pointer resolved with
/// dlsym. Swift code calls `git_tree_lookup` as if the library were linked. The
/// functions are hidden, so the executable does not export them and the library's own
/// calls to its exported functions keep binding to the library.
struct mlpipe_lazy_library {
    /// The file name to open, with its ABI version ("libgit2.so.1.5").
    const char *file;
    /// What to install when it is missing ("Debian's libgit2-1.5 package").
    const char *package;
    /// dlopen flags beside RTLD_LAZY | RTLD_LOCAL (e.g. RTLD_DEEPBIND), or 0.
    int flags;
    /// Runs before the library is opened (e.g. opens one of its dependencies first), or NULL.
    void (*before)(void);
    /// The symbols to resolve, and where each one's address goes.
    const char *const *symbols;
    void **const *slots;
    size_t count;
    /// 0 not tried yet, 1 loaded, -1 failed (`failure` says why). Read with acquire
    /// ordering, so a caller that sees 1 also sees every slot.
    atomic_int state;
    pthread_mutex_t lock;
    char failure[512];
};

/// Opens the library and resolves every symbol, once (thread-safe). Returns 1 when it
/// is loaded; 0 when it could not be, with a sentence in `error` that names the file
/// and what to install.
int mlpipe_lazy_load(struct mlpipe_lazy_library *library, char *error, size_t error_size);

/// Loads the library or ends the process with status 3 (an environment error) and the
/// reason on stderr: for a call that cannot report an error itself.
void mlpipe_lazy_require(struct mlpipe_lazy_library *library);

// Expanding a library's list of calls: `CALLS(CALL, VOID_CALL)` where each entry is
// `CALL(type, name, (parameters), (arguments))` or `VOID_CALL(name, (parameters), (arguments))`.

/// Defines `library`, a `struct mlpipe_lazy_library` for `file`, with a slot per call.
#define MLPIPE_LAZY_LIBRARY(library, file, package, flags, before, CALLS)                      \
    CALLS(MLPIPE_LAZY_SLOT, MLPIPE_LAZY_VOID_SLOT)                                              \
    static const char *const library##_symbols[] = {CALLS(MLPIPE_LAZY_NAME, MLPIPE_LAZY_VOID_NAME)}; \
    static void **const library##_slots[] = {CALLS(MLPIPE_LAZY_ADDRESS, MLPIPE_LAZY_VOID_ADDRESS)}; \
    static struct mlpipe_lazy_library library = {                                              \
        file, package, flags, before, library##_symbols, library##_slots,                      \
        sizeof library##_symbols / sizeof library##_symbols[0], 0, PTHREAD_MUTEX_INITIALIZER, ""};

#define MLPIPE_LAZY_SLOT(type, name, params, args) static __typeof__(name) *mlpipe_lazy_slot_##name;
#define MLPIPE_LAZY_VOID_SLOT(name, params, args) MLPIPE_LAZY_SLOT(void, name, params, args)
#define MLPIPE_LAZY_NAME(type, name, params, args) #name,
#define MLPIPE_LAZY_VOID_NAME(name, params, args) #name,
#define MLPIPE_LAZY_ADDRESS(type, name, params, args) (void **)&mlpipe_lazy_slot_##name,
#define MLPIPE_LAZY_VOID_ADDRESS(name, params, args) (void **)&mlpipe_lazy_slot_##name,

/// Defines the function `name` of `library`: the declaration takes its type from the
/// library's header (`__typeof__`), so a definition that does not match it is an error.
#define MLPIPE_LAZY_CALL(library, type, name, params, args)                                   \
    __attribute__((visibility("hidden"))) __typeof__(name) mlpipe_lazy_##name __asm__(#name); \
    type mlpipe_lazy_##name params {                                                            \
        if (__builtin_expect(atomic_load_explicit(&(library).state, memory_order_acquire) != 1, 0)) \
            mlpipe_lazy_require(&(library));                                                    \
        return mlpipe_lazy_slot_##name args;                                                    \
    }
#define MLPIPE_LAZY_VOID_CALL(library, name, params, args)                                    \
    __attribute__((visibility("hidden"))) __typeof__(name) mlpipe_lazy_##name __asm__(#name); \
    void mlpipe_lazy_##name params {                                                            \
        if (__builtin_expect(atomic_load_explicit(&(library).state, memory_order_acquire) != 1, 0)) \
            mlpipe_lazy_require(&(library));                                                    \
        mlpipe_lazy_slot_##name args;                                                           \
    }

#endif
