// GrabCut over a batch of 8-bit BGR images initialised from trimaps (OpenCV only, no N-API).
#pragma once
#include <cstdint>
#include <vector>

namespace r3d {

struct GrabCutJob {
  std::vector<uint8_t> images;   // n*h*w*3 BGR
  std::vector<uint8_t> trimaps;  // n*h*w, GC_BGD=0 GC_FGD=1 GC_PR_BGD=2 GC_PR_FGD=3
  int n = 0, h = 0, w = 0, iterations = 1;
};

/** Per-image outcome, stored in GrabCutResult::status. */
enum GrabCutStatus : int8_t {
  kGrabCutOk = 0,             // cv::grabCut ran
  kGrabCutNoForeground = 1,   // fewer than 5 FG/PR_FG pixels: mask = trimap FG|PR_FG
  kGrabCutNoBackground = 2,   // fewer than 5 BG/PR_BG pixels: mask = trimap FG|PR_FG
  kGrabCutOpenCvError = 3,    // cv::grabCut threw for this image: mask = trimap FG|PR_FG (out of memory
                              // is not an image's fault: it fails the whole call with E_NATIVE_OOM)
};

struct GrabCutResult {
  std::vector<uint8_t> masks;  // n*h*w, 1 where the final label is GC_FGD or GC_PR_FGD
  std::vector<int8_t> status;  // n, one GrabCutStatus per image
};

/**
 * Lower bound of the memory a call needs (n, h, w set): the copies (4 bytes a pixel), the masks here and in
 * JS (2), and for each image being cut at once OpenCV's four n-link weight maps (4 doubles a pixel).
 */
double grabCutBytes(const GrabCutJob& job);

/**
 * Runs the images in parallel (cv::parallel_for_). Throws CodedError(E_NATIVE_ARG) on bad trimap labels,
 * and std::bad_alloc or cv::Exception(StsNoMem) (both E_NATIVE_OOM) when memory runs out.
 */
GrabCutResult runGrabCut(const GrabCutJob& job);

}  // namespace r3d
