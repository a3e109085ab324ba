/* invariants.c: the invariant checker's entry points (invariants.h): find a
 * run's traces and incarnation starts, run the Raft and chain checks,
 * gather violations, and the `riftlab check --invariants` command. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checker/invariants_int.h"

const char *const inv_check_names[INV_COUNT] = {
    "election_safety",      "vote_once",      "log_matching",  "leader_completeness",
    "state_machine_safety", "acked_stored",   "chain_order",   "chain_acked_kept",
};

void *inv_grow(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 256;
    p = realloc(p, *cap * size);
    if (!p)
        abort();
    return p;
}

const char *inv_name(const inv_run *r, uint16_t node)
{
    return node < r->nnodes ? r->nodes[node].name : "?";
}

void inv_short_hash(char out[16], uint64_t h)
{
    snprintf(out, 16, "%08llx\xe2\x80\xa6", (unsigned long long)(h >> 32));
}

void inv_violation(inv_run *r, int inv, const uint64_t *term, const uint64_t *index,
                   const uint16_t *nodes, int nnodes, uint16_t guilty, int64_t t,
                   const char *fmt, ...)
{
    r->count[inv]++;
    /* Keep the earliest INV_KEEP_PER_CHECK: when full, replace the latest
     * kept one if this one is earlier. */
    size_t slot = r->nkept[inv];
    if (slot == INV_KEEP_PER_CHECK) {
        size_t latest = 0;
        for (size_t i = 1; i < slot; i++)
            if (r->kept[inv][i].t > r->kept[inv][latest].t)
                latest = i;
        if (r->kept[inv][latest].t <= t)
            return;
        slot = latest;
    } else {
        if (!r->kept[inv]) {
            r->kept[inv] = calloc(INV_KEEP_PER_CHECK, sizeof *r->kept[inv]);
            if (!r->kept[inv])
                abort();
        }
        r->nkept[inv]++;
    }
    inv_viol *v = &r->kept[inv][slot];
    memset(v, 0, sizeof *v);
    v->inv = inv;
    if (term)
        v->term = *term, v->has_term = 1;
    if (index)
        v->index = *index, v->has_index = 1;
    for (int i = 0; i < nnodes && v->nnodes < 4; i++) {
        int dup = nodes[i] == INV_NONE;
        for (int k = 0; k < v->nnodes && !dup; k++)
            dup = v->nodes[k] == nodes[i];
        if (!dup)
            v->nodes[v->nnodes++] = nodes[i];
    }
    v->guilty = guilty;
    v->t = t;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
}

/* The whole file: sized by fstat, read until EOF (it may still grow). */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 4096, n = 0;
    char *s = malloc(cap);
    ssize_t got = 0;
    while (s && (got = read(fd, s + n, cap - n)) > 0)
        if ((n += (size_t)got) == cap)
            s = realloc(s, cap *= 2);
    close(fd);
    if (!s || got < 0) {
        free(s);
        return NULL;
    }
    *len = n;
    return s;
}

int inv_name_order(const char *x, const char *y)
{
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static int name_cmp(const void *a, const void *b)
{
    return inv_name_order(*(char *const *)a, *(char *const *)b);
}

/* Where the incarnations' starts come from: the caller, or starts.json. */
typedef struct starts_src {
    int nodes;
    const int64_t (*starts)[16];
    const int *nstarts;
} starts_src;

/* Reads every trace under dir/nodes; returns the number of files, or -1. */
static int load_traces(inv_run *r, const char *dir, const starts_src *src, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/nodes", dir);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: not a run directory (no nodes/: %s)", dir, strerror(errno));
        return -1;
    }
    static const char suffix[] = ".trace.jsonl";
    char *names[INV_MAX_NODES];
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) && n < INV_MAX_NODES;) {
        size_t l = strlen(de->d_name), sl = sizeof suffix - 1;
        if (l > sl && l - sl < 16 && !strcmp(de->d_name + l - sl, suffix) &&
            (names[n] = strndup(de->d_name, l - sl)))
            n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, name_cmp);
    snprintf(path, sizeof path, "%s/nodes/starts.json", dir);
    json_t *starts = json_load_file(path, 0, NULL);
    int rc = n;
    for (int i = 0; i < n; i++) {
        int64_t s[256];
        int ns = 0;
        int id = names[i][0] == 'n' ? atoi(names[i] + 1) : 0;
        if (src && id >= 1 && id <= src->nodes && src->nstarts) {
            for (int k = 0; k < src->nstarts[id - 1] && k < 16; k++)
                s[ns++] = src->starts[id - 1][k];
        } else {
            json_t *a = json_object_get(starts, names[i]);
            for (size_t k = 0; k < json_array_size(a) && ns < 256; k++)
                s[ns++] = json_integer_value(json_array_get(a, k));
        }
        snprintf(path, sizeof path, "%s/nodes/%s.trace.jsonl", dir, names[i]);
        size_t len = 0;
        char *data = rc >= 0 ? read_file(path, &len) : NULL;
        if (rc >= 0 && !data) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            rc = -1;
        }
        if (data)
            inv_read_trace(r, names[i], data, len, ns ? s : NULL, ns);
        free(data);
        free(names[i]);
    }
    json_decref(starts);
    return rc;
}

