// The libtorch side of the engine behind a plain C++ interface, so that only engine.cc and nets.cc
// include the (slow to compile) torch headers. No N-API here: everything runs on worker threads.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace r3d {

struct NetConfig {
  std::string arch = "unet";  // "unet" | "hnn"
  int inChannels = 1;
  int size = 64;  // square input H = W
  int baseWidth = 16;
  int depth = 4;  // unet levels / hnn stages
  uint64_t seed = 0;
  double learningRate = 1e-3;
  std::string loss = "bce";  // "bce" | "balanced"
  std::string device = "cpu";  // "cpu" | "cuda" | "cuda:<i>" (RECIST3D_DEVICE, read on the JS thread)
};

/** Channels of UNet level / HNN stage `level`: base << level (unet), base * {1,2,4,8,8}[min(level,4)] (hnn). */
inline int64_t levelWidth(const std::string& arch, int baseWidth, int level) {
  static constexpr int kHnnMult[] = {1, 2, 4, 8, 8};
  return arch == "unet" ? int64_t{baseWidth} << level : int64_t{baseWidth} * kHnnMult[level < 5 ? level : 4];
}

/** A batch copied out of JS typed arrays: x n*c*h*w, y n*h*w, w n*h*w (empty = all ones). */
struct Batch {
  std::vector<float> x, y, w;
  int n = 0;
};

struct AugmentOptions {
  bool flip = false;
  bool rot90 = false;
  double scale = 0;      // max relative scale jitter
  double intensity = 0;  // max additive and multiplicative intensity jitter
  double shift = 0;      // max translation as a fraction of the image side
};

struct EpochOptions {
  int batchSize = 16;
  uint64_t seed = 0;
  bool shuffle = true;
  /** Images per epoch (a prefix of the shuffled order); 0 = all. */
  int64_t maxSamples = 0;
  AugmentOptions augment;
};

/** done steps, total steps, running mean loss. */
using ProgressFn = std::function<void(int, int, float)>;

/** A network + its Adam optimizer. Not thread-safe: the caller serializes calls. */
class Engine {
 public:
  /** Builds the net on config.device (weight init, `.to(device)`): call it on the torch thread. */
  static std::unique_ptr<Engine> create(const NetConfig& config);  // throws CodedError(E_NATIVE_DEVICE/ARG)
  virtual ~Engine() = default;
  virtual float trainStep(const Batch& batch) = 0;
  virtual float trainEpoch(const Batch& data, const EpochOptions& opts, int* steps, const ProgressFn& progress) = 0;
  virtual std::vector<float> predict(const float* x, int n, int batchSize) = 0;
  virtual void save(const std::string& path) = 0;
  virtual void load(const std::string& path) = 0;
  virtual int64_t parameterCount() const = 0;
  /** All parameters flattened in `parameters()` order (float32), e.g. to compare the ranks of a job. */
  virtual std::vector<float> parameterValues() = 0;
  virtual void setLearningRate(double lr) = 0;
  virtual double learningRate() const = 0;
};

struct EngineInfo {
  std::string torchVersion, opencvVersion, device;
  int threads = 1;
  bool cudaAvailable = false, cudaCompiled = false;
};

/**
 * Runs `fn` on the process's single torch thread and waits for it (rethrowing its exception). All torch
 * work goes through it: OpenMP/oneDNN per-thread state stays warm, the thread count is set once, and two
 * nets never fight over the cores. Called from libuv worker threads, never from the JS thread.
 */
void runOnTorchThread(const std::function<void()>& fn);

/** RECIST3D_DEVICE, or "cpu" when unset. Reads the environment: call it on the JS thread only. */
std::string deviceName();

/** RECIST3D_THREADS or `fallback` threads for torch (intra + interop) and OpenCV. */
void initThreads(int fallback);
void setThreads(int n);
EngineInfo engineInfo();

}  // namespace r3d
