#include "model_files.h"
#include <stdio.h>

static void write_shape(FILE *f, const char *key, const struct plan_tensor *t)
{
    fprintf(f, "%s = [", key);
    for (uint32_t i = 0; i < t->ndim; i++)
        fprintf(f, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
    fprintf(f, "];\n");
}

int model_files_write_info(const char *prefix, const struct plan *p, const unsigned *batch_sizes, unsigned n, char *err,
                           size_t errlen)
{
    char file[1100];
    snprintf(file, sizeof file, "%s.info", prefix);
    FILE *f = fopen(file, "w");
    if (!f)
        return snprintf(err, errlen, "cannot write %s", file), -1;
    fprintf(f, "# Clockwork model (converted from ONNX by `convert`; plan in model.plan, weights in model.weights)\n");
    fprintf(f, "input_size = %lluL;\n", (unsigned long long)plan_tensor_elems(p, p->inputs[0], 1) * 4);
    fprintf(f, "output_size = %lluL;\n", (unsigned long long)plan_tensor_elems(p, p->outputs[0], 1) * 4);
    fprintf(f, "weights_size = %lluL;\n", (unsigned long long)(p->weights_size ? p->weights_size : 1));
    fprintf(f, "batch_sizes = [");
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%s%u", i ? ", " : "", batch_sizes[i]);
    fprintf(f, "];\n");
    write_shape(f, "input_shape", &p->tensors[p->inputs[0]]);
    write_shape(f, "output_shape", &p->tensors[p->outputs[0]]);
    fprintf(f, "dtype = \"float32\";\n");
    return fclose(f) == 0 ? 0 : (snprintf(err, errlen, "cannot write %s", file), -1);
}

int model_files_write_measurements(const char *prefix, const struct model_info *m, char *err, size_t errlen)
{
    char file[1100];
    snprintf(file, sizeof file, "%s.measurements", prefix);
    FILE *f = fopen(file, "w");
    if (!f)
        return snprintf(err, errlen, "cannot write %s", file), -1;
    fprintf(f, "# Measured on this machine by `convert` (ns, median): weights load and exec per batch size\n");
    fprintf(f, "weights = %lluL;\n", (unsigned long long)m->weights_load_ns);
    for (unsigned i = 0; i < m->n_batch_sizes; i++)
        fprintf(f, "b%u = %lluL;\n", m->batch_sizes[i], (unsigned long long)m->exec_ns[i]);
    return fclose(f) == 0 ? 0 : (snprintf(err, errlen, "cannot write %s", file), -1);
}
