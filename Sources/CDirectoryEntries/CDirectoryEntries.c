#ifdef __linux__
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include "CDirectoryEntries.h"

long supervise_getdents64(int fd, void *buffer, size_t length) {
    return (long)getdents64(fd, buffer, length);
}

const size_t supervise_dirent64_reclen_offset = offsetof(struct dirent64, d_reclen);
const size_t supervise_dirent64_type_offset = offsetof(struct dirent64, d_type);
const size_t supervise_dirent64_name_offset = offsetof(struct dirent64, d_name);
#else
#include <errno.h>
#include "CDirectoryEntries.h"

long supervise_getdents64(int fd, void *buffer, size_t length) {
    (void)fd; (void)buffer; (void)length;
    errno = ENOSYS;
    return -1;
}

const size_t supervise_dirent64_reclen_offset = 0;
const size_t supervise_dirent64_type_offset = 0;
const size_t supervise_dirent64_name_offset = 0;
#endif
