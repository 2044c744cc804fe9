/* The API's model names: the controller's model ids grouped by the path prefix they were
 * loaded from (DIR/NAME/model is model NAME; a second path with the same NAME becomes
 * NAME.2). Ids only ever get added, so the table grows incrementally. Shapes come from the
 * model's .info when the controller can read it (converted models), else an input is the
 * flat vector of its input_size / 4 values. */
#include "common/log.h"
#include "http_api_internal.h"
#include "model/model_path.h"
#include "model/model_shape.h"
#include <stdlib.h>
#include <string.h>

/* NAME of DIR/NAME/model, else the last component of the path. */
static void name_of_path(const char *path, char *out, size_t len)
{
    const char *end = path + strlen(path);
    const char *last = strrchr(path, '/');
    if (last && !strcmp(last + 1, "model") && last > path) {
        end = last;
        last = end - 1;
        while (last > path && *last != '/')
            last--;
    }
    const char *start = last && *last == '/' ? last + 1 : path;
    snprintf(out, len, "%.*s", (int)(end - start), start);
}

struct api_model *api_model_find(struct http_api *api, const char *name)
{
    for (unsigned i = 0; i < api->n_models; i++)
        if (!strcmp(api->models[i]->name, name))
            return api->models[i];
    return NULL;
}

static struct api_model *find_path(struct http_api *api, const char *path)
{
    for (unsigned i = 0; i < api->n_models; i++)
        if (!strcmp(api->models[i]->path, path))
            return api->models[i];
    return NULL;
}

/* The batch-1 shape without a leading batch dimension of 1, if it has the model's elems. */
static void set_tensor(struct kserve_tensor *t, const char *name, uint64_t bytes, const struct model_shape *s)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->elems = bytes / 4;
    unsigned skip = s->rank > 1 && s->dims[0] == 1;
    if (s->rank > skip && s->rank - skip <= KSERVE_MAX_RANK && model_shape_elems(s) == t->elems) {
        t->rank = s->rank - skip;
        memcpy(t->dims, s->dims + skip, t->rank * sizeof t->dims[0]);
        return;
    }
    t->rank = 1;
    t->dims[0] = (int64_t)t->elems;
}

static void describe(struct api_model *m, const struct model_info *info)
{
    struct model_shape in = {0}, out = {0};
    char resolved[600], err[256];
    /* the path as the client gave it, else the same model in this machine's model directory */
    if (model_shape_read(m->path, &in, &out, err, sizeof err) != 0 &&
        (model_path_resolve(model_path_default_dir(), m->path, resolved, sizeof resolved, err, sizeof err) != 0 ||
         model_shape_read(resolved, &in, &out, err, sizeof err) != 0))
        memset(&in, 0, sizeof in), memset(&out, 0, sizeof out); /* not readable here: flat tensors */
    set_tensor(&m->spec.input, "INPUT0", info->input_size, &in);
    set_tensor(&m->spec.output, "OUTPUT0", info->output_size, &out);
    m->fp32 = info->input_size % 4 == 0 && info->output_size % 4 == 0 && info->input_size && info->output_size;
    m->b1_exec_ns = info->n_batch_sizes ? info->exec_ns[0] : 0;
}

static struct api_model *add_model(struct http_api *api, const char *path)
{
    if (api->n_models == api->cap_models) {
        unsigned cap = api->cap_models ? api->cap_models * 2 : 16;
        struct api_model **a = realloc(api->models, cap * sizeof *a);
        if (!a)
            return NULL;
        api->models = a;
        api->cap_models = cap;
    }
    struct api_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    snprintf(m->path, sizeof m->path, "%s", path);
    char base[100];
    name_of_path(path, base, sizeof base);
    snprintf(m->name, sizeof m->name, "%s", base);
    for (unsigned k = 2; api_model_find(api, m->name); k++)
        snprintf(m->name, sizeof m->name, "%s.%u", base, k);
    m->spec.name = m->name;
    api->models[api->n_models++] = m;
    return m;
}

static int add_id(struct api_model *m, unsigned id)
{
    if (m->n_ids == m->cap_ids) {
        unsigned cap = m->cap_ids ? m->cap_ids * 2 : 4;
        unsigned *ids = realloc(m->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        m->ids = ids;
        m->cap_ids = cap;
    }
    m->ids[m->n_ids++] = id;
    return 0;
}

void api_models_refresh(struct http_api *api)
{
    unsigned n = controller_model_count(api->ctl);
    for (; api->ids_seen < n; api->ids_seen++) {
        enum controller_model_state state;
        const struct model_info *info = controller_model(api->ctl, api->ids_seen, &state);
        if (state == CONTROLLER_MODEL_FAILED) /* a failed load's retired ids */
            continue;
        struct api_model *m = find_path(api, info->source);
        if (!m && !(m = add_model(api, info->source)))
            break;
        if (m->n_ids == 0)
            describe(m, info);
        if (add_id(m, api->ids_seen) != 0)
            break;
    }
}

struct api_model *api_model_for_load(struct http_api *api, const char *name, const char *path)
{
    struct api_model *m = api_model_find(api, name);
    if (m)
        return m;
    m = find_path(api, path);
    return m ? m : add_model(api, path);
}

unsigned api_model_serving(const struct http_api *api, const struct api_model *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->n_ids; i++) {
        enum controller_model_state state;
        if (controller_model(api->ctl, m->ids[i], &state) && state == CONTROLLER_MODEL_SERVING)
            n++;
    }
    return n;
}

void api_models_free(struct http_api *api)
{
    for (unsigned i = 0; i < api->n_models; i++) {
        free(api->models[i]->ids);
        free(api->models[i]);
    }
    free(api->models);
    api->models = NULL;
    api->n_models = api->cap_models = 0;
}
