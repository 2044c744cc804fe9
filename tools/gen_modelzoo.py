#!/usr/bin/python3
"""Writes the emulation profiles of modelzoo/ (model.info + model.measurements per model) from the
table below, so that the numbers are reproducible. See modelzoo/README.md for the method and
sources. resnet50_v2 is the measured V100 profile from the Clockwork README and is never
rewritten. Stdlib only.

Usage: tools/gen_modelzoo.py [ZOO_DIR]      (default: the modelzoo/ next to tools/)
       tools/gen_modelzoo.py --check [ZOO_DIR]   exit 1 if any file differs from the table
"""
import os
import sys

KEEP = {"resnet50_v2"}  # measured profile, kept as is
BATCHES = [1, 2, 4, 8, 16]
CLASSES = 1000

# Calibration (see README): the resnet50_v2 V100 profile (112 MB weights, 8.4 ms transfer;
# 2.9 ms at batch 1 ... 22.6 ms at batch 16, i.e. ~1.27 ms per extra image for 4.1 GMACs).
PCIE_BYTES_PER_S = 112e6 / 8.4e-3   # 13.3 GB/s effective host-to-device copy
HBM_BYTES_PER_S = 900e9             # V100 HBM2: reading the weights once per batch
FIXED_NS = 400e3                    # per-inference fixed cost (launch, sync, copies)
PER_LAYER_NS = 20e3                 # per weight layer (kernel launches, small-tensor inefficiency)
NS_PER_GMAC = 0.31e6                # per image per GMAC for dense 3x3/1x1 convolutions

# Relative cost per MAC of each family versus plain convolutions on a GPU.
FAMILY = {
    "resnet": 1.0,      # dense 3x3 / 1x1 convs
    "vgg": 0.8,         # large dense 3x3 convs (Winograd-friendly), big GEMMs
    "alexnet": 0.8,
    "inception": 1.1,   # many small branches
    "darknet": 0.9,
    "densenet": 1.4,    # concatenations, memory bound
    "squeezenet": 1.2,
    "resnext": 1.5,     # grouped convolutions
    "senet": 1.6,       # grouped convs + squeeze-excitation
    "depthwise": 2.5,   # depthwise separable convs are memory bound
}

# name, parameters (millions), GMACs per image, weight layers, family, input side (px)
# Parameters and MACs: torchvision / GluonCV model zoo tables and the models' papers
# (1000 classes, 224x224 input unless stated).
MODELS = [
    ("alexnet", 61.10, 0.71, 8, "alexnet", 224),
    ("darknet53", 41.61, 7.14, 53, "darknet", 224),
    ("densenet121", 7.98, 2.87, 121, "densenet", 224),
    ("densenet161", 28.68, 7.73, 161, "densenet", 224),
    ("densenet169", 14.15, 3.36, 169, "densenet", 224),
    ("densenet201", 20.01, 4.29, 201, "densenet", 224),
    ("googlenet", 6.62, 1.50, 58, "inception", 224),
    ("inceptionv3", 23.83, 5.73, 94, "inception", 299),
    ("mobilenet0.25", 0.47, 0.041, 28, "depthwise", 224),
    ("mobilenet0.5", 1.34, 0.149, 28, "depthwise", 224),
    ("mobilenet0.75", 2.59, 0.325, 28, "depthwise", 224),
    ("mobilenet1.0", 4.23, 0.569, 28, "depthwise", 224),
    ("mobilenetv2_0.25", 1.53, 0.035, 53, "depthwise", 224),
    ("mobilenetv2_0.5", 1.97, 0.097, 53, "depthwise", 224),
    ("mobilenetv2_0.75", 2.64, 0.209, 53, "depthwise", 224),
    ("mobilenetv2_1.0", 3.50, 0.300, 53, "depthwise", 224),
    ("mobilenetv3_large", 5.43, 0.219, 64, "depthwise", 224),
    ("mobilenetv3_small", 2.94, 0.057, 52, "depthwise", 224),
    ("resnet18_v1", 11.69, 1.82, 18, "resnet", 224),
    ("resnet34_v1", 21.80, 3.67, 34, "resnet", 224),
    ("resnet50_v1", 25.56, 4.11, 50, "resnet", 224),
    ("resnet101_v1", 44.55, 7.83, 101, "resnet", 224),
    ("resnet152_v1", 60.19, 11.56, 152, "resnet", 224),
    ("resnet18_v2", 11.70, 1.82, 18, "resnet", 224),
    ("resnet34_v2", 21.81, 3.67, 34, "resnet", 224),
    ("resnet50_v2", 25.57, 4.10, 50, "resnet", 224),  # KEEP: measured
    ("resnet101_v2", 44.56, 7.83, 101, "resnet", 224),
    ("resnet152_v2", 60.20, 11.56, 152, "resnet", 224),
    ("resnet18_v1b", 11.69, 1.82, 18, "resnet", 224),
    ("resnet34_v1b", 21.80, 3.67, 34, "resnet", 224),
    ("resnet50_v1b", 25.56, 4.35, 50, "resnet", 224),
    ("resnet101_v1b", 44.55, 8.07, 101, "resnet", 224),
    ("resnet152_v1b", 60.19, 11.80, 152, "resnet", 224),
    ("resnet18_v1d", 11.70, 2.06, 20, "resnet", 224),
    ("resnet50_v1c", 25.58, 4.59, 52, "resnet", 224),
    ("resnet101_v1c", 44.57, 8.31, 103, "resnet", 224),
    ("resnet152_v1c", 60.21, 12.04, 154, "resnet", 224),
    ("resnet50_v1d", 25.58, 4.59, 52, "resnet", 224),
    ("resnet101_v1d", 44.57, 8.31, 103, "resnet", 224),
    ("resnet152_v1d", 60.21, 12.04, 154, "resnet", 224),
    ("resnet50_v1s", 25.68, 5.65, 52, "resnet", 224),
    ("resnet101_v1s", 44.67, 9.37, 103, "resnet", 224),
    ("resnet152_v1s", 60.32, 13.10, 154, "resnet", 224),
    ("resnext50_32x4d", 25.03, 4.26, 50, "resnext", 224),
    ("resnext101_32x4d", 44.18, 8.01, 101, "resnext", 224),
    ("resnext101_64x4d", 83.46, 15.52, 101, "resnext", 224),
    ("se_resnext50_32x4d", 27.56, 4.27, 50, "senet", 224),
    ("se_resnext101_32x4d", 48.96, 8.03, 101, "senet", 224),
    ("se_resnext101_64x4d", 88.44, 15.54, 101, "senet", 224),
    ("senet_154", 115.09, 20.82, 154, "senet", 224),
    ("squeezenet1.0", 1.25, 0.82, 26, "squeezenet", 224),
    ("squeezenet1.1", 1.24, 0.35, 26, "squeezenet", 224),
    ("vgg11", 132.86, 7.61, 11, "vgg", 224),
    ("vgg13", 133.05, 11.31, 13, "vgg", 224),
    ("vgg16", 138.36, 15.47, 16, "vgg", 224),
    ("vgg19", 143.67, 19.63, 19, "vgg", 224),
    ("vgg11_bn", 132.87, 7.61, 11, "vgg", 224),
    ("vgg13_bn", 133.05, 11.31, 13, "vgg", 224),
    ("vgg16_bn", 138.37, 15.47, 16, "vgg", 224),
    ("vgg19_bn", 143.68, 19.63, 19, "vgg", 224),
    ("xception", 22.86, 8.42, 74, "depthwise", 299),
]


