#ifndef MLPIPE_CSPAWN_H
#define MLPIPE_CSPAWN_H
#include <sys/types.h>

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so that a stage spawned
/// by another thread at the same moment never inherits them (which would keep the pipe
/// open after the owner exits). Returns 0, or -1 with errno set.
int mlpipe_pipe_cloexec(int fds[2]);

/// Starts `argv[0]` in a new session (so it and everything it spawns share one process
/// group that can be signalled as a whole), in `cwd`, with stdin from /dev/null and
/// stdout and stderr both on `output_fd`. Returns 0 and sets *pid, or an errno value.
int mlpipe_spawn(const char *path, char *const argv[], char *const envp[],
                 const char *cwd, int output_fd, pid_t *pid);

/// Like mlpipe_spawn, but the child's stdout and stderr go to a file opened with
/// O_APPEND (a long-running service whose output outlives its parent).
int mlpipe_spawn_detached(const char *path, char *const argv[], char *const envp[],
                          const char *cwd, const char *log_path, pid_t *pid);

/// Whether child `pid` has exited, without reaping it (waitid with WNOWAIT): 1 if it
/// has, 0 if it runs, -1 with errno set on error. While the child stays unreaped its pid,
/// and so its process group id, cannot be reused: signalling the group stays safe.
int mlpipe_has_exited(pid_t pid);
#endif
