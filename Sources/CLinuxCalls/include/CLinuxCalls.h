// Linux system calls that Swift's Glibc module leaves out: glibc declares
// them only under _GNU_SOURCE (or in headers the module does not include),
// and a header here that defined _GNU_SOURCE would see other declarations
// of the same types than every other module. So these declarations use no
// system header; CLinuxCalls.c includes them with _GNU_SOURCE alone.
// Why each is needed: docs/architecture.md, "Hand-written, and why".
#ifndef C_LINUX_CALLS_H
#define C_LINUX_CALLS_H

#include <stddef.h>

/// getdents64(2): reads directory entries (`struct dirent64`, packed) from
/// `fd` into `buffer`: bytes read, 0 at the end, -1 with errno set.
long supervise_getdents64(int fd, void *buffer, size_t length);

/// Offsets of `struct dirent64`'s fields, so Swift does not hard-code the layout.
extern const size_t supervise_dirent64_reclen_offset;
extern const size_t supervise_dirent64_name_offset;

/// sync_file_range(2) over the whole file, waiting before and after: the
/// file's dirty pages are written back, which write-protects them in every
/// shared mapping, so the next store through a mapping faults and sets the
/// file's change time. 0, or -1 with errno set.
int supervise_write_back(int fd);

/// The `f_type` of the file system holding `fd` (fstatfs(2)); -1 with errno set.
long supervise_file_system_type(int fd);

/// pthread_setname_np(3) for the calling thread: the name `top -H` and a
/// debugger show, cut to the 15 bytes Linux keeps. 0, or an error number.
int supervise_name_this_thread(const char *name);

#endif
