#define _GNU_SOURCE // RTLD_DEEPBIND
#include "CCrypto.h"
#include "lazy_library.h"
#include <dlfcn.h>
#include <openssl/opensslv.h>

// Every libcrypto call mlpipe makes. A new call is added here too; a missing one fails
// to link ("undefined reference to EVP_…"), a wrong signature fails to compile.
#define CRYPTO_CALLS(CALL, VOID_CALL)                                                          \
    CALL(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())                                             \
    VOID_CALL(EVP_MD_CTX_free, (EVP_MD_CTX *ctx), (ctx))                                       \
    CALL(int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl), (ctx, type, impl)) \
    CALL(int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t cnt), (ctx, d, cnt))   \
    CALL(int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s), (ctx, md, s)) \
    CALL(const EVP_MD *, EVP_sha1, (void), ())                                                 \
    CALL(const EVP_MD *, EVP_sha256, (void), ())                                               \
    CALL(unsigned char *, HMAC, (const EVP_MD *evp_md, const void *key, int key_len,          \
                                 const unsigned char *data, size_t data_len, unsigned char *md, \
                                 unsigned int *md_len), (evp_md, key, key_len, data, data_len, md, md_len))

#define CRYPTO_STRING(x) #x
#define CRYPTO_SONAME(version) "libcrypto.so." CRYPTO_STRING(version)

// RTLD_DEEPBIND: libcrypto's 3,400 references to its own exported symbols are looked up
// in libcrypto first. Opened with dlopen, a library's look-ups otherwise walk every
// library of the executable's global scope before reaching it, which made opening
// libcrypto cost 3 million instructions more than linking it had. Every allocation it
// makes, it frees itself, so binding its malloc to libc's is safe. AddressSanitizer
// refuses RTLD_DEEPBIND, so a sanitized build goes without.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CRYPTO_SANITIZED 1
#endif
#endif
#if defined(CRYPTO_SANITIZED) || defined(__SANITIZE_ADDRESS__) || !defined(RTLD_DEEPBIND)
#define CRYPTO_OPEN_FLAGS 0
#else
#define CRYPTO_OPEN_FLAGS RTLD_DEEPBIND
#endif

// The ABI of the headers mlpipe was built with (OpenSSL changes its soname when it breaks it).
MLPIPE_LAZY_LIBRARY(libcrypto, CRYPTO_SONAME(OPENSSL_SHLIB_VERSION), "Debian's libssl3 package",
                    CRYPTO_OPEN_FLAGS, NULL, CRYPTO_CALLS)

#define CRYPTO_CALL(type, name, params, args) MLPIPE_LAZY_CALL(libcrypto, type, name, params, args)
#define CRYPTO_VOID_CALL(name, params, args) MLPIPE_LAZY_VOID_CALL(libcrypto, name, params, args)
CRYPTO_CALLS(CRYPTO_CALL, CRYPTO_VOID_CALL)

int mlpipe_libcrypto_load(char *error, size_t error_size) {
    return mlpipe_lazy_load(&libcrypto, error, error_size);
}
