// Bounds on every count that crosses the seam, and the memory check made before any large allocation.
// src/model/native.ts (NATIVE_LIMITS) states the same bounds for the JS-side checks; the addon exports these
// as `limits` and test/native-seam.test.ts asserts that both agree. No N-API and no torch headers here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "engine.h"

namespace r3d {

/** E_NATIVE_ARG beyond these (checked in JS first, then again in C++). */
struct Limits {
  /** SegNet side (H = W) and GrabCut h and w, in pixels. */
  static constexpr int kMaxSize = 65536;
  /** UNet levels / HNN stages; also size >= 2^(depth-1). */
  static constexpr int kMaxDepth = 16;
  /** SegNet input channels. */
  static constexpr int kMaxChannels = 64;
  /** SegNet width of the first level. */
  static constexpr int kMaxBaseWidth = 1024;
  /** Residual blocks of an SR generator. */
  static constexpr int kMaxBlocks = 256;
  /** SR upsampling factor of SrGan.apply (the input side times zoom must stay within kMaxSize). */
  static constexpr int kMaxZoom = 16;
  /** Images per call (n) and images per step (batchSize). */
  static constexpr int kMaxCount = 1 << 30;
  /** libtorch intra-op and OpenCV threads. */
  static constexpr int kMaxThreads = 1024;
  /** GrabCut iterations. */
  static constexpr int kMaxIterations = 1000;
  /** Pixels per GrabCut image: OpenCV's graph counts its ~8 edges per pixel in an int. */
  static constexpr int64_t kMaxGrabCutPixels = int64_t{1} << 26;
  /** Seeds and maxSamples: integers a JS number holds exactly. */
  static constexpr double kMaxSafeInteger = 9007199254740991.0;
};

/** The product of `factors`, or SIZE_MAX when it overflows (which then matches no typed array's length). */
inline size_t checkedProduct(std::initializer_list<uint64_t> factors) {
  size_t r = 1;
  for (uint64_t f : factors) {
    if (__builtin_mul_overflow(r, f, &r)) return SIZE_MAX;
  }
  return r;
}

/**
 * Bytes the engine may plan to use: the smallest of physical RAM, the cgroup's memory.max (a container or
 * Slurm job limit) and RECIST3D_MEMORY_LIMIT_MB. Reads the environment, so call it on the JS thread only.
 * Throws CodedError(E_NATIVE_ARG) when RECIST3D_MEMORY_LIMIT_MB is not a positive integer.
 */
double memoryBudget();

/**
 * Throws CodedError(E_NATIVE_OOM) before anything is allocated when `bytes`, a lower bound of what `what`
 * needs, exceeds memoryBudget(); the message ends with `advice` (what to change). A call under the budget can still run out of memory; libtorch's, OpenCV's
 * and the C++ allocator's failures are then mapped to E_NATIVE_OOM after the fact.
 */
void requireMemory(double bytes, const std::string& what, const std::string& advice);

/**
 * Lower bound of the memory any forward pass over `images` images holds at once: the input and two
 * feature maps of the first level (the input and output of one of its convolutions), 4 bytes a value.
 */
double activationBytes(const NetConfig& c, double images);

/** Lower bound of a net's own memory: its widest 3x3 convolution, times four (weights, gradients, Adam m, v). */
double netStateBytes(const NetConfig& c);

}  // namespace r3d
