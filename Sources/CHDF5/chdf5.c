#include "chdf5.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct mlpipe_hdf5 table;
static const struct mlpipe_hdf5 *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    // The runtime names of Debian's serial build, newest first, then the development link.
    static const char *const names[] = {
        "libhdf5_serial.so.103", "libhdf5_serial.so", "libhdf5.so.310", "libhdf5.so.200", "libhdf5.so",
    };
    void *library = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && library == NULL; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (library == NULL) {
        snprintf(failure, sizeof failure,
                 "libhdf5 is not installed (%s); install Debian's libhdf5-dev to read Keras .h5 files", dlerror());
        return;
    }
#define RESOLVE(field, symbol)                                                                  \
    do {                                                                                        \
        *(void **)&table.field = dlsym(library, #symbol);                                       \
        if (table.field == NULL) {                                                              \
            snprintf(failure, sizeof failure, "libhdf5 has no %s; install libhdf5 1.10 or later", #symbol); \
            return;                                                                             \
        }                                                                                       \
    } while (0)
    RESOLVE(open, H5open);
    RESOLVE(Eset_auto2, H5Eset_auto2);
    RESOLVE(Fopen, H5Fopen);
    RESOLVE(Fclose, H5Fclose);
    RESOLVE(Aexists, H5Aexists);
    RESOLVE(Aopen, H5Aopen);
    RESOLVE(Aclose, H5Aclose);
    RESOLVE(Aget_type, H5Aget_type);
    RESOLVE(Aget_space, H5Aget_space);
    RESOLVE(Aread, H5Aread);
    RESOLVE(Tget_class, H5Tget_class);
    RESOLVE(Tclose, H5Tclose);
    RESOLVE(Tcopy, H5Tcopy);
    RESOLVE(Tis_variable_str, H5Tis_variable_str);
    RESOLVE(Tget_size, H5Tget_size);
    RESOLVE(Sclose, H5Sclose);
    RESOLVE(Sget_simple_extent_npoints, H5Sget_simple_extent_npoints);
    RESOLVE(free_memory, H5free_memory);
#undef RESOLVE
    loaded = &table;
}

const struct mlpipe_hdf5 *mlpipe_hdf5_load(char *error, size_t error_size) {
    pthread_once(&once, load);
    if (loaded == NULL && error != NULL && error_size > 0) {
        snprintf(error, error_size, "%s", failure);
    }
    return loaded;
}
