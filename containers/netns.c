/* netns.c: named network namespaces, iproute2-compatible (see netns.h). */
#define _GNU_SOURCE
#include "containers/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes /run/netns a shared mount point, exactly once per process, so that
 * mounts made below it propagate to every mount namespace (what `ip netns
 * add` does: without it a namespace bind-mounted by a process in another
 * mount namespace would be invisible to `ip netns exec`). */
static int netns_rundir_ready(char *err, size_t errlen)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static int ready;
    int rc = -1;
    pthread_mutex_lock(&mu);
    if (ready) {
        pthread_mutex_unlock(&mu);
        return 0;
    }
    if (mkdir(NETNS_RUN_DIR, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", NETNS_RUN_DIR, strerror(errno));
        goto out;
    }
    /* MS_SHARED succeeds only on a mount point; the first time /run/netns
     * is a plain directory, so bind it onto itself and retry. */
    if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) != 0) {
        if (errno != EINVAL ||
            mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) != 0 ||
            mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) != 0) {
            snprintf(err, errlen, "make %s a shared mount: %s", NETNS_RUN_DIR, strerror(errno));
            goto out;
        }
    }
    ready = 1;
    rc = 0;
out:
    pthread_mutex_unlock(&mu);
    return rc;
}

int netns_create(const char *name, int *fd, char *err, size_t errlen)
{
    char path[128];
    int saved = -1, nsfd = -1, file;

    if (netns_rundir_ready(err, errlen) != 0)
        return -1;
    snprintf(path, sizeof path, NETNS_RUN_DIR "/%s", name);
    file = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (file < 0) {
        snprintf(err, errlen, "create %s: %s", path, strerror(errno));
        return -1;
    }
    close(file);
    saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) {
        snprintf(err, errlen, "open own namespace: %s", strerror(errno));
        goto fail;
    }
    /* A new namespace for this thread only, pinned by the bind mount, then
     * back home. thread-self, not self: /proc/self is the thread group
     * leader, which may be another thread in another namespace. */
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(err, errlen, "unshare(CLONE_NEWNET): %s", strerror(errno));
        goto fail;
    }
    nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) != 0) {
        snprintf(err, errlen, "bind mount %s: %s", path, strerror(errno));
        if (setns(saved, CLONE_NEWNET) != 0)
            snprintf(err, errlen, "cannot return to own namespace: %s", strerror(errno));
        goto fail;
    }
    if (setns(saved, CLONE_NEWNET) != 0) {
        snprintf(err, errlen, "return to own namespace: %s", strerror(errno));
        goto fail;
    }
    close(saved);
    *fd = nsfd;
    return 0;
fail:
    if (nsfd >= 0)
        close(nsfd);
    if (saved >= 0)
        close(saved);
    umount2(path, MNT_DETACH);
    unlink(path);
    return -1;
}

int netns_open(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, NETNS_RUN_DIR "/%s", name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

int netns_remove(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, NETNS_RUN_DIR "/%s", name);
    /* MNT_DETACH: never fail because a process still has the file open. */
    umount2(path, MNT_DETACH);
    if (unlink(path) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

int netns_enter(int fd, int *saved)
{
    *saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*saved < 0)
        return -1;
    if (setns(fd, CLONE_NEWNET) != 0) {
        int e = errno;
        close(*saved);
        *saved = -1;
        errno = e;
        return -1;
    }
    return 0;
}

int netns_leave(int saved)
{
    int rc = setns(saved, CLONE_NEWNET);
    close(saved);
    return rc;
}

ino_t netns_inode(const char *name)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, NETNS_RUN_DIR "/%s", name);
    /* Only a mounted file is a namespace (st_dev of nsfs differs from the
     * tmpfs under it); a bare file left by a crash between create and mount
     * has no namespace, so no processes can live in it. */
    if (stat(path, &st) != 0)
        return 0;
    struct stat dir;
    if (stat(NETNS_RUN_DIR, &dir) == 0 && dir.st_dev == st.st_dev)
        return 0;
    return st.st_ino;
}
