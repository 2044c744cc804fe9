/* The model repository extension. The repository is the controller's model directory
 * ($CLOCKWORK_MODEL_DIR, as the client's zoo): a load names a model of it, never a path, and
 * what the name resolves to must stay inside it. Load: the name's unloaded copies serve again
 * and, if it has fewer than `copies` in service, the missing ones are loaded on every worker
 * (the controller's LoadModel path). Unload: every copy stops serving (scheduler.h says what
 * that means). Index: the names loaded, and the directory's models not loaded. */
#include "common/status.h"
#include "http_api_internal.h"
#include "workload/zoo.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 100 || name[0] == '.' || name[0] == '-')
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* DIR/NAME/model of the model directory, checked to be inside it when the controller can see
 * the directory (else the workers resolve it in theirs). 0, or an HTTP status with err. */
static int repo_path(const char *name, char *path, size_t len, char *err, size_t errlen)
{
    const char *dir = zoo_default_dir();
    struct zoo z;
    char zerr[300];
    if (zoo_scan(&z, dir, zerr, sizeof zerr) != 0)
        return snprintf(path, len, "%s/%s/model", dir, name) >= (int)len ? (snprintf(err, errlen, "path too long"), 400)
                                                                         : 0;
    int rc = zoo_model_path(&z, name, path, len);
    zoo_free(&z);
    if (rc != 0) {
        snprintf(err, errlen, "no model '%s' in the model directory %s", name, dir);
        return 404;
    }
    char real_dir[PATH_MAX], real_model[PATH_MAX], model_dir[PATH_MAX + 8];
    snprintf(model_dir, sizeof model_dir, "%s/%s", dir, name);
    size_t n = realpath(dir, real_dir) ? strlen(real_dir) : 0;
    if (!n || !realpath(model_dir, real_model) || strncmp(real_model, real_dir, n) != 0 || real_model[n] != '/') {
        snprintf(err, errlen, "model '%s' resolves outside the model directory %s", name, dir);
        return 403;
    }
    return 0;
}

/* Serves the name's unloaded copies again; returns how many serve now. */
static unsigned reenable(struct http_call *c, struct api_model *m)
{
    char err[200];
    for (unsigned i = 0; i < m->n_ids && controller_is_serving(c->api->ctl); i++) {
        enum controller_model_state state;
        controller_model(c->api->ctl, m->ids[i], &state);
        if (state == CONTROLLER_MODEL_UNLOADED)
            controller_set_model_serving(c->api->ctl, m->ids[i], 1, err, sizeof err);
    }
    return api_model_serving(c->api, m);
}

static void load_done(void *data, int status, const char *message, unsigned first, unsigned copies)
{
    (void)first, (void)copies;
    struct http_call *c = data;
    c->model->loading = 0;
    c->status = status;
    snprintf(c->message, sizeof c->message, "%s", message);
    snprintf(c->model->error, sizeof c->model->error, "%s", status == CLIENT_SUCCESS ? "" : message);
    if (c->submitting) /* answered inside controller_load_models: api_repo_load replies */
        return;
    if (status == CLIENT_SUCCESS)
        api_reply(c, 200, "text/plain", NULL, -1);
    else
        api_reply_error(c, 500, "loading model '%s' failed: %s", c->model->name, c->message);
}