def profile(params_m, gmacs, layers, family, side):
    weights = int(round(params_m * 1e6)) * 4  # fp32
    fixed = FIXED_NS + layers * PER_LAYER_NS + weights / HBM_BYTES_PER_S * 1e9
    per_image = gmacs * NS_PER_GMAC * FAMILY[family]
    return {
        "input_size": 3 * side * side * 4,
        "output_size": CLASSES * 4,
        "weights_size": weights,
        "weights": int(round(weights / PCIE_BYTES_PER_S * 1e9 / 1000)) * 1000,
        "exec": [int(round((fixed + b * per_image) / 1000)) * 1000 for b in BATCHES],
    }


def files_for(name, p, row):
    info = (
        "# %s emulation profile (libconfig), generated by tools/gen_modelzoo.py: sizes in bytes.\n"
        "# %.2fM parameters (fp32), %.3g GMACs per image, %d weight layers, family %s.\n"
        "input_size = %dL;\noutput_size = %dL;\nweights_size = %dL;\nbatch_sizes = [%s];\n"
        % (name, row[1], row[2], row[3], row[4], p["input_size"], p["output_size"], p["weights_size"],
           ", ".join(str(b) for b in BATCHES)))
    meas = "# %s: estimated V100 timings (ns), see modelzoo/README.md: weights transfer, exec per batch size.\n" % name
    meas += "weights = %dL;\n" % p["weights"]
    meas += "".join("b%d = %dL;\n" % (b, t) for b, t in zip(BATCHES, p["exec"]))
    return info, meas


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    zoo = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "modelzoo")
    differ = 0
    for row in MODELS:
        name = row[0]
        if name in KEEP:
            continue
        info, meas = files_for(name, profile(*row[1:]), row)
        d = os.path.join(zoo, name)
        for fname, text in (("model.info", info), ("model.measurements", meas)):
            path = os.path.join(d, fname)
            old = open(path).read() if os.path.exists(path) else None
            if old == text:
                continue
            differ += 1
            if check:
                print("differs: %s" % path)
            else:
                os.makedirs(d, exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
    print("%d models in the table (%d kept as measured), %d file(s) %s"
          % (len(MODELS), len(KEEP), differ, "differ" if check else "written"))
    return 1 if check and differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
