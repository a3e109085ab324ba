/* main.c: the raft-node binary: parse flags, run the node on the event
 * loop until SIGTERM/SIGINT, shut down cleanly. See docs/raft-node.md. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "node.h"

static loop *main_loop;
static volatile sig_atomic_t main_stop;

static void on_signal(int sig)
{
    (void)sig;
    main_stop = 1;
    if (main_loop)
        loop_stop_async(main_loop);
}

int main(int argc, char **argv)
{
    node_config cfg;
    char err[512];
    int rc = node_config_parse(&cfg, argc, argv, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "raft-node: %s\n", err);
        return 254;
    }
    char name[32];
    snprintf(name, sizeof name, "raft-node n%u", cfg.id);
    log_init(name, cfg.log_level);
    for (int i = 0; i < cfg.nbugs; i++)
        if (!raft_bug_parse(cfg.bugs[i])) {
            fprintf(stderr, "raft-node: unknown --bug '%s' (see --help)\n", cfg.bugs[i]);
            return 254;
        }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    main_loop = loop_new();
    node n;
    int status = 0;
    if (node_start(&n, &cfg, main_loop) < 0) {
        status = 255;
    } else {
        LOG_INFO("up: clients %s data %s fsync %s", cfg.client_str, cfg.data_dir,
                 cfg.fsync ? "always" : "never");
        while (!main_stop) {
            /* Work the driver left over (it bounds its rounds) must not
             * wait for the next tick: poll without blocking then. */
            if (loop_run_once(main_loop, raft_has_ready(n.r) ? 0 : -1) < 0) {
                status = 255;
                break;
            }
            node_drive(&n);
            if (n.fatal) {
                status = 255;
                break;
            }
        }
        LOG_INFO("shutting down");
    }
    node_stop(&n);
    loop_free(main_loop);
    main_loop = NULL;
    return status;
}
