#include "nets.h"

#include <random>
#include <string>

namespace r3d {

namespace F = torch::nn::functional;

namespace {

torch::nn::Sequential convBnRelu2(int64_t in, int64_t out) {
  auto conv = [](int64_t i, int64_t o) { return torch::nn::Conv2d(torch::nn::Conv2dOptions(i, o, 3).padding(1).bias(false)); };
  return torch::nn::Sequential(conv(in, out), torch::nn::BatchNorm2d(out), torch::nn::ReLU(true), conv(out, out),
                               torch::nn::BatchNorm2d(out), torch::nn::ReLU(true));
}

torch::Tensor upsampleTo(const torch::Tensor& x, int64_t h, int64_t w) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{h, w})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

UNet::UNet(int inChannels, int baseWidth, int depth) {
  std::vector<int64_t> width(depth);
  for (int i = 0; i < depth; ++i) width[i] = levelWidth("unet", baseWidth, i);
  for (int i = 0; i < depth; ++i) {
    down_.push_back(register_module("down" + std::to_string(i), convBnRelu2(i == 0 ? inChannels : width[i - 1], width[i])));
  }
  for (int i = depth - 2; i >= 0; --i) {
    up_.push_back(register_module("up" + std::to_string(i), convBnRelu2(width[i + 1] + width[i], width[i])));
  }
  head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(width[0], 1, 1)));
}

std::vector<torch::Tensor> UNet::outputs(const torch::Tensor& x) {
  std::vector<torch::Tensor> skips;
  torch::Tensor h = x;
  for (size_t i = 0; i < down_.size(); ++i) {
    if (i > 0) h = F::max_pool2d(h, F::MaxPool2dFuncOptions(2));
    h = down_[i]->forward(h);
    skips.push_back(h);
  }
  for (size_t k = 0; k < up_.size(); ++k) {
    const torch::Tensor& skip = skips[skips.size() - 2 - k];
    h = upsampleTo(h, skip.size(2), skip.size(3));
    h = up_[k]->forward(torch::cat({h, skip}, 1));
  }
  return {head_->forward(h)};
}

HNN::HNN(int inChannels, int baseWidth, int depth) {
  static const int kConvs[] = {2, 2, 3, 3, 3};
  int64_t in = inChannels;
  for (int s = 0; s < depth; ++s) {
    const int64_t out = levelWidth("hnn", baseWidth, s);
    torch::nn::Sequential stage;
    for (int c = 0; c < kConvs[s < 5 ? s : 4]; ++c) {
      stage->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c == 0 ? in : out, out, 3).padding(1)));
      stage->push_back(torch::nn::ReLU(true));
    }
    stages_.push_back(register_module("stage" + std::to_string(s), stage));
    sides_.push_back(register_module("side" + std::to_string(s), torch::nn::Conv2d(torch::nn::Conv2dOptions(out, 1, 1))));
    in = out;
  }
  fuse_ = register_module("fuse", torch::nn::Conv2d(torch::nn::Conv2dOptions(depth, 1, 1)));
  torch::NoGradGuard noGrad;
  fuse_->weight.fill_(1.0 / depth);
  fuse_->bias.zero_();
}

std::vector<torch::Tensor> HNN::outputs(const torch::Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  std::vector<torch::Tensor> outs;
  torch::Tensor f = x;
  for (size_t s = 0; s < stages_.size(); ++s) {
    if (s > 0) f = F::max_pool2d(f, F::MaxPool2dFuncOptions(2));
    f = stages_[s]->forward(f);
    torch::Tensor side = sides_[s]->forward(f);
    outs.push_back(s == 0 ? side : upsampleTo(side, h, w));
  }
  outs.push_back(fuse_->forward(torch::cat(outs, 1)));
  return outs;
}

}  // namespace r3d

