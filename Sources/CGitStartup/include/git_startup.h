#ifndef MLPIPE_GIT_STARTUP_H
#define MLPIPE_GIT_STARTUP_H

/// Does nothing; GitState calls it so that the linker always keeps startup.c, whose
/// one definition changes what git_libgit2_init() costs (see startup.c).
void mlpipe_git_startup_linked(void);

#endif
