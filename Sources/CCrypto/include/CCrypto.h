#ifndef MLPIPE_CCRYPTO_H
#define MLPIPE_CCRYPTO_H

// libcrypto's digests: the same SHA-256/SHA-1 code as `openssl dgst`, with the CPU's
// SHA extensions where it has them.
//
// libcrypto is not linked: the EVP calls mlpipe makes are defined in crypto_calls.c and
// open libcrypto.so.3 on first use (see CLazyLibrary). Linked, its relocation (3,400
// symbol look-ups) was paid by every mlpipe process, also by those that hash nothing
// (`mlpipe --version`, `mlpipe runs`). A process that cannot open it stops with status 3
// and says what to install: these calls have no way to report the failure.
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>  // HMAC-SHA256 for S3 request signatures (S3Store)
#include <stddef.h>

/// Opens libcrypto once (thread-safe). Returns 1 when it is loaded; 0 when it is not,
/// with a sentence in `error` (may be NULL) that says what to install.
int mlpipe_libcrypto_load(char *error, size_t error_size);

#endif