static int check_run(const char *run_dir, const starts_src *src, inv_result *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", run_dir);
        return -1;
    }
    inv_run *r = malloc(sizeof *r);
    if (!r)
        abort();
    inv_run_init(r);
    int files = load_traces(r, run_dir, src, err, errlen);
    if (files >= 0) {
        inv_check_raft(r);
        inv_check_chain(r);
        inv_build_result(r, files, out);
    }
    inv_run_free(r);
    free(r);
    return files < 0 ? -1 : 0;
}

int inv_check_run(const char *run_dir, inv_result *out, char *err, size_t errlen)
{
    return check_run(run_dir, NULL, out, err, errlen);
}

int inv_check_run_starts(const char *run_dir, int nodes, const int64_t (*starts)[16],
                         const int *nstarts, inv_result *out, char *err, size_t errlen)
{
    starts_src src = {nodes, starts, nstarts};
    return check_run(run_dir, starts && nstarts ? &src : NULL, out, err, errlen);
}

void inv_result_free(inv_result *r)
{
    json_decref(r->detail);
    free(r->roles);
    memset(r, 0, sizeof *r);
}

static const char USAGE[] =
    "usage: riftlab check --invariants RUNDIR [--json]\n"
    "\n"
    "Checks the node traces of a run directory (RUNDIR/nodes/*.trace.jsonl) for\n"
    "Raft's election safety, vote once, log matching, leader completeness, state\n"
    "machine safety and acknowledged-means-stored, and chain replication's order\n"
    "and acknowledged updates kept across reconfigurations. Each violation names\n"
    "the nodes, term/epoch, index/seq, run time and, where the evidence shows it,\n"
    "the guilty node.\n"
    "\n"
    "  --json       print the result object instead of text\n"
    "  -h, --help   this text\n"
    "\n"
    "Exit: 0 valid, 1 invalid, 2 unknown (no traces, or unreadable lines),\n"
    "254 bad usage or not a run directory.\n";

int inv_check_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"invariants", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    for (int i = 1; i < argc; i++)   /* also `--invariants --help` */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(USAGE, stdout);
            return 0;
        }
    const char *dir = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': dir = optarg; break;
        case 'j': json = 1; break;
        case ':':
            fprintf(stderr, "riftlab check: --invariants needs a run directory\n%s", USAGE);
            return 254;
        default:
            fprintf(stderr, "riftlab check: option '%s' does not go with --invariants\n%s",
                    argv[optind - 1], USAGE);
            return 254;
        }
    }
    if (!dir && optind < argc)
        dir = argv[optind++];
    if (!dir || optind < argc) {
        fprintf(stderr, "riftlab check: --invariants takes exactly one run directory\n%s", USAGE);
        return 254;
    }
    char err[4200];
    inv_result res;
    if (inv_check_run(dir, &res, err, sizeof err) < 0) {
        fprintf(stderr, "riftlab check: %s\n", err);
        return 254;
    }
    if (json) {
        json_dumpf(res.detail, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
    } else {
        inv_print_text(stdout, &res);
    }
    fflush(stdout);
    int code = res.valid == 1 ? 0 : res.valid == 0 ? 1 : 2;
    inv_result_free(&res);
    return code;
}
