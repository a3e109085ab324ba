/* export_shiviz.c: a run as a ShiViz log (see export_shiviz.h), and the
 * `riftlab export` subcommand that writes it. */
#define _GNU_SOURCE
#include "export_shiviz.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/parse.h"

long shiviz_write(FILE *f, const st_trace *st, const char *label, int64_t from, int64_t to)
{
    size_t nl = (size_t)st->nlanes;
    uint8_t *keep = calloc(st->nev + 1, 1);
    uint32_t *vc = calloc(st->nev * nl + 1, sizeof *vc);
    if (!keep || !vc)
        abort();
    for (size_t i = 0; i < st->nev; i++)
        keep[i] = st->ev[i].t >= from && st->ev[i].t <= to;
    st_clocks(st, keep, vc);
    fprintf(f, "%s\n%s\n", SHIVIZ_REGEX, SHIVIZ_DELIM);
    /* The delimiter's trace group names the execution: one line, no '='
     * runs that could be read as the delimiter's own. */
    fputs("=== ", f);
    for (const char *p = label; *p; p++)
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, f);
    fputs(" ===\n", f);
    long written = 0;
    for (size_t n = 0; n < st->nev; n++) {
        uint32_t i = st->order[n];
        if (!keep[i])
            continue;
        const st_event *e = &st->ev[i];
        const uint32_t *c = vc + (size_t)i * nl;
        fprintf(f, "%s {", st->lanes[e->lane]);
        int first = 1;
        for (size_t l = 0; l < nl; l++)
            if (c[l]) {   /* ShiViz drops zero entries anyway */
                fprintf(f, "%s\"%s\":%" PRIu32, first ? "" : ", ", st->lanes[l], c[l]);
                first = 0;
            }
        fprintf(f, "} %s @%.6fs", st_text(st, e), (double)e->t / 1e9);
        if (e->type == ST_SEND && e->nrecv == 0)
            fputs(" LOST", f);
        else if (e->type == ST_RECV && e->send < 0)
            fputs(" NO-SEND", f);
        fputc('\n', f);
        written++;
    }
    free(keep);
    free(vc);
    return ferror(f) ? -1 : written;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: riftlab export --shiviz RUNDIR [-o FILE] [--from DUR] [--to DUR]\n"
            "Writes the run's node traces as a ShiViz log (space-time diagram):\n"
            "line 1 the parsing regex, line 2 the executions delimiter, then one line\n"
            "per event, `host {vector clock} event`, in happens-before order.\n"
            "  -o, --output FILE   write there (default: standard output)\n"
            "  --from DUR, --to DUR  only events in this stretch of the run (e.g. 4s, 5500ms)\n"
            "Open it at https://distributedclocks.github.io/shiviz/ with \"upload a file\".\n"
            "Exit: 0 written, 254 bad usage or no traces in RUNDIR, 255 write error.\n");
}

/* "runs/<scenario>/<timestamp>": the last two path components. */
static const char *run_label(const char *dir, char *out, size_t cap)
{
    char tmp[PATH_MAX];
    if (!realpath(dir, tmp))   /* runs/latest names its target */
        snprintf(tmp, sizeof tmp, "%s", dir);
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = 0;
    char *last = strrchr(tmp, '/');
    if (last && last != tmp) {
        *last = 0;
        char *prev = strrchr(tmp, '/');
        *last = '/';
        snprintf(out, cap, "%.200s", prev ? prev + 1 : tmp);
    } else {
        snprintf(out, cap, "%.200s", last ? last + 1 : tmp);
    }
    return out;
}

int export_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"shiviz", no_argument, NULL, 's'}, {"output", required_argument, NULL, 'o'},
        {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    int shiviz = 0, c;
    const char *out = NULL;
    uint64_t from = 0, to = INT64_MAX;
    char err[512];
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': shiviz = 1; break;
        case 'o': out = optarg; break;
        case 'f':
        case 't':
            if (parse_duration_ns(optarg, c == 'f' ? &from : &to, err, sizeof err) < 0) {
                fprintf(stderr, "riftlab export: --%s: %s\n", c == 'f' ? "from" : "to", err);
                return RL_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return RL_EXIT_OK;
        default: usage(stderr); return RL_EXIT_USAGE;
        }
    }
    if (!shiviz || optind != argc - 1) {
        fprintf(stderr, "riftlab export: %s\n", !shiviz ? "say which format (--shiviz)"
                                                        : "give exactly one RUNDIR");
        usage(stderr);
        return RL_EXIT_USAGE;
    }
    const char *dir = argv[optind];
    st_trace st;
    st_init(&st);
    if (st_load_run(&st, dir, err, sizeof err) < 0) {
        fprintf(stderr, "riftlab export: %s\n", err);
        st_free(&st);
        return RL_EXIT_USAGE;
    }
    FILE *f = out && strcmp(out, "-") ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "riftlab export: %s: cannot write\n", out);
        st_free(&st);
        return RL_EXIT_USAGE;
    }
    char label[512];
    long n = shiviz_write(f, &st, run_label(dir, label, sizeof label), (int64_t)from,
                          to > INT64_MAX ? INT64_MAX : (int64_t)to);
    int bad = n < 0 || (f != stdout ? fclose(f) : fflush(f)) != 0;
    if (bad)
        fprintf(stderr, "riftlab export: write failed\n");
    else if (out && strcmp(out, "-"))
        fprintf(stderr, "riftlab export: %ld events of %d nodes to %s%s\n", n, st.nlanes, out,
                st.torn ? " (torn trace lines skipped)" : "");
    st_free(&st);
    return bad ? RL_EXIT_HARNESS : RL_EXIT_OK;
}
