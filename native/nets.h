// The two segmentation networks as torch::nn modules, their losses, and training-time augmentation. Both map (n, c, h, w) to a list of
// (n, 1, h, w) logits; the last entry is the prediction (UNet: its only output; HNN: the fused output).
#pragma once
#include <torch/torch.h>

#include <random>
#include <vector>

#include "engine.h"

namespace r3d {

struct SegModule : torch::nn::Module {
  /** All outputs that the loss is applied to; back() is the one `predict` uses. */
  virtual std::vector<torch::Tensor> outputs(const torch::Tensor& x) = 0;
};

/** UNet: per level conv3x3-BN-ReLU x2, maxpool down, bilinear upsample + concat up, 1x1 head to 1 logit. */
struct UNet : SegModule {
  UNet(int inChannels, int baseWidth, int depth);
  std::vector<torch::Tensor> outputs(const torch::Tensor& x) override;

 private:
  std::vector<torch::nn::Sequential> down_, up_;
  torch::nn::Conv2d head_{nullptr};
};

/**
 * HNN (HED): VGG-style stages of 3x3 conv + ReLU (2,2,3,3,3 convs) with maxpool between, widths
 * base*[1,2,4,8,8]; a 1x1 side output per stage upsampled bilinearly to the input size; a learned 1x1
 * fusion of the side outputs (initialised to their mean).
 */
struct HNN : SegModule {
  HNN(int inChannels, int baseWidth, int depth);
  std::vector<torch::Tensor> outputs(const torch::Tensor& x) override;

 private:
  std::vector<torch::nn::Sequential> stages_;
  std::vector<torch::nn::Conv2d> sides_;
  torch::nn::Conv2d fuse_{nullptr};
};

}  // namespace r3d

namespace r3d {

/**
 * Loss of one (n, 1, h, w) logit map against targets y and pixel weights w (both (n, h, w)).
 * balanced = false: sum(w * BCE) / sum(w) per image, then the mean over images (an image whose weight sum
 * is 0 contributes 0) -- Eq. 1 of the paper with per-pixel weights.
 * balanced = true: HED class-balanced BCE; per image beta = |Y-| / |Y| over the weighted pixels, positives
 * weighted by beta and negatives by 1 - beta, normalised by sum(w), then the mean over images.
 */
torch::Tensor segLoss(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& w, bool balanced);

}  // namespace r3d

namespace r3d {

/** Uniform double in [0, 1) from a 64-bit engine (platform independent, unlike std distributions). */
double uniform(std::mt19937_64& rng);

/**
 * Seeded per-sample augmentation of x (b, c, h, w), y and w (b, h, w): flips, 90-degree rotations, scale
 * jitter (affine_grid + grid_sample; pixels pulled in from outside get weight 0), intensity jitter.
 */
void augment(torch::Tensor& x, torch::Tensor& y, torch::Tensor& w, const AugmentOptions& a, std::mt19937_64& rng);

}  // namespace r3d
