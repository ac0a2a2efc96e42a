#ifndef MLPIPE_CHDF5_H
#define MLPIPE_CHDF5_H

// Debian's libhdf5-dev puts the serial build's headers here (pkg-config's hdf5 cflags).
#include "/usr/include/hdf5/serial/hdf5.h"
#include <stddef.h>

/// The libhdf5 calls mlpipe makes, loaded on first use.
///
/// libhdf5 is opened with dlopen only when a Keras .h5 file is read: linked in, it and
/// the three dozen libraries it needs (curl, GnuTLS, Kerberos, LDAP, …) would be loaded
/// and relocated by every mlpipe process, a few milliseconds that a no-op `mlpipe run`
/// cannot afford. The types come from the headers, so a call through this table is
/// checked as a direct call would be.
struct mlpipe_hdf5 {
    __typeof__(H5open) *open;
    __typeof__(H5Eset_auto2) *Eset_auto2;
    __typeof__(H5Fopen) *Fopen;
    __typeof__(H5Fclose) *Fclose;
    __typeof__(H5Aexists) *Aexists;
    __typeof__(H5Aopen) *Aopen;
    __typeof__(H5Aclose) *Aclose;
    __typeof__(H5Aget_type) *Aget_type;
    __typeof__(H5Aget_space) *Aget_space;
    __typeof__(H5Aread) *Aread;
    __typeof__(H5Tget_class) *Tget_class;
    __typeof__(H5Tclose) *Tclose;
    __typeof__(H5Tcopy) *Tcopy;
    __typeof__(H5Tis_variable_str) *Tis_variable_str;
    __typeof__(H5Tget_size) *Tget_size;
    __typeof__(H5Sclose) *Sclose;
    __typeof__(H5Sget_simple_extent_npoints) *Sget_simple_extent_npoints;
    __typeof__(H5free_memory) *free_memory;
};

/// Loads libhdf5 once (thread-safe) and returns its calls, or NULL with a sentence in
/// `error` (the library is missing, or lacks one of the calls).
const struct mlpipe_hdf5 *mlpipe_hdf5_load(char *error, size_t error_size);

#endif
