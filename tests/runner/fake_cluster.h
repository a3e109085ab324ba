/* fake_cluster.h: a tiny in-test stand-in for a raft cluster: n RESP
 * servers on 127.0.0.1 in one loop thread. Node 0 is the leader and keeps
 * one register per key (GET, SET [NX] [PX], CAS, DEL, RIFT.STATUS,
 * CONSISTENCY, RIFT.CLOCK); the others answer -NOTLEADER 1 <leader addr>.
 * With hang_cas set the leader never answers CAS (the client times out). */
#ifndef RIFTLAB_TEST_FAKE_CLUSTER_H
#define RIFTLAB_TEST_FAKE_CLUSTER_H

#include <pthread.h>

#define FAKE_MAX 5

typedef struct fake_cluster {
    int n;
    int port[FAKE_MAX];
    int hang_cas;
    int commands;                /* handled by the leader (data commands) */
    void *impl;
} fake_cluster;

int fake_cluster_start(fake_cluster *fc, int n);
void fake_cluster_stop(fake_cluster *fc);

#endif
