/*
 * The file an export goes into (parley_export_file_open): an export holds
 * conversations in clear, so it is private to its owner from its first
 * byte. File I/O, hence here rather than beside the JSON it receives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parley/client.h"

parley_err parley_export_file_open(const char *path, int replace, FILE **out)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL);
    struct stat st;
    int fd, saved;
    FILE *f;

    if (out == NULL)
        return PARLEY_EINVAL;
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return PARLEY_EINVAL;
    fd = open(path, flags, 0600);
    if (fd < 0)
        return errno == EEXIST ? PARLEY_EEXIST : PARLEY_EIO;
    /*
     * The umask may have taken bits away (never added any); a file that
     * existed keeps its mode through O_TRUNC. Either way it ends 0600
     * before a byte is written. Devices and pipes are left as they are.
     */
    if (fstat(fd, &st) != 0 || (S_ISREG(st.st_mode) && fchmod(fd, 0600) != 0))
        goto fail;
    f = fdopen(fd, "w");
    if (f == NULL)
        goto fail;
    *out = f;
    return PARLEY_OK;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return PARLEY_EIO;
}
