#ifdef __linux__
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/vfs.h>
#include "CLinuxCalls.h"

long supervise_getdents64(int fd, void *buffer, size_t length) {
    return (long)getdents64(fd, buffer, length);
}

const size_t supervise_dirent64_reclen_offset = offsetof(struct dirent64, d_reclen);
const size_t supervise_dirent64_name_offset = offsetof(struct dirent64, d_name);

int supervise_write_back(int fd) {
    return sync_file_range(fd, 0, 0,
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
}

long supervise_file_system_type(int fd) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return -1;
    return (long)info.f_type;
}

int supervise_name_this_thread(const char *name) {
    char shortened[16];
    strncpy(shortened, name, sizeof shortened - 1);
    shortened[sizeof shortened - 1] = '\0';
    return pthread_setname_np(pthread_self(), shortened);
}
#else
#include <errno.h>
#include "CLinuxCalls.h"

long supervise_getdents64(int fd, void *buffer, size_t length) {
    (void)fd; (void)buffer; (void)length;
    errno = ENOSYS;
    return -1;
}

const size_t supervise_dirent64_reclen_offset = 0;
const size_t supervise_dirent64_name_offset = 0;

int supervise_write_back(int fd) {
    (void)fd;
    errno = ENOSYS;
    return -1;
}

long supervise_file_system_type(int fd) {
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int supervise_name_this_thread(const char *name) {
    (void)name;
    return ENOSYS;
}
#endif
