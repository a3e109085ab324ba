/* netns.h: named network namespaces made the way `ip netns add` makes them.
 *
 * A namespace is kept alive by a bind mount of the creating thread's
 * ns/net onto /run/netns/<name>; /run/netns itself is a shared mount (made
 * so on first use, as iproute2 does), so `ip netns list` and
 * `ip netns exec <name> ...` work on riftlab's namespaces for debugging.
 * Deleting = unmount + unlink; the kernel frees the namespace (and the
 * veths, bridge and nft tables inside it) once no process or fd holds it.
 *
 * Switching is per thread (setns(CLONE_NEWNET) changes only the caller), so
 * netns_enter/netns_leave bracket a short section that creates sockets in a
 * namespace; a socket keeps its namespace for life. */
#ifndef RIFTLAB_CONTAINERS_NETNS_H
#define RIFTLAB_CONTAINERS_NETNS_H

#include <stddef.h>
#include <sys/types.h>

#define NETNS_RUN_DIR "/run/netns"

/* Creates namespace `name` and returns an O_CLOEXEC fd on it in *fd.
 * Fails (EEXIST) if the name is taken. 0 or -1 with a reason in err. */
int netns_create(const char *name, int *fd, char *err, size_t errlen);

/* Opens an existing named namespace; -1 (errno set) if absent. */
int netns_open(const char *name);

/* Unmounts and unlinks /run/netns/<name>; 0 also if it was already gone. */
int netns_remove(const char *name);

/* Moves the calling thread into namespace fd `fd`; *saved receives an fd on
 * the thread's previous namespace for netns_leave. 0 or -1 (errno). */
int netns_enter(int fd, int *saved);
/* Returns the thread to the namespace saved by netns_enter and closes it. */
int netns_leave(int saved);

/* The namespace's inode (as in /proc/<pid>/ns/net) or 0 if absent: used to
 * find the processes living in a namespace. */
ino_t netns_inode(const char *name);

#endif
