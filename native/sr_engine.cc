// SrEngine: a stacked-GAN stage (generator + discriminator + two Adam optimizers), its training step
// (SRGAN's alternating D/G updates with a content loss of pixel L1 plus image-gradient L1), inference with
// an optional bicubic zoom, and checkpoints that carry the step count for resuming.
#include "sr_engine.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "errors.h"
#include "sr_nets.h"
#include "torch_util.h"

namespace r3d {
namespace {

torch::Tensor blob(const float* p, at::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(p), shape, torch::kFloat32);
}

/** Puts every 4-D parameter of `m` in memory format `f` (values unchanged; training uses the contiguous one). */
void setParamsFormat(torch::nn::Module& m, at::MemoryFormat f) {
  torch::NoGradGuard noGrad;
  for (auto& p : m.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(f));
}

class SrEngineImpl final : public SrEngine {
 public:
  SrEngineImpl(const SrConfig& c, torch::Device device) : cfg_(c), device_(device) {
    torch::manual_seed(c.seed);
    g_ = std::make_shared<SrGenerator>(c.blocks, c.width);
    d_ = std::make_shared<SrDiscriminator>(c.discWidth, c.dense);
    g_->to(device_);
    d_->to(device_);
    // SRGAN's Adam betas (0.9, 0.999).
    gOpt_ = std::make_unique<torch::optim::Adam>(g_->parameters(), torch::optim::AdamOptions(c.learningRate));
    dOpt_ = std::make_unique<torch::optim::Adam>(d_->parameters(), torch::optim::AdamOptions(c.learningRate));
  }

  SrLosses trainStep(const std::vector<float>& xs, const std::vector<float>& ys, int n, int h, int w) override {
    torch::Tensor x = blob(xs.data(), {n, 1, h, w}).to(device_), y = blob(ys.data(), {n, 1, h, w}).to(device_);
    g_->train();
    d_->train();
    SrLosses out;
    torch::Tensor fake = g_->forward(x);
    const bool adversarial = cfg_.advWeight > 0;
    if (adversarial) {
      // Discriminator: real -> 1, generated -> 0 (the generator's output is detached).
      dOpt_->zero_grad();
      torch::Tensor real = d_->forward(y), gen = d_->forward(fake.detach());
      torch::Tensor dLoss = torch::binary_cross_entropy_with_logits(real, torch::ones_like(real)) +
                            torch::binary_cross_entropy_with_logits(gen, torch::zeros_like(gen));
      dLoss.backward();
      dOpt_->step();
      out.discriminator = dLoss.item<float>();
    }
    // Generator: content (pixel L1 + gradient L1) + advWeight * (the discriminator calls the output real).
    gOpt_->zero_grad();
    torch::Tensor pixel = (fake - y).abs().mean();
    torch::Tensor grad = gradientL1(fake, y);
    torch::Tensor loss = pixel + cfg_.gradWeight * grad;
    if (adversarial) {
      torch::Tensor judged = d_->forward(fake);
      torch::Tensor adv = torch::binary_cross_entropy_with_logits(judged, torch::ones_like(judged));
      loss = loss + cfg_.advWeight * adv;
      out.adversarial = adv.item<float>();
    }
    loss.backward();
    gOpt_->step();
    // The generator step also accumulated gradients in D; they are cleared before D's next step.
    out.generator = loss.item<float>();
    out.pixel = pixel.item<float>();
    out.gradient = grad.item<float>();
    return out;
  }

