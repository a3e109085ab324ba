/* scenario_yaml.h: internal helpers shared by the scenario loader's files:
 * typed reads of libyaml document nodes, each reporting a file:line:col
 * error on a wrong type or an out-of-range value. */
#ifndef RIFTLAB_SCENARIO_YAML_H
#define RIFTLAB_SCENARIO_YAML_H

#include <stdint.h>
#include <yaml.h>

#include "scenario_load.h"

typedef struct scn_ctx {
    const char *file;
    yaml_document_t *doc;
    scenario *s;
    scn_errors *e;
} scn_ctx;

void scn_err(scn_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
yaml_node_t *scn_node(scn_ctx *c, int id);
const char *scn_type_name(const yaml_node_t *n);

/* Each returns 0 on success, -1 after reporting an error at n. */
int scn_str(scn_ctx *c, yaml_node_t *n, const char *what, const char **out);
int scn_enum(scn_ctx *c, yaml_node_t *n, const char *what, const char *const *names, int count,
             int *out);
int scn_int(scn_ctx *c, yaml_node_t *n, const char *what, int64_t min, int64_t max,
            int64_t *out);
int scn_bool(scn_ctx *c, yaml_node_t *n, const char *what, int *out);
int scn_dur(scn_ctx *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
            uint64_t *out);
int scn_prob(scn_ctx *c, yaml_node_t *n, const char *what, double *out);
int scn_number(scn_ctx *c, yaml_node_t *n, const char *what, double min, double max,
               double *out);

/* Iterate a mapping: checks n is one, reports duplicate and non-scalar keys.
 * fn is called per pair with the key text; it returns 0 if it knew the key,
 * -1 if the key is unknown (then "unknown key" is reported, listing `known`). */
typedef int (*scn_pair_fn)(scn_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                           void *arg);
int scn_map(scn_ctx *c, yaml_node_t *n, const char *section, const char *known,
            scn_pair_fn fn, void *arg);

/* A node name "n<i>" of this scenario; 0-based index or -1 (error reported). */
int scn_node_index(scn_ctx *c, yaml_node_t *n);
/* Link fault keys of a mapping into l (network.links and link-faults). */
int scn_load_links(scn_ctx *c, yaml_node_t *n, const char *section, scn_links *l);

/* Nemesis list (scenario_nemesis.c). */
void scn_load_nemesis(scn_ctx *c, yaml_node_t *n);

#endif
