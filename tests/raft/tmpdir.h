/* tmpdir.h: scratch directories for the storage tests and the storage fuzz
 * target: make one under $TMPDIR (or /tmp), remove one with everything in
 * it. */
#ifndef RIFTLAB_TESTS_RAFT_TMPDIR_H
#define RIFTLAB_TESTS_RAFT_TMPDIR_H

#include <stddef.h>

/* Creates $TMPDIR/<prefix>XXXXXX (mode 0700) and writes its path to out.
 * Returns 0 or -1. */
int tmpdir_make(char *out, size_t cap, const char *prefix);

/* Removes path and everything below it (best effort; never follows a
 * symlink out of the tree: entries are unlinked, only real directories are
 * descended into). */
void tmpdir_remove(const char *path);

#endif
