#!/usr/bin/python3
"""Writes ONNX test models with seeded random weights (Debian's python3-onnx, opset 13).

usage: /usr/bin/python3 tools/gen_onnx_models.py OUTDIR [NAME ...]
NAME: tiny_cnn (default), mobilenet_tiny, resnet18, resnet50, mobilenet, resnet18_small, all.
Each model has one float32 input `data` [N,3,H,W] (N symbolic) and one float32 output [N,classes]."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return "%s_%d" % (base, self.n)

    def const(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), nm))
        return nm

    def const_i64(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.int64), nm))
        return nm

    def node(self, op, inputs, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x, cin, cout, k, stride=1, group=1, bn=True, act="relu"):
        fan_in = cin // group * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, k, k))
        ins = [x, self.const("w", w)]
        if not bn:
            ins.append(self.const("b", self.rng.normal(0, 0.05, cout)))
        y = self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                      pads=[k // 2] * 4, group=group)
        if bn:
            y = self.node("BatchNormalization", [
                y, self.const("gamma", self.rng.uniform(0.5, 1.0, cout)),
                self.const("beta", self.rng.normal(0, 0.05, cout)),
                self.const("mean", self.rng.normal(0, 0.05, cout)),
                self.const("var", self.rng.uniform(0.8, 1.2, cout))], epsilon=1e-5)
        if act == "relu":
            y = self.node("Relu", [y])
        elif act == "relu6":
            y = self.node("Clip", [y, self.const("min", 0.0), self.const("max", 6.0)])
        return y

    def head(self, x, cin, classes, softmax):
        y = self.node("GlobalAveragePool", [x])
        y = self.node("Flatten", [y], axis=1)
        w = self.rng.normal(0, np.sqrt(1.0 / cin), (classes, cin))
        y = self.node("Gemm", [y, self.const("fc_w", w), self.const("fc_b", np.zeros(classes))], transB=1)
        return self.node("Softmax", [y], axis=1) if softmax else y

    def model(self, name, x_shape, out, out_shape):
        g = helper.make_graph(self.nodes, name,
                              [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N"] + x_shape[1:])],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N"] + out_shape[1:])],
                              self.inits)
        m = helper.make_model(g, producer_name="clockwork-gen", opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


def resnet(name, depth, size=224, width=64, classes=1000, seed=1):
    b = Builder(seed)
    y = b.conv("data", 3, width, 7, stride=2)
    y = b.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    bottleneck = depth >= 50
    blocks = {18: [2, 2, 2, 2], 50: [3, 4, 6, 3]}[depth]
    cin = width
    for stage, n in enumerate(blocks):
        mid = width * 2 ** stage
        cout = mid * 4 if bottleneck else mid
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            if bottleneck:
                r = b.conv(y, cin, mid, 1)
                r = b.conv(r, mid, mid, 3, stride=stride)
                r = b.conv(r, mid, cout, 1, act=None)
            else:
                r = b.conv(y, cin, mid, 3, stride=stride)
                r = b.conv(r, mid, cout, 3, act=None)
            sc = y if (stride == 1 and cin == cout) else b.conv(y, cin, cout, 1, stride=stride, act=None)
            y = b.node("Relu", [b.node("Add", [r, sc])])
            cin = cout
    y = b.head(y, cin, classes, softmax=False)
    return b.model(name, [1, 3, size, size], y, [1, classes])


def mobilenet(name, size=224, width=32, classes=1000, seed=2, blocks=None):
    b = Builder(seed)
    y = b.conv("data", 3, width, 3, stride=2, act="relu6")
    cin = width
    for cout, stride in blocks or [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                                   (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]:
        y = b.conv(y, cin, cin, 3, stride=stride, group=cin, act="relu6")
        y = b.conv(y, cin, cout, 1, act="relu6")
        cin = cout
    y = b.node("GlobalAveragePool", [y])
    y = b.node("Dropout", [y])
    y = b.node("Reshape", [y, b.const_i64("shape", [0, -1])])
    w = b.rng.normal(0, np.sqrt(1.0 / cin), (cin, classes))
    y = b.node("MatMul", [y, b.const("fc_w", w)])
    y = b.node("Add", [y, b.const("fc_b", b.rng.normal(0, 0.01, classes))])
    y = b.node("Softmax", [y], axis=-1)
    return b.model(name, [1, 3, size, size], y, [1, classes])


def tiny_cnn(name="tiny_cnn", seed=3):
    """32x32 CNN touching conv (strided, dilated, grouped), BN, pools, residual add, mul, concat, gemm."""
    b = Builder(seed)
    y = b.conv("data", 3, 8, 3)
    y = b.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])
    a = b.conv(y, 8, 8, 3, group=2)
    c = b.node("Conv", [y, b.const("w", b.rng.normal(0, 0.2, (8, 8, 3, 3)))],
               kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2])
    c = b.node("Sigmoid", [c])
    y = b.node("Concat", [b.node("Add", [a, y]), b.node("Mul", [c, y])], axis=1)
    y = b.node("AveragePool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    y = b.conv(y, 16, 16, 3, stride=2, bn=False)
    y = b.head(y, 16, 10, softmax=True)
    return b.model(name, [1, 3, 32, 32], y, [1, 10])


MODELS = {
    "tiny_cnn": tiny_cnn,
    "mobilenet_tiny": lambda: mobilenet("mobilenet_tiny", size=32, width=8, classes=10,
                                        blocks=[(16, 1), (32, 2), (32, 1), (64, 2)]),
    "resnet18_small": lambda: resnet("resnet18_small", 18, size=64, width=16, classes=100),
    "resnet18": lambda: resnet("resnet18", 18),
    "resnet50": lambda: resnet("resnet50", 50),
    "mobilenet": lambda: mobilenet("mobilenet"),
}


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    names = argv[2:] or ["tiny_cnn"]
    if names == ["all"]:
        names = list(MODELS)
    for n in names:
        if n not in MODELS:
            print("unknown model %s (choose from %s)" % (n, ", ".join(MODELS)), file=sys.stderr)
            return 2
        path = "%s/%s.onnx" % (argv[1], n)
        onnx.save(MODELS[n](), path)
        print("wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
