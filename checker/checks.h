/* checks.h: pieces of check_history() that live in their own files
 * (internal to the checker). */
#ifndef RIFTLAB_CHECKER_CHECKS_H
#define RIFTLAB_CHECKER_CHECKS_H

#include <jansson.h>

#include "checker/history.h"
#include "checker/model.h"

/* An op as JSON for evidence ("op", "process", "f", "key", "value", "type",
 * "line", "end_line"). */
json_t *check_op_json(const history *h, const hist_op *ops, uint32_t i);
/* A verdict as JSON: true, false or "unknown". */
json_t *check_verdict_json(int verdict);

/* The eventual-consistency check (eventual.c) over all client ops. */
json_t *eventual_check(const history *h, const hist_op *ops, size_t nops);

#endif
