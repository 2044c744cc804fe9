/* Dispatch of the HTTP API's endpoints; health, metadata and metrics, which answer at once. */
#include "common/log.h"
#include "http_api_internal.h"
#include <lz4.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TYPE "application/json"
#define SERVER_VERSION "2.0"

struct http_api *http_api_create(struct controller *ctl, char *err, size_t errlen)
{
    struct http_api *api = calloc(1, sizeof *api);
    if (!api || !(api->lz4 = LZ4_createStream())) {
        free(api);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    api->ctl = ctl;
    return api;
}

void http_api_destroy(struct http_api *api)
{
    if (!api)
        return;
    if (api->live_calls)
        log_error("HTTP front end: %u requests still unanswered at shutdown", api->live_calls);
    api_models_free(api);
    LZ4_freeStream(api->lz4);
    free(api);
}

struct http_stats *http_api_stats(struct http_api *api) { return &api->stats; }

void http_call_detach(struct http_call *c) { c->reply = NULL; }

void api_call_free(struct http_call *c)
{
    c->api->live_calls--;
    kserve_request_free(&c->req);
    free(c->outputs);
    free(c->rows);
    free(c);
}

void api_reply(struct http_call *c, int status, const char *content_type, struct http_buf *body, long long json_len)
{
    struct http_reply r = {.status = status, .content_type = content_type, .json_len = json_len};
    r.body = body ? http_buf_take(body, &r.body_len) : NULL;
    if (body && !r.body) { /* the body could not be built */
        r.status = 500;
        r.content_type = JSON_TYPE;
        r.json_len = -1;
        static const char oom[] = "{\"error\":\"controller out of memory\"}";
        r.body = strdup(oom);
        r.body_len = r.body ? sizeof oom - 1 : 0;
    }
    http_stats_count(&c->api->stats, c->endpoint, r.status);
    if (c->reply) {
        c->reply(c->data, &r);
    } else {
        free(r.body);
        c->api->stats.replies_dropped++;
    }
    api_call_free(c);
}

void api_reply_error(struct http_call *c, int status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct http_buf b;
    http_buf_init(&b);
    kserve_error_body(&b, msg);
    api_reply(c, status, JSON_TYPE, &b, -1);
}

/* KServe health and readiness: 200 or 400 with an empty body. */
static int reply_bool(struct http_call *c, int yes)
{
    api_reply(c, yes ? 200 : 400, "text/plain", NULL, -1);
    return 0;
}

static int any_worker_up(const struct http_api *api)
{
    for (unsigned i = 0; i < controller_options_of(api->ctl)->n_workers; i++)
        if (controller_worker_up(api->ctl, i))
            return 1;
    return 0;
}

struct api_model *api_route_model(struct http_call *c, const struct http_route *route, unsigned *id)
{
    api_models_refresh(c->api);
    struct api_model *m = api_model_find(c->api, route->name);
    if (!m || m->n_ids == 0) {
        api_reply_error(c, 404, "unknown model '%s'", route->name);
        return NULL;
    }
    *id = UINT32_MAX;
    if (!route->version[0])
        return m;
    for (unsigned i = 0; i < m->n_ids; i++) {
        char v[16];
        snprintf(v, sizeof v, "%u", m->ids[i]);
        if (!strcmp(v, route->version)) {
            *id = m->ids[i];
            return m;
        }
    }
    api_reply_error(c, 404, "model '%s' has no version '%s' (its versions are its copies' model ids)", route->name,
                    route->version);
    return NULL;
}

static int model_metadata(struct http_call *c, const struct http_route *route)
{
    unsigned id;
    struct api_model *m = api_route_model(c, route, &id);
    if (!m)
        return 0;
    struct http_buf b;
    http_buf_init(&b);
    kserve_model_metadata(&b, &m->spec, id == UINT32_MAX ? m->ids : &id, id == UINT32_MAX ? m->n_ids : 1);
    api_reply(c, 200, JSON_TYPE, &b, -1);
    return 0;
}

static int model_ready(struct http_call *c, const struct http_route *route)
{
    unsigned id;
    struct api_model *m = api_route_model(c, route, &id);
    if (!m)
        return 0;
    enum controller_model_state state = CONTROLLER_MODEL_FAILED;
    if (id != UINT32_MAX)
        controller_model(c->api->ctl, id, &state);
    int serving = id == UINT32_MAX ? api_model_serving(c->api, m) > 0 : state == CONTROLLER_MODEL_SERVING;
    return reply_bool(c, controller_is_serving(c->api->ctl) && serving);
}

static int server_metadata(struct http_call *c)
{
    struct http_buf b;
    http_buf_init(&b);
    kserve_server_metadata(&b, SERVER_VERSION);
    api_reply(c, 200, JSON_TYPE, &b, -1);
    return 0;
}

/* Per id its name's index (UINT32_MAX: not shown), and per name its copies by state. */
static int metrics_names(struct http_api *api, struct prom_source *src, unsigned *name_of_id, const char **names,
                         unsigned *serving, unsigned *unloaded)
{
    for (unsigned id = 0; id < src->n_ids; id++)
        name_of_id[id] = UINT32_MAX;
    for (unsigned n = 0; n < api->n_models; n++) {
        names[n] = api->models[n]->name;
        serving[n] = unloaded[n] = 0;
        for (unsigned i = 0; i < api->models[n]->n_ids; i++) {
            unsigned id = api->models[n]->ids[i];
            enum controller_model_state state;
            controller_model(api->ctl, id, &state);
            serving[n] += state == CONTROLLER_MODEL_SERVING;
            unloaded[n] += state == CONTROLLER_MODEL_UNLOADED;
            if (id < src->n_ids)
                name_of_id[id] = n;
        }
    }
    return 0;
}

static void render_metrics(struct http_api *api, struct http_buf *b)
{
    api_models_refresh(api);
    const struct controller_options *o = controller_options_of(api->ctl);
    struct prom_source src = {.metrics = controller_metrics_of(api->ctl),
                              .n_ids = controller_model_count(api->ctl),
                              .n_names = api->n_models,
                              .serving = controller_is_serving(api->ctl),
                              .n_workers = o->n_workers,
                              .http = &api->stats};
    unsigned *name_of_id = calloc(src.n_ids + 1, sizeof *name_of_id);
    unsigned *counts = calloc(2 * (size_t)src.n_names + 1, sizeof *counts);
    const char **names = calloc(src.n_names + 1, sizeof *names);
    struct prom_worker *workers = calloc(o->n_workers + 1, sizeof *workers);
    char(*addr)[300] = calloc(o->n_workers + 1, sizeof *addr);
    if (name_of_id && counts && names && workers && addr) {
        metrics_names(api, &src, name_of_id, names, counts, counts + src.n_names);
        for (unsigned i = 0; i < o->n_workers; i++) {
            snprintf(addr[i], sizeof addr[i], "%s:%d", o->workers[i].host, o->workers[i].port);
            workers[i] = (struct prom_worker){addr[i], controller_worker_up(api->ctl, i)};
        }
        src.name_of_id = name_of_id, src.names = names, src.workers = workers;
        src.copies_serving = counts, src.copies_unloaded = counts + src.n_names;
        prom_render(b, &src);
    } else {
        b->failed = 1;
    }
    free(name_of_id), free(counts), free(names), free(workers), free(addr);
}

static int metrics(struct http_call *c)
{
    struct http_buf b;
    http_buf_init(&b);
    render_metrics(c->api, &b);
    api_reply(c, 200, PROM_CONTENT_TYPE, &b, -1);
    return 0;
}

/* 1 if the call is still pending, 0 if it was answered. */
static int dispatch(struct http_call *c, const struct http_route *route, const struct http_request_view *req)
{
    switch (route->kind) {
    case HTTP_ROUTE_LIVE: return reply_bool(c, 1);
    case HTTP_ROUTE_READY: return reply_bool(c, controller_is_serving(c->api->ctl) && any_worker_up(c->api));
    case HTTP_ROUTE_SERVER: return server_metadata(c);
    case HTTP_ROUTE_MODEL: return model_metadata(c, route);
    case HTTP_ROUTE_MODEL_READY: return model_ready(c, route);
    case HTTP_ROUTE_INFER: return api_infer(c, route, req);
    case HTTP_ROUTE_REPO_INDEX: return api_repo_index(c, req);
    case HTTP_ROUTE_REPO_LOAD: return api_repo_load(c, route, req);
    case HTTP_ROUTE_REPO_UNLOAD: return api_repo_unload(c, route);
    case HTTP_ROUTE_METRICS: return metrics(c);
    case HTTP_ROUTE_BAD_METHOD:
        api_reply_error(c, 405, "%.*s is not allowed here: use %s", (int)(req->method_len > 16 ? 16 : req->method_len),
                        req->method, route->allowed);
        return 0;
    default:
        api_reply_error(c, 404, "no such endpoint: %.*s %.*s", (int)(req->method_len > 16 ? 16 : req->method_len),
                        req->method, (int)(req->path_len > 200 ? 200 : req->path_len), req->path);
        return 0;
    }
}

struct http_call *http_api_handle(struct http_api *api, const struct http_request_view *req, http_reply_fn reply,
                                  void *data)
{
    struct http_route route;
    http_route_parse(req->method, req->method_len, req->path, req->path_len, req->metrics_port, &route);
    struct http_call *c = calloc(1, sizeof *c);
    if (!c) {
        struct http_reply r = {.status = 503, .content_type = "text/plain", .json_len = -1};
        reply(data, &r);
        return NULL;
    }
    c->api = api;
    c->reply = reply;
    c->data = data;
    c->endpoint = http_route_endpoint(route.kind);
    api->live_calls++;
    return dispatch(c, &route, req) ? c : NULL;
}