  std::vector<float> apply(const float* x, int n, int h, int w, double zoom, int batchSize) override {
    // Channels-last end to end on the CPU: oneDNN's convolutions then read and write the activations as they
    // are instead of reordering them from and to NCHW around every layer (measured: 2.7x faster at width 16).
    // The weights go back to NCHW afterwards, outside inference mode, so that training is unchanged.
    const bool channelsLast = device_.is_cpu();
    struct Restore {
      SrGenerator& g;
      bool on;
      ~Restore() {
        // A destructor must not throw (that would abort the process): a failed restore is left for the next
        // train step to meet as the channels-last weights it then reads, which are the same values.
        try {
          if (on) setParamsFormat(g, at::MemoryFormat::Contiguous);
        } catch (...) {
        }
        g.train();
      }
    } restore{*g_, channelsLast};
    if (channelsLast) setParamsFormat(*g_, at::MemoryFormat::ChannelsLast);
    c10::InferenceMode guard;
    g_->eval();
    const int oh = zoomedSide(h, zoom), ow = zoomedSide(w, zoom);
    const int64_t inPlane = int64_t{h} * w, outPlane = int64_t{oh} * ow;
    std::vector<float> out(static_cast<size_t>(n) * outPlane);
    for (int64_t i0 = 0; i0 < n; i0 += batchSize) {
      const int64_t nb = std::min<int64_t>(batchSize, n - i0);
      torch::Tensor xb = blob(x + i0 * inPlane, {nb, 1, h, w}).to(device_);
      if (oh != h || ow != w) {
        namespace F = torch::nn::functional;
        xb = F::interpolate(xb, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{oh, ow})
                                    .mode(torch::kBicubic)
                                    .align_corners(false));
      }
      if (channelsLast) xb = xb.contiguous(at::MemoryFormat::ChannelsLast);
      torch::Tensor p = g_->forward(xb).to(torch::kCPU).contiguous();
      std::memcpy(out.data() + i0 * outPlane, p.data_ptr<float>(), sizeof(float) * nb * outPlane);
    }
    return out;
  }

  void save(const std::string& path, int64_t step) override {
    torch::serialize::OutputArchive ar, gAr, dAr, gOptAr, dOptAr;
    g_->save(gAr);
    d_->save(dAr);
    gOpt_->save(gOptAr);
    dOpt_->save(dOptAr);
    ar.write("generator", gAr);
    ar.write("discriminator", dAr);
    ar.write("generator_optimizer", gOptAr);
    ar.write("discriminator_optimizer", dOptAr);
    ar.write("recist3d_sr_config", c10::IValue(configKey()));
    ar.write("recist3d_sr_step", c10::IValue(step));
    saveArchiveAtomic(ar, path, "SR checkpoint");
  }

  int64_t load(const std::string& path) override {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw CodedError("E_NATIVE_IO", "SR checkpoint not found: " + path);
    torch::serialize::InputArchive ar;
    try {
      ar.load_from(path, device_);
    } catch (const std::exception& e) {
      throw CodedError("E_NATIVE_IO", "could not read SR checkpoint " + path + ": " + shortWhat(e));
    }
    c10::IValue key, step;
    if (!ar.try_read("recist3d_sr_config", key) || !key.isString())
      throw CodedError("E_NATIVE_IO", path + " is not a recist3d SR checkpoint (no recist3d_sr_config entry)");
    if (key.toStringRef() != configKey())
      throw CodedError("E_NATIVE_SHAPE", "SR checkpoint " + path + " holds networks {" + key.toStringRef() +
                                             "} but this SrGan is {" + configKey() + "}");
    try {
      torch::serialize::InputArchive gAr, dAr, gOptAr, dOptAr;
      ar.read("generator", gAr);
      ar.read("discriminator", dAr);
      ar.read("generator_optimizer", gOptAr);
      ar.read("discriminator_optimizer", dOptAr);
      g_->load(gAr);
      d_->load(dAr);
      gOpt_->load(gOptAr);
      dOpt_->load(dOptAr);
      ar.read("recist3d_sr_step", step);
    } catch (const std::exception& e) {
      throw CodedError("E_NATIVE_IO", "SR checkpoint " + path + " is incomplete or corrupt: " + shortWhat(e));
    }
    return step.isInt() ? step.toInt() : 0;
  }

  int64_t generatorParameters() const override { return count(*g_); }
  int64_t discriminatorParameters() const override { return count(*d_); }

 private:
  static int64_t count(const torch::nn::Module& m) {
    int64_t total = 0;
    for (const auto& p : m.parameters()) total += p.numel();
    return total;
  }

  std::string configKey() const {
    std::ostringstream s;
    s << "blocks=" << cfg_.blocks << " width=" << cfg_.width << " discWidth=" << cfg_.discWidth
      << " dense=" << cfg_.dense;
    return s.str();
  }

  SrConfig cfg_;
  torch::Device device_;
  std::shared_ptr<SrGenerator> g_;
  std::shared_ptr<SrDiscriminator> d_;
  std::unique_ptr<torch::optim::Adam> gOpt_, dOpt_;
};

}  // namespace

std::unique_ptr<SrEngine> SrEngine::create(const SrConfig& config) {
  torch::Device device = selectDevice(config.device);
  return std::make_unique<SrEngineImpl>(config, device);
}

}  // namespace r3d
