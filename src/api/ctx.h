/*
 * ctx.h: the process-wide table of configuration contexts behind the krun_*
 * API.  One mutex protects the table and every context's config: ctx_get()
 * returns with it held and ctx_put() releases it, so a krun_* call sees and
 * changes its context atomically.  Ids start at 0 and are never reused.
 */
#ifndef KRUN_API_CTX_H
#define KRUN_API_CTX_H

#include <stdint.h>

#include "config.h"

struct ctx {
    uint32_t id;
    struct vm_config cfg; /* protected by the table lock */
    struct ctx *next;
};

/*
 * Create a context with default config; returns its id (>= 0), -ENOMEM, or
 * -ENOSPC once INT32_MAX ids were handed out.
 */
int32_t ctx_create(void);

/* Look (id) up and lock the table: NULL (not locked) if unknown. */
struct ctx *ctx_get(uint32_t id);

/* Unlock the table after ctx_get(). */
void ctx_put(struct ctx *ctx);

/*
 * Remove context (id) from the table and return it (the caller owns it and
 * frees it with ctx_destroy); NULL if unknown.
 */
struct ctx *ctx_take(uint32_t id);

/* Free a context taken with ctx_take (NULL is fine). */
void ctx_destroy(struct ctx *ctx);

#endif /* KRUN_API_CTX_H */
