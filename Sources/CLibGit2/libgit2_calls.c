#include "CLibGit2.h"
#include "CCrypto.h"
#include "lazy_library.h"

// Every libgit2 call mlpipe makes. A new call in GitState is added here too; a missing
// one fails to link ("undefined reference to git_…"), a wrong signature fails to compile.
#define GIT_CALLS(CALL, VOID_CALL)                                                             \
    CALL(int, git_branch_create,                                                               \
         (git_reference **out, git_repository *repo, const char *branch_name, const git_commit *target, int force), \
         (out, repo, branch_name, target, force))                                              \
    CALL(int, git_branch_delete, (git_reference *branch), (branch))                            \
    VOID_CALL(git_buf_dispose, (git_buf *buffer), (buffer))                                    \
    VOID_CALL(git_commit_free, (git_commit *commit), (commit))                                 \
    CALL(const git_oid *, git_commit_id, (const git_commit *commit), (commit))                 \
    CALL(git_time_t, git_commit_time, (const git_commit *commit), (commit))                    \
    CALL(int, git_commit_tree, (git_tree **tree_out, const git_commit *commit), (tree_out, commit)) \
    CALL(const git_oid *, git_commit_tree_id, (const git_commit *commit), (commit))            \
    VOID_CALL(git_config_free, (git_config *cfg), (cfg))                                       \
    CALL(int, git_config_get_bool, (int *out, const git_config *cfg, const char *name), (out, cfg, name)) \
    CALL(const git_error *, git_error_last, (void), ())                                        \
    CALL(int, git_ignore_path_is_ignored, (int *ignored, git_repository *repo, const char *path), \
         (ignored, repo, path))                                                                \
    CALL(size_t, git_index_entrycount, (const git_index *index), (index))                      \
    VOID_CALL(git_index_free, (git_index *index), (index))                                     \
    CALL(const git_index_entry *, git_index_get_byindex, (git_index *index, size_t n), (index, n)) \
    CALL(int, git_index_read, (git_index *index, int force), (index, force))                   \
    CALL(int, git_libgit2_init, (void), ())                                                    \
    VOID_CALL(git_object_free, (git_object *object), (object))                                 \
    CALL(int, git_object_peel, (git_object **peeled, const git_object *object, git_object_t target_type), \
         (peeled, object, target_type))                                                        \
    CALL(int, git_oid_equal, (const git_oid *a, const git_oid *b), (a, b))                     \
    CALL(int, git_oid_fromstr, (git_oid *out, const char *str), (out, str))                    \
    CALL(char *, git_oid_tostr, (char *out, size_t n, const git_oid *id), (out, n, id))        \
    VOID_CALL(git_reference_free, (git_reference *ref), (ref))                                 \
    CALL(int, git_reference_is_branch, (const git_reference *ref), (ref))                      \
    CALL(int, git_reference_peel, (git_object **out, const git_reference *ref, git_object_t type), (out, ref, type)) \
    CALL(const char *, git_reference_shorthand, (const git_reference *ref), (ref))             \
    CALL(int, git_repository_config_snapshot, (git_config **out, git_repository *repo), (out, repo)) \
    CALL(int, git_repository_discover,                                                         \
         (git_buf *out, const char *start_path, int across_fs, const char *ceiling_dirs),      \
         (out, start_path, across_fs, ceiling_dirs))                                           \
    VOID_CALL(git_repository_free, (git_repository *repo), (repo))                             \
    CALL(int, git_repository_head, (git_reference **out, git_repository *repo), (out, repo))   \
    CALL(int, git_repository_head_detached, (git_repository *repo), (repo))                   \
    CALL(int, git_repository_head_unborn, (git_repository *repo), (repo))                      \
    CALL(int, git_repository_index, (git_index **out, git_repository *repo), (out, repo))      \
    CALL(int, git_repository_open, (git_repository **out, const char *path), (out, path))      \
    CALL(int, git_repository_open_from_worktree, (git_repository **out, git_worktree *wt), (out, wt)) \
    CALL(const char *, git_repository_path, (const git_repository *repo), (repo))              \
    CALL(int, git_repository_set_head_detached, (git_repository *repo, const git_oid *committish), \
         (repo, committish))                                                                   \
    CALL(const char *, git_repository_workdir, (const git_repository *repo), (repo))           \
    CALL(int, git_revparse_single, (git_object **out, git_repository *repo, const char *spec), (out, repo, spec)) \
    VOID_CALL(git_strarray_dispose, (git_strarray *array), (array))                            \
    CALL(const git_tree_entry *, git_tree_entry_byindex, (const git_tree *tree, size_t idx), (tree, idx)) \
    CALL(int, git_tree_entry_bypath, (git_tree_entry **out, const git_tree *root, const char *path), \
         (out, root, path))                                                                    \
    CALL(git_filemode_t, git_tree_entry_filemode, (const git_tree_entry *entry), (entry))      \
    VOID_CALL(git_tree_entry_free, (git_tree_entry *entry), (entry))                           \
    CALL(const git_oid *, git_tree_entry_id, (const git_tree_entry *entry), (entry))           \
    CALL(const char *, git_tree_entry_name, (const git_tree_entry *entry), (entry))            \
    CALL(git_object_t, git_tree_entry_type, (const git_tree_entry *entry), (entry))            \
    CALL(size_t, git_tree_entrycount, (const git_tree *tree), (tree))                          \
    VOID_CALL(git_tree_free, (git_tree *tree), (tree))                                         \
    CALL(const git_oid *, git_tree_id, (const git_tree *tree), (tree))                         \
    CALL(int, git_tree_lookup, (git_tree **out, git_repository *repo, const git_oid *id), (out, repo, id)) \
    CALL(int, git_worktree_add,                                                                \
         (git_worktree **out, git_repository *repo, const char *name, const char *path,        \
          const git_worktree_add_options *opts),                                               \
         (out, repo, name, path, opts))                                                        \
    CALL(int, git_worktree_add_options_init, (git_worktree_add_options *opts, unsigned int version), (opts, version)) \
    VOID_CALL(git_worktree_free, (git_worktree *wt), (wt))                                     \
    CALL(int, git_worktree_list, (git_strarray *out, git_repository *repo), (out, repo))       \
    CALL(int, git_worktree_lookup, (git_worktree **out, git_repository *repo, const char *name), (out, repo, name)) \
    CALL(const char *, git_worktree_path, (const git_worktree *wt), (wt))                      \
    CALL(int, git_worktree_prune, (git_worktree *wt, git_worktree_prune_options *opts), (wt, opts)) \
    CALL(int, git_worktree_prune_options_init, (git_worktree_prune_options *opts, unsigned int version), \
         (opts, version))

// libgit2 needs libcrypto (through libssh2). Opened first by CCrypto, it is bound inside
// itself (see crypto_calls.c); opened as libgit2's dependency, it would not be. Should it
// be missing, opening libgit2 then fails with a message that names it.
static void open_libcrypto_first(void) {
    (void)mlpipe_libcrypto_load(NULL, 0);
}

// The ABI of the headers mlpipe was built with: libgit2 changes its soname when it breaks it.
MLPIPE_LAZY_LIBRARY(libgit2, "libgit2.so." LIBGIT2_SOVERSION, "Debian's libgit2-" LIBGIT2_SOVERSION " package",
                    0, open_libcrypto_first, GIT_CALLS)

#define GIT_CALL(type, name, params, args) MLPIPE_LAZY_CALL(libgit2, type, name, params, args)
#define GIT_VOID_CALL(name, params, args) MLPIPE_LAZY_VOID_CALL(libgit2, name, params, args)
GIT_CALLS(GIT_CALL, GIT_VOID_CALL)

int mlpipe_libgit2_load(char *error, size_t error_size) {
    return mlpipe_lazy_load(&libgit2, error, error_size);
}
