/* ctx.c: the context table (a list; processes hold very few contexts). */
#include "api/ctx.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx *ctx_list; /* protected by ctx_lock */
static uint32_t ctx_next_id; /* protected by ctx_lock */

int32_t ctx_create(void)
{
    struct ctx *ctx = calloc(1, sizeof(*ctx));
    int32_t id;

    if (!ctx)
        return -ENOMEM;
    vm_config_init(&ctx->cfg);
    pthread_mutex_lock(&ctx_lock);
    if (ctx_next_id > INT32_MAX) {
        pthread_mutex_unlock(&ctx_lock);
        ctx_destroy(ctx);
        return -ENOSPC;
    }
    id = (int32_t)ctx_next_id++;
    ctx->id = (uint32_t)id;
    ctx->next = ctx_list;
    ctx_list = ctx;
    pthread_mutex_unlock(&ctx_lock);
    return id;
}

/* The link pointing at context (id), or NULL.  Table lock held. */
static struct ctx **ctx_find(uint32_t id)
{
    for (struct ctx **p = &ctx_list; *p; p = &(*p)->next) {
        if ((*p)->id == id)
            return p;
    }
    return NULL;
}

struct ctx *ctx_get(uint32_t id)
{
    struct ctx **p;

    pthread_mutex_lock(&ctx_lock);
    p = ctx_find(id);
    if (!p) {
        pthread_mutex_unlock(&ctx_lock);
        return NULL;
    }
    return *p;
}

void ctx_put(struct ctx *ctx)
{
    (void)ctx;
    pthread_mutex_unlock(&ctx_lock);
}

struct ctx *ctx_take(uint32_t id)
{
    struct ctx **p, *ctx = NULL;

    pthread_mutex_lock(&ctx_lock);
    p = ctx_find(id);
    if (p) {
        ctx = *p;
        *p = ctx->next;
        ctx->next = NULL;
    }
    pthread_mutex_unlock(&ctx_lock);
    return ctx;
}

void ctx_destroy(struct ctx *ctx)
{
    if (!ctx)
        return;
    vm_config_free(&ctx->cfg);
    free(ctx);
}
