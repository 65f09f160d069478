#include "grabcut.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <new>
#include <string>

#include "errors.h"

namespace r3d {

namespace {
// cv::grabCut clusters each side into 5 GMM components with k-means, which needs at least 5 samples.
constexpr int kMinSamples = 5;
}  // namespace

double grabCutBytes(const GrabCutJob& job) {
  const double pixels = static_cast<double>(job.h) * job.w;
  const double concurrent = std::min<double>(job.n, std::max(1, cv::getNumThreads()));
  return 6.0 * job.n * pixels + 32.0 * concurrent * pixels;
}

GrabCutResult runGrabCut(const GrabCutJob& job) {
  const size_t plane = static_cast<size_t>(job.h) * job.w;
  for (size_t i = 0; i < job.trimaps.size(); ++i) {
    if (job.trimaps[i] > 3) {
      throw CodedError("E_NATIVE_ARG", "grabCut: trimap label " + std::to_string(job.trimaps[i]) + " at image " +
                                           std::to_string(i / plane) + ", pixel " + std::to_string(i % plane) +
                                           " is not one of BG=0 FG=1 PR_BG=2 PR_FG=3");
    }
  }
  GrabCutResult out;
  out.masks.assign(job.trimaps.size(), 0);
  out.status.assign(job.n, kGrabCutOk);

  auto where = [&](int k) {
    return "image " + std::to_string(k) + " (" + std::to_string(job.h) + "x" + std::to_string(job.w) + "): ";
  };
  auto trimmed = [](std::string m) {
    while (!m.empty() && m.back() == '\n') m.pop_back();
    return m;
  };
  cv::parallel_for_(cv::Range(0, job.n), [&](const cv::Range& range) {
    for (int k = range.start; k < range.end; ++k) {
      const uint8_t* tri = job.trimaps.data() + k * plane;
      uint8_t* dst = out.masks.data() + k * plane;
      int fg = 0, bg = 0;
      for (size_t p = 0; p < plane; ++p) (tri[p] & 1 ? fg : bg)++;
      auto fallback = [&](GrabCutStatus s) {
        for (size_t p = 0; p < plane; ++p) dst[p] = tri[p] & 1;
        out.status[k] = s;
      };
      if (fg < kMinSamples) {
        fallback(kGrabCutNoForeground);
        continue;
      }
      if (bg < kMinSamples) {
        fallback(kGrabCutNoBackground);
        continue;
      }
      try {
        // cv::Mat headers over our buffers; grabCut writes only to `mask` (a private copy of the trimap).
        cv::Mat image(job.h, job.w, CV_8UC3, const_cast<uint8_t*>(job.images.data() + k * plane * 3));
        cv::Mat mask(job.h, job.w, CV_8UC1);
        std::copy(tri, tri + plane, mask.data);
        cv::Mat bgdModel, fgdModel;
        // GrabCut's k-means draws from the thread's cv::theRNG(); reseed so that an image's result does not
        // depend on which thread ran it or on what ran before (same image -> same mask, batched or not).
        cv::theRNG() = cv::RNG(0xffffffffu);
        cv::grabCut(image, mask, cv::Rect(), bgdModel, fgdModel, job.iterations, cv::GC_INIT_WITH_MASK);
        for (size_t p = 0; p < plane; ++p) dst[p] = mask.data[p] & 1;
      } catch (const cv::Exception& e) {
        // Out of memory (OpenCV's allocator reports it as StsNoMem) is not this image's fault: the call fails.
        if (e.code == cv::Error::StsNoMem) throw CodedError("E_NATIVE_OOM", where(k) + trimmed(e.what()));
        fallback(kGrabCutOpenCvError);
      } catch (const std::bad_alloc&) {
        throw CodedError("E_NATIVE_OOM", where(k) + "out of memory (std::bad_alloc)");
      }
    }
  });
  return out;
}

}  // namespace r3d
