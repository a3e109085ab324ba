/* check_cli.c: the `riftlab check` command: options, files and directories,
 * one verdict line per history, a summary, text/JSON/HTML output. */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checker/check_cli.h"
#include "checker/checker.h"
#include "checker/invariants.h"
#include "checker/search.h"

static const char USAGE[] =
    "usage: riftlab check HISTORY|DIR... [options]\n"
    "       riftlab check --invariants RUNDIR [--json]   (node traces; see --invariants --help)\n"
    "\n"
    "Checks recorded histories for linearizability, sequential and eventual consistency.\n"
    "A directory is searched (recursively) for *.jsonl, *.edn, *.log and *.txt files.\n"
    "\n"
    "  --model M          register | kv | cas-register | mutex (default: the format's own:\n"
    "                     porcupine-etcd -> cas-register, everything else -> kv)\n"
    "  --consistency L    comma-separated: linearizable,sequential,eventual (default linearizable)\n"
    "  --format F         auto | jsonl | jepsen-edn | porcupine-kv | porcupine-etcd (default auto)\n"
    "  --budget B         per search: N steps, or a duration such as 10s or 500ms;\n"
    "                     a search that runs out answers unknown (default: none for\n"
    "                     linearizability, 200000 steps for the whole-history sequential\n"
    "                     search; the per-key sequential search has no limit)\n"
    "  --html FILE        write a self-contained HTML page of the (first failing) history\n"
    "  --json             print the machine-readable result (an object, or an array for\n"
    "                     several histories) instead of text\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit: 0 all valid, 1 some history invalid, 2 some unknown, 254 bad usage or input.\n";

int check_parse_consistency(const char *s, unsigned *out)
{
    unsigned bits = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "linearizable") == 0) bits |= CHECK_LINEARIZABLE;
        else if (strcmp(t, "sequential") == 0) bits |= CHECK_SEQUENTIAL;
        else if (strcmp(t, "eventual") == 0) bits |= CHECK_EVENTUAL;
        else bits = 1u << 31;
    }
    free(copy);
    if (!bits || bits >> 31)
        return -1;
    *out = bits;
    return 0;
}

int check_parse_budget(const char *s, uint64_t *steps, double *seconds)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || v > 1e15)
        return -1;
    static const struct { const char *unit; double sec; } units[] = {
        {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60},
    };
    if (*end == 0) {
        if (v != (double)(uint64_t)v)
            return -1;
        *steps = (uint64_t)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0) {
            *seconds = v * units[i].sec;
            return 0;
        }
    return -1;
}

typedef struct file_list {
    char **v;
    size_t n, cap;
} file_list;

static void list_add(file_list *l, const char *path)
{
    if (l->n == l->cap)
        l->v = realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 16) * sizeof *l->v);
    l->v[l->n++] = strdup(path);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int history_like(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".edn") == 0 || strcmp(dot, ".log") == 0 ||
                   strcmp(dot, ".txt") == 0);
}

/* Adds path, or the history files below it when it is a directory (sorted). */
static int collect(file_list *l, const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) || depth > 16) {
        list_add(l, path);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        list_add(l, path);
        return 0;
    }
    file_list here = {0};
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *p;
        if (asprintf(&p, "%s/%s", path, e->d_name) < 0)
            continue;
        if (stat(p, &st) == 0 && (S_ISDIR(st.st_mode) || history_like(e->d_name)))
            list_add(&here, p);
        free(p);
    }
    closedir(d);
    qsort(here.v, here.n, sizeof *here.v, str_cmp);
    for (size_t i = 0; i < here.n; i++) {
        if (stat(here.v[i], &st) == 0 && S_ISDIR(st.st_mode))
            collect(l, here.v[i], depth + 1);
        else
            list_add(l, here.v[i]);
        free(here.v[i]);
    }
    free(here.v);
    return 0;
}

static const char *verdict_word(const json_t *v)
{
    return json_is_true(v) ? "true" : json_is_false(v) ? "false" : "unknown";
}

static void print_line(const json_t *r, double ms)
{
    printf("%-40s %-7s", json_string_value(json_object_get(r, "file")), verdict_word(json_object_get(r, "valid")));
    const char *k;
    json_t *c;
    json_object_foreach(json_object_get(r, "checks"), k, c)
        printf(" %s=%s", k, verdict_word(json_object_get(c, "valid")));
    printf("  %.2f ms\n", ms);
}