namespace r3d {

torch::Tensor segLoss(const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& w, bool balanced) {
  const int64_t n = y.size(0);
  torch::Tensor z = logits.reshape({n, -1});
  torch::Tensor yf = y.reshape({n, -1});
  torch::Tensor wf = w.reshape({n, -1});
  // -log(sigmoid(z)) and -log(1 - sigmoid(z)), both numerically stable.
  torch::Tensor lossPos = F::softplus(-z);
  torch::Tensor lossNeg = F::softplus(z);
  torch::Tensor wPos = wf * yf;
  torch::Tensor wNeg = wf - wPos;
  torch::Tensor den = wf.sum(1);
  torch::Tensor num;
  if (balanced) {
    torch::Tensor beta = (wNeg.sum(1) / den.clamp_min(1e-12)).detach().unsqueeze(1);
    num = (beta * wPos * lossPos + (1 - beta) * wNeg * lossNeg).sum(1);
  } else {
    num = (wPos * lossPos + wNeg * lossNeg).sum(1);
  }
  torch::Tensor perImage = torch::where(den > 0, num / den.clamp_min(1e-12), torch::zeros_like(num));
  return perImage.mean();
}

}  // namespace r3d

namespace r3d {

/** Uniform double in [0, 1) from a 64-bit engine (platform independent, unlike std distributions). */
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/** Flips, 90-degree rotations, scale jitter (affine_grid + grid_sample) and intensity jitter, per sample. */
void augment(torch::Tensor& x, torch::Tensor& y, torch::Tensor& w, const AugmentOptions& a, std::mt19937_64& rng) {
  const int64_t b = x.size(0);
  if (a.flip || a.rot90) {
    std::vector<torch::Tensor> xs, ys, ws;
    for (int64_t i = 0; i < b; ++i) {
      torch::Tensor xi = x[i], yi = y[i], wi = w[i];
      if (a.flip && uniform(rng) < 0.5) {
        xi = xi.flip({2}), yi = yi.flip({1}), wi = wi.flip({1});
      }
      if (a.rot90) {
        const int64_t k = static_cast<int64_t>(rng() % 4);
        if (k) xi = torch::rot90(xi, k, {1, 2}), yi = torch::rot90(yi, k, {0, 1}), wi = torch::rot90(wi, k, {0, 1});
      }
      xs.push_back(xi), ys.push_back(yi), ws.push_back(wi);
    }
    x = torch::stack(xs), y = torch::stack(ys), w = torch::stack(ws);
  }
  if (a.scale > 0 || a.shift > 0) {
    torch::Tensor theta = torch::zeros({b, 2, 3});
    auto t = theta.accessor<float, 3>();
    for (int64_t i = 0; i < b; ++i) {
      // draws in this order so that shift 0 leaves the random sequence (and earlier runs) unchanged
      const double s = a.scale > 0 ? 1 + a.scale * (2 * uniform(rng) - 1) : 1;
      t[i][0][0] = t[i][1][1] = static_cast<float>(1 / s);
      if (a.shift > 0) {
        // normalised coordinates span 2 per image side
        t[i][0][2] = static_cast<float>(2 * a.shift * (2 * uniform(rng) - 1));
        t[i][1][2] = static_cast<float>(2 * a.shift * (2 * uniform(rng) - 1));
      }
    }
    torch::Tensor grid = F::affine_grid(theta.to(x.device()), x.sizes(), false);
    auto opts = [](torch::enumtype::kBilinear mode, bool zeros) {
      auto o = F::GridSampleFuncOptions().mode(mode).align_corners(false);
      return zeros ? o.padding_mode(torch::kZeros) : o.padding_mode(torch::kBorder);
    };
    x = F::grid_sample(x, grid, opts(torch::kBilinear, false));
    y = F::grid_sample(y.unsqueeze(1), grid, opts(torch::kBilinear, false)).squeeze(1);
    // Pixels pulled in from outside the image get weight 0 (ignored).
    w = F::grid_sample(w.unsqueeze(1), grid,
                       F::GridSampleFuncOptions().mode(torch::kNearest).padding_mode(torch::kZeros).align_corners(false))
            .squeeze(1);
  }
  if (a.intensity > 0) {
    torch::Tensor mul = torch::empty({b, 1, 1, 1}), add = torch::empty({b, 1, 1, 1});
    for (int64_t i = 0; i < b; ++i) {
      mul[i].fill_(1 + a.intensity * (2 * uniform(rng) - 1));
      add[i].fill_(a.intensity * (2 * uniform(rng) - 1));
    }
    x = x * mul.to(x.device()) + add.to(x.device());
  }
}

}  // namespace r3d
