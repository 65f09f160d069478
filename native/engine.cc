// Engine: a SegModule + Adam, its training loop (shuffling and seeded augmentation), prediction and
// checkpoints; plus thread/device selection, engine info and the exception classifier.
#include "engine.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <opencv2/core.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <sstream>

#include "dist.h"
#include "errors.h"
#include "limits.h"
#include "nets.h"
#include "torch_util.h"

namespace r3d {


namespace {

std::atomic<int> gThreads{1};

/** Make sure the thread running us uses the configured thread count (cheap when unchanged). */
void applyThreads() {
  thread_local int applied = 0;
  const int n = gThreads.load();
  if (applied != n) at::set_num_threads(n), applied = n;
}

/** One long-lived thread that runs all torch work in FIFO order. Detached at exit (never joined). */
class TorchThread {
 public:
  TorchThread() : thread_([this] { loop(); }) { thread_.detach(); }
  void run(const std::function<void()>& fn) {
    std::packaged_task<void()> task([&fn] { fn(); });
    std::future<void> done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    done.get();  // rethrows whatever fn threw
  }

 private:
  void loop() {
    for (;;) {
      std::packaged_task<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      applyThreads();
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<void()>> queue_;
  std::thread thread_;
};

}  // namespace

std::string deviceName() {
  const char* env = std::getenv("RECIST3D_DEVICE");
  return env && *env ? env : "cpu";
}

/** Parses the device name (from RECIST3D_DEVICE, read by the caller on the JS thread) and checks it is usable. */
torch::Device selectDevice(const std::string& d) {
  if (d == "cpu") return torch::kCPU;
  if (d == "cuda" || d.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw CodedError("E_NATIVE_DEVICE",
                       "RECIST3D_DEVICE=" + d +
                           " but torch::cuda::is_available() is false (this addon is linked against a CPU-only "
                           "libtorch, or no GPU/driver is visible). Rebuild against a CUDA libtorch with "
                           "LIBTORCH_DIR=/path/to/libtorch npm run setup, or set RECIST3D_DEVICE=cpu.");
    }
    return torch::Device(d);
  }
  throw CodedError("E_NATIVE_ARG", "RECIST3D_DEVICE must be 'cpu' or 'cuda' but is '" + d + "'");
}

std::string shortWhat(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

void saveArchiveAtomic(torch::serialize::OutputArchive& ar, const std::string& path, const std::string& what) {
  const std::string tmp = path + ".tmp";
  try {
    ar.save_to(tmp);
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw CodedError("E_NATIVE_IO", "could not write " + what + " " + path + ": " + shortWhat(e));
  }
}

namespace {

torch::Tensor blob(const float* p, at::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(p), shape, torch::kFloat32);
}

/** Stores a module's 4-D weights in `format` for the scope's lifetime, then restores NCHW (exception safe). */
class MemoryFormatScope {
 public:
  MemoryFormatScope(torch::nn::Module& m, at::MemoryFormat format) : module_(m) { apply(format); }
  ~MemoryFormatScope() {
    // A destructor must not throw (it may run while an out-of-memory error unwinds): should the copy back
    // fail, the weights stay channels-last, which computes the same values.
    try {
      apply(at::MemoryFormat::Contiguous);
    } catch (...) {
    }
  }
  MemoryFormatScope(const MemoryFormatScope&) = delete;
  MemoryFormatScope& operator=(const MemoryFormatScope&) = delete;

 private:
  void apply(at::MemoryFormat format) {
    torch::NoGradGuard noGrad;
    for (auto& p : module_.parameters()) {
      if (p.dim() == 4) p.set_data(p.data().contiguous(format));
    }
  }
  torch::nn::Module& module_;
};

class EngineImpl final : public Engine {
 public:
  EngineImpl(const NetConfig& c, torch::Device device) : cfg_(c), device_(device) {
    torch::manual_seed(c.seed);
    if (c.arch == "unet") {
      model_ = std::make_shared<UNet>(c.inChannels, c.baseWidth, c.depth);
    } else {
      model_ = std::make_shared<HNN>(c.inChannels, c.baseWidth, c.depth);
    }
    model_->to(device_);
    opt_ = std::make_unique<torch::optim::Adam>(model_->parameters(), torch::optim::AdamOptions(c.learningRate));
  }

  float trainStep(const Batch& b) override {
    applyThreads();
    const int64_t s = cfg_.size;
    torch::Tensor x = blob(b.x.data(), {b.n, cfg_.inChannels, s, s});
    torch::Tensor y = blob(b.y.data(), {b.n, s, s});
    torch::Tensor w = b.w.empty() ? torch::ones({b.n, s, s}) : blob(b.w.data(), {b.n, s, s});
    return step(x, y, w);
  }

  float trainEpoch(const Batch& d, const EpochOptions& o, int* steps, const ProgressFn& progress) override {
    applyThreads();
    const int64_t s = cfg_.size, n = d.n;
    int64_t bs = std::min<int64_t>(o.batchSize, n);
    // maxSamples > 0: the epoch stops after that many images of the (seeded) shuffled order.
    int64_t used = o.maxSamples > 0 ? std::min<int64_t>(n, o.maxSamples) : n;
    int total = static_cast<int>((used + bs - 1) / bs);
    std::mt19937_64 rng(o.seed);
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    if (o.shuffle) {
      for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
    }
    // In a process group (dist.h), every rank shuffles the same order and takes its own shard of it.
    std::mt19937_64 rankRng;
    std::mt19937_64& augRng = processGroupActive() ? shard(order, used, bs, total, o.seed, rankRng) : rng;
    torch::Tensor X = blob(d.x.data(), {n, cfg_.inChannels, s, s});
    torch::Tensor Y = blob(d.y.data(), {n, s, s});
    torch::Tensor W = d.w.empty() ? torch::ones({n, s, s}) : blob(d.w.data(), {n, s, s});
    torch::Tensor idxAll = torch::from_blob(order.data(), {static_cast<int64_t>(order.size())}, torch::kInt64);
    double sum = 0;
    int64_t seen = 0;
    for (int k = 0; k < total; ++k) {
      const int64_t i0 = k * bs, nb = std::min(bs, used - i0);
      torch::Tensor idx = idxAll.narrow(0, i0, nb);
      torch::Tensor x = X.index_select(0, idx), y = Y.index_select(0, idx), w = W.index_select(0, idx);
      augment(x, y, w, o.augment, augRng);
      sum += static_cast<double>(step(x, y, w)) * nb;
      seen += nb;
      if (progress) progress(k + 1, total, static_cast<float>(sum / seen));
    }
    *steps = total;
    return static_cast<float>(sum / std::max<int64_t>(seen, 1));
  }

  std::vector<float> predict(const float* x, int n, int batchSize) override {
    applyThreads();
    // Channels-last (NHWC) convolutions are ~1.5x faster for inference on CPU (oneDNN avoids reorders;
    // bench/infer). Training stays NCHW, where NHWC measured no faster, so the weights are switched back.
    MemoryFormatScope nhwc(*model_, at::MemoryFormat::ChannelsLast);
    c10::InferenceMode guard;
    model_->eval();
    const int64_t s = cfg_.size, c = cfg_.inChannels, plane = s * s;
    std::vector<float> out(static_cast<size_t>(n) * plane);
    for (int64_t i0 = 0; i0 < n; i0 += batchSize) {
      const int64_t nb = std::min<int64_t>(batchSize, n - i0);
      torch::Tensor xb = blob(x + i0 * c * plane, {nb, c, s, s}).to(device_).contiguous(at::MemoryFormat::ChannelsLast);
      torch::Tensor p = torch::sigmoid(model_->outputs(xb).back()).to(torch::kCPU).contiguous();
      std::memcpy(out.data() + i0 * plane, p.data_ptr<float>(), sizeof(float) * nb * plane);
    }
    model_->train();
    return out;
  }

  void save(const std::string& path) override {
    torch::serialize::OutputArchive ar, optAr;
    model_->save(ar);
    opt_->save(optAr);
    ar.write("optimizer", optAr);
    ar.write("recist3d_config", c10::IValue(configKey()));
    // libtorch 1.13's Optimizer::load restores the Adam moments but not the param-group options.
    ar.write("recist3d_learning_rate", c10::IValue(learningRate()));
    saveArchiveAtomic(ar, path, "checkpoint");
  }

  void load(const std::string& path) override {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw CodedError("E_NATIVE_IO", "checkpoint not found: " + path);
    torch::serialize::InputArchive ar;
    c10::IValue key;
    try {
      ar.load_from(path, device_);
    } catch (const std::exception& e) {
      throw CodedError("E_NATIVE_IO", "could not read checkpoint " + path + ": " + shortWhat(e));
    }
    if (!ar.try_read("recist3d_config", key) || !key.isString()) {
      throw CodedError("E_NATIVE_IO", path + " is not a recist3d checkpoint (no recist3d_config entry)");
    }
    if (key.toStringRef() != configKey()) {
      throw CodedError("E_NATIVE_SHAPE", "checkpoint " + path + " holds a network {" + key.toStringRef() +
                                             "} but this SegNet is {" + configKey() + "}");
    }
    try {
      torch::serialize::InputArchive optAr;
      model_->load(ar);
      ar.read("optimizer", optAr);
      opt_->load(optAr);
      c10::IValue lr;
      if (ar.try_read("recist3d_learning_rate", lr) && lr.isDouble()) setLearningRate(lr.toDouble());
    } catch (const std::exception& e) {
      throw CodedError("E_NATIVE_IO", "checkpoint " + path + " is incomplete or corrupt: " + shortWhat(e));
    }
  }

  int64_t parameterCount() const override {
    int64_t total = 0;
    for (const auto& p : model_->parameters()) total += p.numel();
    return total;
  }

  std::vector<float> parameterValues() override {
    torch::NoGradGuard noGrad;
    torch::Tensor flat = flatten(model_->parameters());
    return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  }

  void setLearningRate(double lr) override {
    for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
  }

  double learningRate() const override {
    return static_cast<const torch::optim::AdamOptions&>(opt_->param_groups().front().options()).lr();
  }

 private:
  /**
   * This rank's shard of an epoch (DistributedSampler-like): positions rank, rank + W, ... of the first `used`
   * entries of the shared shuffled order, wrapped so that every rank has ceil(used / W) images and takes the
   * same number of steps; the batch size per rank is ceil(batchSize / W), so a step still averages about
   * `batchSize` images over the job. Augmentation draws from a generator seeded by (seed, rank).
   */
  std::mt19937_64& shard(std::vector<int64_t>& order, int64_t& used, int64_t& bs, int& total, uint64_t seed,
                         std::mt19937_64& rankRng) {
    const GroupInfo g = processGroupInfo();
    const int64_t world = g.worldSize, rank = g.rank;
    // Every rank must hold the same images, or the step counts (and the collectives) would not match:
    // sum(n) and sum(n^2) over ranks equal W*n and W*n^2 only if every rank's n is the same.
    double counts[2] = {static_cast<double>(order.size()), static_cast<double>(order.size()) * order.size()};
    allReduceSum(counts, 2, "the training-set size check");
    if (counts[0] * counts[0] != counts[1] * world)
      throw CodedError("E_DIST", "trainEpoch: the ranks hold different numbers of training images (" +
                                     std::to_string(order.size()) + " on rank " + std::to_string(rank) +
                                     "); every rank must pass the same training set");
    const int64_t per = (used + world - 1) / world;
    std::vector<int64_t> mine(per);
    for (int64_t i = 0; i < per; ++i) mine[i] = order[(rank + i * world) % used];
    order.swap(mine);
    used = per;
    bs = std::min<int64_t>((bs + world - 1) / world, per);
    total = static_cast<int>((used + bs - 1) / bs);
    rankRng.seed(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(rank + 1)));
    return rankRng;
  }

  /** Copies each tensor's values from/to one flat CPU float buffer (gradients, buffers). */
  static torch::Tensor flatten(const std::vector<torch::Tensor>& ts) {
    std::vector<torch::Tensor> flat;
    flat.reserve(ts.size());
    for (const auto& t : ts) flat.push_back(t.reshape({-1}).to(torch::kCPU, torch::kFloat32));
    return torch::cat(flat).contiguous();
  }
  static void unflatten(const torch::Tensor& buf, std::vector<torch::Tensor>& ts) {
    int64_t off = 0;
    for (auto& t : ts) {
      t.copy_(buf.narrow(0, off, t.numel()).view(t.sizes()));
      off += t.numel();
    }
  }

  /** Every rank takes rank 0's batch-norm statistics before a step (as DDP's broadcast_buffers does). */
  void broadcastBuffers() {
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> bufs;
    for (auto& b : model_->buffers())
      if (b.is_floating_point()) bufs.push_back(b);
    if (bufs.empty()) return;
    torch::Tensor flat = flatten(bufs);
    broadcastFromRoot(flat.data_ptr<float>(), flat.numel(), "the batch-norm statistics broadcast");
    unflatten(flat, bufs);
  }

  /**
   * Averages the gradients over the ranks (DDP-like buckets of at most kBucketFloats, in parameter order); the
   * rank's loss rides in the last bucket, so every rank returns the job's mean loss.
   */
  float averageGradients(float localLoss) {
    static constexpr int64_t kBucketFloats = int64_t{25} << 18;  // 25 MiB of floats, DDP's default bucket
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> params = model_->parameters();
    const double world = processGroupInfo().worldSize;
    float loss = localLoss;
    for (size_t i = 0; i < params.size();) {
      std::vector<torch::Tensor> grads;
      int64_t count = 0;
      size_t j = i;
      for (; j < params.size() && (j == i || count + params[j].numel() <= kBucketFloats); ++j) {
        if (!params[j].grad().defined()) params[j].mutable_grad() = torch::zeros_like(params[j]);
        grads.push_back(params[j].grad());
        count += params[j].numel();
      }
      const bool last = j == params.size();
      std::vector<torch::Tensor> parts = grads;
      if (last) parts.push_back(torch::full({1}, localLoss));
      torch::Tensor flat = flatten(parts);
      allReduceSum(flat.data_ptr<float>(), flat.numel(), "the gradient all-reduce");
      flat.div_(world);
      unflatten(flat, grads);
      if (last) loss = flat[count].item<float>();
      i = j;
    }
    return loss;
  }

  float step(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& w) {
    model_->train();
    opt_->zero_grad();
    const bool dist = processGroupActive();
    if (dist) broadcastBuffers();
    const bool balanced = cfg_.loss == "balanced";
    std::vector<torch::Tensor> outs = model_->outputs(x.to(device_));
    torch::Tensor yd = y.to(device_), wd = w.to(device_);
    torch::Tensor loss = segLoss(outs[0], yd, wd, balanced);
    for (size_t i = 1; i < outs.size(); ++i) loss = loss + segLoss(outs[i], yd, wd, balanced);
    if (outs.size() > 1) loss = loss / static_cast<double>(outs.size());
    loss.backward();
    const float mean = dist ? averageGradients(loss.item<float>()) : 0.f;
    opt_->step();
    return dist ? mean : loss.item<float>();
  }

  std::string configKey() const {
    std::ostringstream s;
    s << "arch=" << cfg_.arch << " inChannels=" << cfg_.inChannels << " size=" << cfg_.size
      << " baseWidth=" << cfg_.baseWidth << " depth=" << cfg_.depth;
    return s.str();
  }

  NetConfig cfg_;
  torch::Device device_;
  std::shared_ptr<SegModule> model_;
  std::unique_ptr<torch::optim::Adam> opt_;
};

}  // namespace

void runOnTorchThread(const std::function<void()>& fn) {
  static TorchThread* torchThread = new TorchThread();  // leaked on purpose: no join at process exit
  torchThread->run(fn);
}

std::unique_ptr<Engine> Engine::create(const NetConfig& config) {
  torch::Device device = selectDevice(config.device);
  applyThreads();
  return std::make_unique<EngineImpl>(config, device);
}

void initThreads(int fallback) {
  int n = std::min(fallback, Limits::kMaxThreads);
  if (const char* env = std::getenv("RECIST3D_THREADS")) {
    // An out-of-range value is ignored here; binding.ts refuses it with E_NATIVE_ARG right after loading.
    const int v = std::atoi(env);
    if (v > 0 && v <= Limits::kMaxThreads) n = v;
  }
  try {
    at::set_num_interop_threads(n);  // allowed only once, before any inter-op work
  } catch (const std::exception&) {
  }
  setThreads(n);
}

void setThreads(int n) {
  gThreads.store(n);
  at::set_num_threads(n);
  cv::setNumThreads(n);
}

EngineInfo engineInfo() {
  EngineInfo info;
  info.torchVersion = TORCH_VERSION;
  info.opencvVersion = CV_VERSION;
  info.threads = gThreads.load();
  info.device = deviceName();
  info.cudaAvailable = torch::cuda::is_available();
  info.cudaCompiled = RECIST3D_WITH_CUDA != 0;
  return info;
}

ErrorInfo classifyException(std::exception_ptr e) noexcept {
  try {
    try {
      std::rethrow_exception(e);
    } catch (const CodedError& x) {
      return {x.code, x.what()};
    } catch (const c10::OutOfMemoryError& x) {
      return {"E_NATIVE_OOM", x.what_without_backtrace()};
    } catch (const c10::Error& x) {
      std::string m = x.what_without_backtrace();
      const bool oom = m.find("can't allocate memory") != std::string::npos || m.find("out of memory") != std::string::npos;
      return {oom ? "E_NATIVE_OOM" : "E_NATIVE_TORCH", m};
    } catch (const cv::Exception& x) {
      std::string m = x.what();
      while (!m.empty() && m.back() == '\n') m.pop_back();
      // OpenCV's allocator reports out of memory as cv::Exception(StsNoMem), not std::bad_alloc.
      return {x.code == cv::Error::StsNoMem ? "E_NATIVE_OOM" : "E_NATIVE_OPENCV", m};
    } catch (const std::bad_alloc&) {
      return {"E_NATIVE_OOM", "out of memory (std::bad_alloc)"};
    } catch (const std::filesystem::filesystem_error& x) {
      return {"E_NATIVE_IO", x.what()};
    } catch (const std::exception& x) {
      return {"E_NATIVE_UNKNOWN", x.what()};
    } catch (...) {
      return {"E_NATIVE_UNKNOWN", "unknown native exception"};
    }
  } catch (...) {
    return {"E_NATIVE_OOM", "out of memory while reporting a native error"};
  }
}

}  // namespace r3d
