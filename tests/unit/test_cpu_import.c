/* ONNX importer errors: malformed or truncated protobuf, unsupported operators, missing or
 * undefined inputs; every node error names the node. Models are built with protobuf-c. */
#include "backend/cpu/onnx_import.h"
#include "onnx.pb-c.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A one-node graph: input x [1,3,4,4] float -> node -> y. */
struct onnx_model {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__GraphProto graph;
    Onnx__NodeProto node, *nodes[1];
    Onnx__ValueInfoProto in, out, *ins[1], *outs[1];
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor tensor;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension dim[4], *dims[4];
    char *node_in[2], *node_out[1];
};

static void model_init(struct onnx_model *m, const char *op, const char *name, const char *in0, const char *in1)
{
    memset(m, 0, sizeof *m);
    onnx__model_proto__init(&m->model);
    onnx__operator_set_id_proto__init(&m->opset);
    onnx__graph_proto__init(&m->graph);
    onnx__node_proto__init(&m->node);
    onnx__value_info_proto__init(&m->in);
    onnx__value_info_proto__init(&m->out);
    onnx__type_proto__init(&m->type);
    onnx__type_proto__tensor__init(&m->tensor);
    onnx__tensor_shape_proto__init(&m->shape);
    static const int64_t d[4] = {1, 3, 4, 4};
    for (int i = 0; i < 4; i++) {
        onnx__tensor_shape_proto__dimension__init(&m->dim[i]);
        m->dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        m->dim[i].dim_value = d[i];
        m->dims[i] = &m->dim[i];
    }
    m->shape = (Onnx__TensorShapeProto){m->shape.base, 4, m->dims};
    m->tensor.has_elem_type = 1;
    m->tensor.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    m->tensor.shape = &m->shape;
    m->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    m->type.tensor_type = &m->tensor;
    m->in.name = "x";
    m->in.type = &m->type;
    m->out.name = "y";
    m->node_in[0] = (char *)in0;
    m->node_in[1] = (char *)in1;
    m->node_out[0] = "y";
    m->node.n_input = in1 ? 2 : 1;
    m->node.input = m->node_in;
    m->node.n_output = 1;
    m->node.output = m->node_out;
    m->node.name = (char *)name;
    m->node.op_type = (char *)op;
    m->nodes[0] = &m->node;
    m->ins[0] = &m->in;
    m->outs[0] = &m->out;
    m->graph.n_node = 1;
    m->graph.node = m->nodes;
    m->graph.n_input = 1;
    m->graph.input = m->ins;
    m->graph.n_output = 1;
    m->graph.output = m->outs;
    m->graph.name = "g";
    m->opset.has_version = 1;
    m->opset.version = 13;
    m->opsets[0] = &m->opset;
    m->model.has_ir_version = 1;
    m->model.ir_version = 7;
    m->model.n_opset_import = 1;
    m->model.opset_import = m->opsets;
    m->model.graph = &m->graph;
}

/* Imports the first `len` bytes of the packed model (all when len is 0); returns rc, fills err. */
static int import(struct onnx_model *m, size_t len, char *err, size_t errlen)
{
    size_t n = onnx__model_proto__get_packed_size(&m->model);
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    onnx__model_proto__pack(&m->model, buf);
    struct plan p;
    memset(&p, 0, sizeof p);
    err[0] = '\0';
    int rc = onnx_import(buf, len ? len : n, NULL, 0, &p, err, errlen);
    if (rc == 0)
        plan_free(&p);
    free(buf);
    return rc;
}

static void expect_error(struct onnx_model *m, size_t len, const char *a, const char *b)
{
    char err[512];
    assert_int_equal(import(m, len, err, sizeof err), -1);
    print_message("    error: %s\n", err);
    assert_non_null(strstr(err, a));
    if (b)
        assert_non_null(strstr(err, b));
}

static void test_valid_relu(void **state)
{
    (void)state;
    struct onnx_model m;
    char err[512];
    model_init(&m, "Relu", "relu_1", "x", NULL);
    assert_int_equal(import(&m, 0, err, sizeof err), 0);
}

static void test_garbage(void **state)
{
    (void)state;
    static const uint8_t junk[] = "\xff\xff\xff\xff this is not protobuf";
    char err[256] = "";
    struct plan p;
    assert_int_equal(onnx_import(junk, sizeof junk, NULL, 0, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a valid ONNX model"));
}

static void test_truncated(void **state)
{
    (void)state;
    struct onnx_model m;
    model_init(&m, "Relu", "relu_1", "x", NULL);
    size_t n = onnx__model_proto__get_packed_size(&m.model);
    for (size_t len = 1; len < n; len += 7) {
        char err[512];
        assert_int_equal(import(&m, len, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
}

static void test_unsupported_op(void **state)
{
    (void)state;
    struct onnx_model m;
    model_init(&m, "LSTM", "my_lstm", "x", NULL);
    expect_error(&m, 0, "node 'my_lstm'", "unsupported operator 'LSTM'");
}

static void test_conv_without_weights(void **state)
{
    (void)state;
    struct onnx_model m;
    model_init(&m, "Conv", "bad_conv", "x", NULL);
    expect_error(&m, 0, "node 'bad_conv'", NULL);
}

static void test_undefined_input(void **state)
{
    (void)state;
    struct onnx_model m;
    model_init(&m, "Add", "add_ghost", "x", "ghost");
    expect_error(&m, 0, "node 'add_ghost'", "'ghost'");
}

static void test_foreign_domain(void **state)
{
    (void)state;
    struct onnx_model m;
    model_init(&m, "Relu", "ms_relu", "x", NULL);
    m.node.domain = "com.microsoft";
    expect_error(&m, 0, "node 'ms_relu'", "com.microsoft");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_relu),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_unsupported_op),
        cmocka_unit_test(test_conv_without_weights),
        cmocka_unit_test(test_undefined_input),
        cmocka_unit_test(test_foreign_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
