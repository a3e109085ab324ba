/* main.c: the chain-node binary: parse flags, run a data or control node
 * on the event loop until SIGTERM/SIGINT, shut down cleanly. See
 * docs/chain.md. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cn.h"

int main(int argc, char **argv)
{
    static cn_config cfg;
    char err[512];
    int rc = cn_config_parse(&cfg, argc, argv, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "chain-node: %s\n", err);
        return 254;
    }
    char name[48];
    snprintf(name, sizeof name, "chain-node %s n%u", cfg.role == CN_ROLE_CTRL ? "ctrl" : "data", cfg.id);
    log_init(name, cfg.log_level);

    signal(SIGPIPE, SIG_IGN);

    cn n;
    memset(&n, 0, sizeof n);
    n.cfg = &cfg;
    n.fd = -1;
    n.l = loop_new();
    if (n.l)
        loop_stop_on_signals(n.l);   /* SIGINT/SIGTERM: clean shutdown */
    int status = 0;
    if (!n.l) {
        fprintf(stderr, "chain-node: cannot create the event loop\n");
        return 255;
    }
    node_clock_init(&n.clock, mono_now_ns());
    cn_clocks_init(&n);
    if (cfg.trace_file[0]) {
        char tname[16];
        snprintf(tname, sizeof tname, "n%u", cfg.id);
        n.tr = trace_open(cfg.trace_file, tname, err, sizeof err);
        if (!n.tr) {
            fprintf(stderr, "chain-node: --trace: %s\n", err);
            loop_free(n.l);
            return 255;
        }
        trace_set_clocks(n.tr, &n.lc, &n.vc);
        trace_attach(n.tr, n.l);
        cn_trace_start(&n);
    }
    rc = cfg.role == CN_ROLE_CTRL ? cn_ctrl_start(&n, err, sizeof err) : cn_data_start(&n, err, sizeof err);
    if (rc < 0) {
        LOG_ERROR("%s", err);
        status = 255;
    } else {
        LOG_INFO("up: udp %s%s%s", cfg.listen, cfg.client[0] ? " clients " : "", cfg.client);
        if (loop_run(n.l) < 0 || n.fatal)
            status = 255;
        LOG_INFO("shutting down");
    }
    if (cfg.role == CN_ROLE_CTRL)
        cn_ctrl_stop(&n);
    else
        cn_data_stop(&n);
    if (n.tr)
        trace_close(n.tr);
    loop_free(n.l);
    return status;
}