int check_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},   {"consistency", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},  {"budget", required_argument, NULL, 'b'},
        {"html", required_argument, NULL, 'H'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    for (int i = 1; i < argc; i++)   /* a separate command over a run's traces */
        if (!strcmp(argv[i], "--invariants") || !strncmp(argv[i], "--invariants=", 13))
            return inv_check_main(argc, argv);
    check_options o;
    check_options_default(&o);
    const char *format = "auto", *html = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (!model_find(optarg)) {
                fprintf(stderr, "riftlab check: unknown model '%s' (use register, kv, cas-register or mutex)\n", optarg);
                return 254;
            }
            o.model = optarg;
            break;
        case 'c':
            if (check_parse_consistency(optarg, &o.checks)) {
                fprintf(stderr, "riftlab check: bad --consistency '%s' (comma-separated linearizable, sequential, eventual)\n", optarg);
                return 254;
            }
            break;
        case 'f':
            format = optarg;
            if (strcmp(format, "auto") && strcmp(format, "jsonl") && strcmp(format, "jepsen-edn") &&
                strcmp(format, "porcupine-kv") && strcmp(format, "porcupine-etcd")) {
                fprintf(stderr, "riftlab check: unknown format '%s' (use auto, jsonl, jepsen-edn, porcupine-kv or porcupine-etcd)\n", optarg);
                return 254;
            }
            break;
        case 'b':
            if (check_parse_budget(optarg, &o.budget_steps, &o.budget_seconds)) {
                fprintf(stderr, "riftlab check: bad --budget '%s' (a step count such as 1000000, or a duration such as 10s)\n", optarg);
                return 254;
            }
            break;
        case 'H': html = optarg; break;
        case 'j': json = 1; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default:
            fprintf(stderr, "riftlab check: unknown option '%s'\n%s", argv[optind - 1], USAGE);
            return 254;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "riftlab check: no history given\n%s", USAGE);
        return 254;
    }
    file_list files = {0};
    for (int i = optind; i < argc; i++)
        collect(&files, argv[i], 0);
    json_t *all = json_array();
    size_t nvalid = 0, ninvalid = 0, nunknown = 0, nbad = 0;
    double t_all = search_now();
    int html_done = 0;
    for (size_t i = 0; i < files.n; i++) {
        char err[512];
        history h;
        history_init(&h);
        double t0 = search_now();
        json_t *r = NULL;
        if (history_read_file(&h, files.v[i], format, err, sizeof err) == 0)
            r = check_history(&h, files.v[i], &o, err, sizeof err);
        double ms = (search_now() - t0) * 1e3;
        if (!r) {
            nbad++;
            fprintf(stderr, "riftlab check: %s\n", err);
            json_array_append_new(all, json_pack("{s:s,s:s,s:s}", "file", files.v[i], "valid", "error", "error", err));
            if (!json)
                printf("%-40s %-7s  %.2f ms\n", files.v[i], "error", ms);
        } else {
            json_object_set_new(r, "time_ms", json_real((double)(long)(ms * 1000) / 1000));
            int code = check_exit_code(r);
            nvalid += code == 0;
            ninvalid += code == 1;
            nunknown += code == 2;
            if (!json) {
                print_line(r, ms);
                if (code != 0)
                    check_print_text(stdout, &h, r);
            }
            /* --html: the first failing history, else the first one. */
            if (html && (html_done == 0 || (html_done == 1 && code != 0))) {
                FILE *f = fopen(html, "w");
                if (!f || check_html_page(f, &h, r)) {
                    fprintf(stderr, "riftlab check: cannot write %s\n", html);
                    nbad++;
                }
                if (f)
                    fclose(f);
                html_done = code != 0 ? 2 : 1;
            }
            json_array_append_new(all, r);
        }
        history_free(&h);
        free(files.v[i]);
    }
    free(files.v);
    double total = (search_now() - t_all) * 1e3;
    if (json) {
        json_t *out = json_array_size(all) == 1 && files.n == 1 ? json_array_get(all, 0) : all;
        json_dumpf(out, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
    } else if (files.n > 1) {
        printf("%zu histories: %zu valid, %zu invalid, %zu unknown, %zu bad input; %.1f ms total\n", files.n, nvalid,
               ninvalid, nunknown, nbad, total);
    }
    json_decref(all);
    fflush(stdout);
    return nbad ? 254 : ninvalid ? 1 : nunknown ? 2 : 0;
}
