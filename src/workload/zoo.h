/* The model zoo as workloads see it: the directory $CLOCKWORK_MODEL_DIR (default
 * <source dir>/modelzoo) whose subdirectories holding a model.info are models; a model
 * NAME is loaded through its path prefix DIR/NAME/model. */
#ifndef CW_WL_ZOO_H
#define CW_WL_ZOO_H
#include <stddef.h>

struct zoo {
    char dir[4096];
    char **names; /* sorted */
    size_t count;
};

/* The zoo directory from the environment or the build's default. */
const char *zoo_default_dir(void);
/* Scans dir. Returns 0, or -1 with a message in err if dir cannot be read. */
int zoo_scan(struct zoo *z, const char *dir, char *err, size_t errlen);
void zoo_free(struct zoo *z);
/* Writes DIR/NAME/model into out. Returns 0, or -1 if NAME is not in the zoo. */
int zoo_model_path(const struct zoo *z, const char *name, char *out, size_t outlen);

#endif
