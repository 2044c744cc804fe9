/* The KServe tests' model: input [2,3] (6 floats) named INPUT0 and output [4] named OUTPUT0,
 * shared so the parser tests and the fast-path tests describe the same model. */
#ifndef CW_TEST_KSERVE_FIXTURE_H
#define CW_TEST_KSERVE_FIXTURE_H
#include "controller/http/kserve.h"
#include <stdio.h>

static inline struct kserve_model kserve_fixture_model(void)
{
    struct kserve_model m = {.name = "tiny"};
    snprintf(m.input.name, sizeof m.input.name, "INPUT0");
    m.input.rank = 2, m.input.dims[0] = 2, m.input.dims[1] = 3, m.input.elems = 6;
    snprintf(m.output.name, sizeof m.output.name, "OUTPUT0");
    m.output.rank = 1, m.output.dims[0] = 4, m.output.elems = 4;
    return m;
}

#endif
