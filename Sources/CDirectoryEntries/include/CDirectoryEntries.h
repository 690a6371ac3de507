// getdents64(2) for Swift: glibc declares it only under _GNU_SOURCE, which
// Swift's Glibc module does not define (and a header that defined it would
// see other declarations of the same types than every other module). So the
// declarations here use no system header; CDirectoryEntries.c includes
// <dirent.h> with _GNU_SOURCE alone.
//
// Why at all: listing a directory through it costs one call per 16 KiB of
// entries on the descriptor already open, where fdopendir/readdir/closedir
// on a duplicate adds a dup, an fstat, two fcntls and a close per listing.
// `list` lists two directories per bottle: at a thousand bottles that is
// 10,000 system calls (docs/architecture.md, "Hand-written, and why").
#ifndef C_DIRECTORY_ENTRIES_H
#define C_DIRECTORY_ENTRIES_H

#include <stddef.h>

/// Reads directory entries (`struct dirent64`, packed) from `fd` into
/// `buffer`: bytes read, 0 at the end, -1 with errno set (-1 with ENOSYS
/// where there is no getdents64).
long supervise_getdents64(int fd, void *buffer, size_t length);

/// Offsets of `struct dirent64`'s fields, so Swift does not hard-code the layout.
extern const size_t supervise_dirent64_reclen_offset;
extern const size_t supervise_dirent64_type_offset;
extern const size_t supervise_dirent64_name_offset;

#endif
