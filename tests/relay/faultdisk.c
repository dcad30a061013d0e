/*
 * Linked into parley-relay-faults, the relay built for fault-injection
 * tests: its file writes (its own, its sqlite's, its audit log's) fail as
 * on a full or failing disk while the file named by PARLEY_RELAY_FAULTS
 * says so. The file holds one word, optionally followed by a path
 * fragment that limits the fault to files whose path contains it:
 *
 *   full [FRAGMENT]   no free space at all: a write past a file's end fails
 *                     with ENOSPC (one that starts inside is cut short at
 *                     the end, as a file system cuts it at its last
 *                     block); rewriting bytes a file already has succeeds
 *   io [FRAGMENT]     every write, fsync and fdatasync fails with EIO
 *
 * Empty or missing: no fault. The file is read at every write, so a test
 * that changes it knows the relay's next write sees the change.
 *
 * None of this is in parley-relay: these definitions take the place of
 * libc's write, pwrite, fsync and fdatasync in this executable only (for
 * the libraries it loads too, sqlite among them), and hand sockets, pipes
 * and devices straight to libc.
 */
#undef _FILE_OFFSET_BITS /* pwrite and pwrite64 are defined apart below */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum fault { FAULT_NONE, FAULT_FULL, FAULT_IO };

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);

/* libc's own function (or a sanitizer's in front of it), looked up once; any thread. */
static void next(void **slot, const char *name, void *fn, size_t size)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (f == NULL) {
        f = dlsym(RTLD_NEXT, name);
        if (f == NULL) {
            fprintf(stderr, "parley-relay-faults: no %s in libc\n", name);
            abort();
        }
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    memcpy(fn, &f, size); /* POSIX: a dlsym result converts to a function pointer */
}

/* The fault in force for fd: none unless fd is a regular file the control file names. */
static enum fault fault_for(int fd)
{
    const char *ctl = getenv("PARLEY_RELAY_FAULTS");
    char text[256], path[600], link[64];
    enum fault f;
    struct stat st;
    ssize_t n;
    char *frag;
    int cfd;

    if (ctl == NULL || ctl[0] == '\0' || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return FAULT_NONE;
    cfd = open(ctl, O_RDONLY | O_CLOEXEC);
    if (cfd < 0)
        return FAULT_NONE;
    n = read(cfd, text, sizeof(text) - 1);
    close(cfd);
    text[n > 0 ? n : 0] = '\0';
    text[strcspn(text, "\n")] = '\0';
    if (strncmp(text, "full", 4) == 0 && (text[4] == '\0' || text[4] == ' '))
        f = FAULT_FULL;
    else if (strncmp(text, "io", 2) == 0 && (text[2] == '\0' || text[2] == ' '))
        f = FAULT_IO;
    else
        return FAULT_NONE;
    frag = strchr(text, ' ');
    if (frag != NULL && frag[1] != '\0') {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof(path) - 1);
        path[n > 0 ? n : 0] = '\0';
        if (strstr(path, frag + 1) == NULL)
            return FAULT_NONE;
    }
    return f;
}

/*
 * How much of n bytes at off fits within what fd already holds, on a disk
 * with no space left: -1 with errno set when nothing does.
 */
static ssize_t room(int fd, enum fault f, off_t off, size_t n)
{
    struct stat st;

    if (f == FAULT_IO) {
        errno = EIO;
        return -1;
    }
    if (fstat(fd, &st) != 0)
        return -1;
    if (off >= st.st_size) {
        errno = ENOSPC;
        return -1;
    }
    return (ssize_t)((size_t)(st.st_size - off) < n ? (size_t)(st.st_size - off) : n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static void *slot;
    enum fault f = fault_for(fd);
    write_fn real;

    next(&slot, "write", &real, sizeof(real));
    if (f != FAULT_NONE && n > 0) {
        int flags = fcntl(fd, F_GETFL);
        struct stat st;
        off_t off = (flags >= 0 && (flags & O_APPEND) && fstat(fd, &st) == 0)
                        ? st.st_size
                        : lseek(fd, 0, SEEK_CUR);
        ssize_t fits = room(fd, f, off, n);
        if (fits < 0)
            return -1;
        n = (size_t)fits;
    }
    return real(fd, buf, n);
}

static ssize_t pwrite_at(pwrite_fn real, int fd, const void *buf, size_t n, off_t off)
{
    enum fault f = fault_for(fd);

    if (f != FAULT_NONE && n > 0) {
        ssize_t fits = room(fd, f, off, n);
        if (fits < 0)
            return -1;
        n = (size_t)fits;
    }
    return real(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static void *slot;
    pwrite_fn real;

    next(&slot, "pwrite", &real, sizeof(real));
    return pwrite_at(real, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    static void *slot;
    pwrite_fn real;

    next(&slot, "pwrite64", &real, sizeof(real));
    return pwrite_at(real, fd, buf, n, off);
}

static int sync_with(sync_fn real, int fd)
{
    if (fault_for(fd) == FAULT_IO) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int fsync(int fd)
{
    static void *slot;
    sync_fn real;

    next(&slot, "fsync", &real, sizeof(real));
    return sync_with(real, fd);
}

int fdatasync(int fd)
{
    static void *slot;
    sync_fn real;

    next(&slot, "fdatasync", &real, sizeof(real));
    return sync_with(real, fd);
}
