#include "lazy_library.h"
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

static int open_library(struct mlpipe_lazy_library *library) {
    if (library->before != NULL) {
        library->before();
    }
    // RTLD_LAZY: the library's own calls are bound on first use, as they were when it
    // was linked; RTLD_LOCAL keeps its symbols out of the global scope.
    void *handle = dlopen(library->file, RTLD_LAZY | RTLD_LOCAL | library->flags);
    if (handle == NULL) {
        snprintf(library->failure, sizeof library->failure, "cannot load %s (%s); install %s",
                 library->file, dlerror(), library->package);
        return 0;
    }
    for (size_t i = 0; i < library->count; i++) {
        void *address = dlsym(handle, library->symbols[i]);
        if (address == NULL) {
            snprintf(library->failure, sizeof library->failure, "%s has no %s; install %s",
                     library->file, library->symbols[i], library->package);
            return 0;
        }
        *library->slots[i] = address;
    }
    return 1;
}

int mlpipe_lazy_load(struct mlpipe_lazy_library *library, char *error, size_t error_size) {
    int state = atomic_load_explicit(&library->state, memory_order_acquire);
    if (state == 0) {
        pthread_mutex_lock(&library->lock);
        state = atomic_load_explicit(&library->state, memory_order_relaxed);
        if (state == 0) {
            state = open_library(library) ? 1 : -1;
            atomic_store_explicit(&library->state, state, memory_order_release);
        }
        pthread_mutex_unlock(&library->lock);
    }
    if (state != 1 && error != NULL && error_size > 0) {
        snprintf(error, error_size, "%s", library->failure);
    }
    return state == 1;
}

void mlpipe_lazy_require(struct mlpipe_lazy_library *library) {
    char error[sizeof library->failure];
    if (!mlpipe_lazy_load(library, error, sizeof error)) {
        dprintf(STDERR_FILENO, "mlpipe: error: %s\n", error);
        _exit(3);
    }
}
