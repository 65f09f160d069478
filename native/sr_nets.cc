#include "sr_nets.h"

#include <string>

namespace r3d {

namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1, bool bias = true) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(bias));
}

/** conv3x3-BN-PReLU-conv3x3-BN with an identity skip. */
struct ResidualBlockImpl : torch::nn::Module {
  explicit ResidualBlockImpl(int64_t w)
      : body(torch::nn::Sequential(conv3x3(w, w, 1, false), torch::nn::BatchNorm2d(w),
                                   torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(w)),
                                   conv3x3(w, w, 1, false), torch::nn::BatchNorm2d(w))) {
    register_module("body", body);
  }
  torch::Tensor forward(const torch::Tensor& x) { return x + body->forward(x); }
  torch::nn::Sequential body;
};
TORCH_MODULE(ResidualBlock);

torch::nn::LeakyReLU leaky() { return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)); }

}  // namespace

SrGenerator::SrGenerator(int blocks, int width) {
  head_ = register_module("head", torch::nn::Sequential(conv3x3(1, width),
                                                        torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(width))));
  torch::nn::Sequential body;
  for (int b = 0; b < blocks; ++b) body->push_back(ResidualBlock(width));
  blocks_ = register_module("blocks", body);
  merge_ = register_module("merge", torch::nn::Sequential(conv3x3(width, width, 1, false), torch::nn::BatchNorm2d(width)));
  tail_ = register_module("tail", conv3x3(width, 1));
  // The correction starts small, so an untrained generator is almost the identity.
  torch::NoGradGuard noGrad;
  tail_->weight.mul_(0.1);
  tail_->bias.zero_();
}

torch::Tensor SrGenerator::forward(const torch::Tensor& x) {
  torch::Tensor h = head_->forward(x);
  torch::Tensor f = merge_->forward(blocks_->is_empty() ? h : blocks_->forward(h)) + h;
  return x + tail_->forward(f);
}

SrDiscriminator::SrDiscriminator(int width, int dense) {
  static constexpr int kStride[] = {1, 2, 1, 2, 1, 2, 1, 2};
  static constexpr int kMult[] = {1, 1, 2, 2, 4, 4, 8, 8};
  torch::nn::Sequential f;
  int64_t in = 1;
  for (int i = 0; i < 8; ++i) {
    const int64_t out = int64_t{width} * kMult[i];
    f->push_back(conv3x3(in, out, kStride[i], i == 0));
    if (i > 0) f->push_back(torch::nn::BatchNorm2d(out));
    f->push_back(leaky());
    in = out;
  }
  features_ = register_module("features", f);
  head_ = register_module("head", torch::nn::Sequential(torch::nn::Linear(in, dense), leaky(), torch::nn::Linear(dense, 1)));
}

torch::Tensor SrDiscriminator::forward(const torch::Tensor& x) {
  torch::Tensor f = features_->forward(x).mean({2, 3});
  return head_->forward(f);
}

torch::Tensor gradientL1(const torch::Tensor& a, const torch::Tensor& b) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  auto dx = [](const torch::Tensor& t) { return t.index({Slice(), Slice(), Slice(), Slice(1, None)}) - t.index({Slice(), Slice(), Slice(), Slice(0, -1)}); };
  auto dy = [](const torch::Tensor& t) { return t.index({Slice(), Slice(), Slice(1, None), Slice()}) - t.index({Slice(), Slice(), Slice(0, -1), Slice()}); };
  torch::Tensor gx = (dx(a) - dx(b)).abs(), gy = (dy(a) - dy(b)).abs();
  const bool hasX = a.size(3) > 1, hasY = a.size(2) > 1;
  if (hasX && hasY) return (gx.mean() + gy.mean()) / 2;
  if (hasX) return gx.mean();
  if (hasY) return gy.mean();
  return torch::zeros({}, a.options());
}

}  // namespace r3d
