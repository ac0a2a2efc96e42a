#include "git_startup.h"

// Debian builds libgit2 with mbedTLS, and git_libgit2_init() then parses every
// certificate in /etc/ssl/certs/ca-certificates.crt (about 50 million instructions,
// 9 ms here) so that HTTPS remotes work. mlpipe reads the local object database and
// never talks to a remote through libgit2, so it has no use for them, and every
// `mlpipe run` and `mlpipe status` would pay that before doing any work.
//
// This definition in the executable takes precedence over libmbedx509's for every
// library in the process (ELF symbol interposition: the executable is searched first,
// also for libgit2 and mbedTLS, which CLibGit2 opens later with dlopen). It has to be in
// the executable's dynamic symbol table for that: Package.swift exports it by name, as
// the linker cannot know that a library it never sees needs it.
// libgit2 treats the failure as "no default certificates loaded" and goes on; only
// libgit2 uses mbedTLS in mlpipe. Were mlpipe ever to fetch over HTTPS with libgit2,
// it would set the locations explicitly with GIT_OPT_SET_SSL_CERT_LOCATIONS, which
// goes through mbedtls_x509_crt_parse_path for a folder, not this function.
int mbedtls_x509_crt_parse_file(void *chain, const char *path) {
    (void)chain;
    (void)path;
    return -0x2900; // MBEDTLS_ERR_X509_FILE_IO_ERROR
}

void mlpipe_git_startup_linked(void) {}