int api_repo_load(struct http_call *c, const struct http_route *route, const struct http_request_view *req)
{
    char err[600], path[600];
    int copies, rc = kserve_parse_load(req->body, req->body_len, &copies, err, sizeof err);
    if (!rc && !name_valid(route->name))
        rc = (snprintf(err, sizeof err, "'%s' is not a model name (letters, digits, '.', '_', '-')", route->name), 400);
    if (!rc)
        rc = repo_path(route->name, path, sizeof path, err, sizeof err);
    if (rc) {
        api_reply_error(c, rc, "%s", err);
        return 0;
    }
    api_models_refresh(c->api);
    struct api_model *m = api_model_find(c->api, route->name);
    if (m && m->loading) {
        api_reply_error(c, 409, "a load of model '%s' is in progress", route->name);
        return 0;
    }
    unsigned serving = m ? reenable(c, m) : 0;
    if (serving >= (unsigned)copies) {
        api_reply(c, 200, "text/plain", NULL, -1);
        return 0;
    }
    if (!m && !(m = api_model_for_load(c->api, route->name, path))) {
        api_reply_error(c, 500, "controller out of memory");
        return 0;
    }
    c->model = m;
    m->loading = 1;
    c->submitting = 1;
    c->status = -1;
    rc = controller_load_models(c->api->ctl, m->path, copies - (int)serving, load_done, c, err, sizeof err);
    c->submitting = 0;
    if (rc == 0 && c->status == -1)
        return 1; /* answered later */
    m->loading = 0;
    if (rc != 0)
        api_reply_error(c, 501, "%s", err);
    else if (c->status == CLIENT_SUCCESS)
        api_reply(c, 200, "text/plain", NULL, -1);
    else
        api_reply_error(c, 500, "loading model '%s' failed: %s", m->name, c->message);
    return 0;
}

int api_repo_unload(struct http_call *c, const struct http_route *route)
{
    api_models_refresh(c->api);
    struct api_model *m = api_model_find(c->api, route->name);
    char err[300];
    if (!m || m->n_ids == 0) {
        api_reply_error(c, 404, "unknown model '%s'", route->name);
        return 0;
    }
    if (!controller_is_serving(c->api->ctl)) {
        api_reply_error(c, 503, "models can be unloaded only once the controller has started up");
        return 0;
    }
    for (unsigned i = 0; i < m->n_ids; i++) {
        enum controller_model_state state;
        controller_model(c->api->ctl, m->ids[i], &state);
        if (state == CONTROLLER_MODEL_SERVING &&
            controller_set_model_serving(c->api->ctl, m->ids[i], 0, err, sizeof err) != 0) {
            api_reply_error(c, 501, "%s", err);
            return 0;
        }
    }
    api_reply(c, 200, "text/plain", NULL, -1);
    return 0;
}

static struct kserve_index_entry entry_of(struct http_api *api, const struct api_model *m)
{
    struct kserve_index_entry e = {m->name, "", "UNAVAILABLE", ""};
    if (m->loading)
        e.state = "LOADING";
    else if (m->n_ids == 0)
        e.reason = m->error[0] ? m->error : "not loaded";
    else if (!controller_is_serving(api->ctl))
        e.reason = "controller initializing";
    else if (api_model_serving(api, m) > 0)
        e.state = "READY";
    else
        e.reason = "unloaded";
    return e;
}

int api_repo_index(struct http_call *c, const struct http_request_view *req)
{
    char err[300];
    int ready_only, rc = kserve_parse_index(req->body, req->body_len, &ready_only, err, sizeof err);
    if (rc) {
        api_reply_error(c, rc, "%s", err);
        return 0;
    }
    struct http_api *api = c->api;
    api_models_refresh(api);
    struct zoo z;
    int scanned = zoo_scan(&z, zoo_default_dir(), err, sizeof err) == 0;
    size_t n_zoo = scanned ? z.count : 0;
    struct kserve_index_entry *e = calloc(api->n_models + n_zoo + 1, sizeof *e);
    unsigned n = 0;
    for (unsigned i = 0; e && i < api->n_models; i++)
        e[n++] = entry_of(api, api->models[i]);
    for (size_t i = 0; e && i < n_zoo; i++)
        if (!api_model_find(api, z.names[i]))
            e[n++] = (struct kserve_index_entry){z.names[i], "", "UNAVAILABLE", "not loaded"};
    unsigned kept = 0;
    for (unsigned i = 0; e && i < n; i++)
        if (!ready_only || !strcmp(e[i].state, "READY"))
            e[kept++] = e[i];
    struct http_buf b;
    http_buf_init(&b);
    if (e)
        kserve_repository_index(&b, e, kept);
    else
        b.failed = 1;
    free(e);
    if (scanned)
        zoo_free(&z);
    api_reply(c, 200, "application/json", &b, -1);
    return 0;
}
