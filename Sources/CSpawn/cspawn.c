#define _GNU_SOURCE
#include "cspawn.h"
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int spawn_with(const char *path, char *const argv[], char *const envp[],
                      const char *cwd, int output_fd, const char *log_path, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) { posix_spawn_file_actions_destroy(&actions); return rc; }

    // A new session: the stage leads its own process group, away from the terminal's
    // SIGINT, so that cancellation is ours to deliver to the whole group.
    rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    // Caught signals are reset by exec anyway; only ignored ones would be inherited.
    // Resetting just the signals a runtime or a shell may ignore, not all 64, spares
    // each stage as many sigaction calls.
    sigset_t empty, inherited;
    sigemptyset(&empty);
    sigemptyset(&inherited);
    static const int resettable[] = {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGALRM,
                                     SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ, SIGURG};
    for (size_t i = 0; i < sizeof resettable / sizeof resettable[0]; i++) sigaddset(&inherited, resettable[i]);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &empty);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &inherited);
    if (rc == 0) rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0 && log_path != NULL) {
        rc = posix_spawn_file_actions_addopen(&actions, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, 1, 2);
    } else if (rc == 0) {
        rc = posix_spawn_file_actions_adddup2(&actions, output_fd, 1);
        if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, output_fd, 2);
    }
    // Nothing else of mlpipe's reaches the stage: a descriptor its parent leaked to it
    // (a CI runner's pipe, Foundation's Process socket) would otherwise be held open by a
    // stage that outlives mlpipe, and whoever waits for it to close would wait for that.
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (rc == 0 && cwd != NULL) rc = posix_spawn_file_actions_addchdir_np(&actions, cwd);
    if (rc == 0) rc = posix_spawn(pid, path, &actions, &attr, argv, envp);

    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

int mlpipe_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int mlpipe_spawn(const char *path, char *const argv[], char *const envp[],
                 const char *cwd, int output_fd, pid_t *pid) {
    return spawn_with(path, argv, envp, cwd, output_fd, NULL, pid);
}

int mlpipe_spawn_detached(const char *path, char *const argv[], char *const envp[],
                          const char *cwd, const char *log_path, pid_t *pid) {
    return spawn_with(path, argv, envp, cwd, -1, log_path, pid);
}

int mlpipe_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    // With WNOHANG, si_pid stays 0 when the child has not changed state.
    return info.si_pid == pid ? 1 : 0;
}
