// The stacked GAN's training and inference behind a plain C++ interface (no N-API, no torch headers), like
// engine.h for the SegNet: one generator (G1 or G2) with its discriminator and their two Adam optimizers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace r3d {

struct SrConfig {
  /** Residual blocks of the generator (paper: G1 9, G2 16). */
  int blocks = 9;
  /** Generator width (paper: 64). */
  int width = 64;
  /** Discriminator width of its first convolution (paper: 64; then w, w, 2w, 2w, 4w, 4w, 8w, 8w). */
  int discWidth = 64;
  /** Units of the discriminator's first dense layer (paper: 1024). */
  int dense = 1024;
  uint64_t seed = 0;
  double learningRate = 1e-4;
  /** Weight of the adversarial term in the generator's loss (SRGAN: 1e-3). */
  double advWeight = 1e-3;
  /** Weight of the image-gradient L1 term (the stand-in for the VGG loss); the pixel L1 has weight 1. */
  double gradWeight = 1;
  std::string device = "cpu";
};

/** The losses of one step: the generator's total and its parts, and the discriminator's. */
struct SrLosses {
  float generator = 0, pixel = 0, gradient = 0, adversarial = 0, discriminator = 0;
};

/** Not thread-safe: the caller serializes calls (all run on the torch thread). */
class SrEngine {
 public:
  static std::unique_ptr<SrEngine> create(const SrConfig& config);  // throws CodedError
  virtual ~SrEngine() = default;
  /** One discriminator step then one generator step on n pairs of h*w images (x degraded, y clean). */
  virtual SrLosses trainStep(const std::vector<float>& x, const std::vector<float>& y, int n, int h, int w) = 0;
  /**
   * The generator in eval mode on n h*w images, bicubically upsampled by `zoom` first (zoom 1: as they are);
   * returns n * round(h*zoom) * round(w*zoom) floats.
   */
  virtual std::vector<float> apply(const float* x, int n, int h, int w, double zoom, int batchSize) = 0;
  virtual void save(const std::string& path, int64_t step) = 0;
  /** Loads weights and optimizer state; returns the step count saved with them. */
  virtual int64_t load(const std::string& path) = 0;
  virtual int64_t generatorParameters() const = 0;
  virtual int64_t discriminatorParameters() const = 0;
};

/** Output side of `apply` for an input side and zoom. */
inline int zoomedSide(int side, double zoom) { return static_cast<int>(side * zoom + 0.5); }

}  // namespace r3d
