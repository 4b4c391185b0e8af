/* SPDX-License-Identifier: MIT */
/*
 * <errno.h> for freestanding builds: the error numbers only (no errno
 * variable). Xen returns the same Linux/POSIX numbers, negated, so
 * "-EINVAL" from Xen and from the events API compare equal.
 */
#ifndef FIRMWARE_COMPAT_ERRNO_H
#define FIRMWARE_COMPAT_ERRNO_H

#define EPERM    1
#define ENOENT   2
#define ESRCH    3
#define EINTR    4
#define EIO      5
#define ENXIO    6
#define E2BIG    7
#define EBADF    9
#define EAGAIN  11
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define ENODEV  19
#define EINVAL  22
#define ENOSPC  28
#define ERANGE  34
#define ENOSYS  38
#define ENOTSUP 95
#define EOPNOTSUPP 95
#define EALREADY 114

#endif
