/* cuDNN convolution set-up for one CSTEP_CONV: tensor, filter and convolution descriptors
 * (checked against the plan's output shape without a GPU), then, on a GPU, the algorithm:
 * cuDNN's heuristics ranked once at load, the first FP32 (FMA, no TF32) deterministic one
 * that fits the workspace (a non-deterministic one only if there is no other, and then
 * flagged). Nothing here runs on the hot path. */
#ifndef CW_CUDA_CONV_H
#define CW_CUDA_CONV_H
#include "cuda_plan.h"
#include <cudnn.h>
#include <stddef.h>

struct cuda_conv {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t algo;
    size_t ws; /* workspace bytes of the chosen algorithm */
    int deterministic;
};

/* Host only (no device needed). 0, or -1 with err; c is released on failure. */
int cuda_conv_describe(struct cuda_conv *c, const struct cuda_step *s, char *err, size_t errlen);
/* Needs a cuDNN handle on the GPU the model will run on. 0, or -1 with err. */
int cuda_conv_choose(struct cuda_conv *c, cudnnHandle_t h, size_t ws_limit, char *err, size_t errlen);
void cuda_conv_release(struct cuda_conv *c);
const char *cuda_conv_algo_name(cudnnConvolutionFwdAlgo_t a);

#endif
