#ifndef MLPIPE_CLIBGIT2_H
#define MLPIPE_CLIBGIT2_H

#include <git2.h>
#include <stddef.h>

/// Opens libgit2 (the version of these headers, libgit2.so.LIBGIT2_SOVERSION) once,
/// thread-safe. Returns 1 when it is loaded; 0 when it is not installed or lacks a call
/// mlpipe makes, with a sentence in `error` that says what to install.
///
/// libgit2 is not linked: the git_* functions declared by <git2.h> that mlpipe calls are
/// defined in libgit2_calls.c and open libgit2 on first use (see CLazyLibrary). Linked,
/// it and the libraries it needs (mbedTLS, libssh2, Kerberos, libcrypto, PCRE2, …) were
/// loaded and relocated by every mlpipe process: more than a quarter of the instructions
/// of `mlpipe --version`, and of `mlpipe runs`, which never reads git. Call this before
/// any other libgit2 call so that a missing libgit2 is an error, not an exit.
int mlpipe_libgit2_load(char *error, size_t error_size);

#endif
