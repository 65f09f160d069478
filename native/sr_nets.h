// The stacked GAN's networks (paper section 3.4 and its supplement) as torch::nn modules: the generator
// (G1, the denoiser, and G2, the enhancer, differ only in their block count) and the discriminator
// (D1, D2), plus the content loss that stands in for the paper's VGG perceptual loss.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace r3d {

/**
 * SRGAN's generator without sub-pixel layers, fully convolutional (any input size, same size out):
 * conv3x3(1 -> width) + PReLU; `blocks` residual blocks (conv3x3-BN-PReLU-conv3x3-BN + skip); conv3x3-BN plus
 * the skip from the first convolution; conv3x3(width -> 1). The output is the input plus that last map
 * (global residual learning: the net learns the correction, so an untrained net is close to the identity).
 */
struct SrGenerator : torch::nn::Module {
  SrGenerator(int blocks, int width);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential head_{nullptr}, blocks_{nullptr}, merge_{nullptr};
  torch::nn::Conv2d tail_{nullptr};
};

/**
 * SRGAN's discriminator: 8 conv3x3 with strides 1,2,1,2,1,2,1,2 and widths w,w,2w,2w,4w,4w,8w,8w (the
 * paper: w = 64), BatchNorm after all but the first, LeakyReLU 0.2; then a global average pool (so it takes
 * any patch size; SRGAN flattens a fixed 96x96 patch), dense(8w -> dense), LeakyReLU 0.2, dense(dense -> 1).
 * Returns the logit; the sigmoid is applied inside the BCE loss (numerically stable).
 */
struct SrDiscriminator : torch::nn::Module {
  SrDiscriminator(int width, int dense);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential features_{nullptr}, head_{nullptr};
};

/** Mean absolute difference of the horizontal and vertical finite differences of a and b (n, 1, h, w). */
torch::Tensor gradientL1(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace r3d
