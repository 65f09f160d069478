// N-API entry point: module init, grabCut, engineInfo, setThreads, limits. SegNet and createSegNet live in
// segnet_wrap.cc. Argument checks, bounds, the memory check and copies happen on the JS thread inside
// guarded() (args.h); heavy work runs in AsyncWorkers (tasks.h).
#include <napi.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <thread>

#include <c10/util/Exception.h>
#include <opencv2/core.hpp>

#include "args.h"
#include "engine.h"
#include "grabcut.h"
#include "limits.h"
#include "tasks.h"

namespace r3d {

void defineSegNet(Napi::Env env, Napi::Object exports);        // segnet_wrap.cc
void defineProcessGroup(Napi::Env env, Napi::Object exports);  // dist_wrap.cc
void defineSrGan(Napi::Env env, Napi::Object exports);         // sr_wrap.cc

namespace {

Napi::Value GrabCut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expectArgs(info, 6, 6, "grabCut(images, trimaps, n, h, w, iterations)");
  auto job = std::make_shared<GrabCutJob>();
  auto images = typedArg<Napi::Uint8Array>(info, 0, "images");
  auto trimaps = typedArg<Napi::Uint8Array>(info, 1, "trimaps");
  job->n = intArg(info, 2, "n", 0, Limits::kMaxCount);
  job->h = intArg(info, 3, "h", 1, Limits::kMaxSize);
  job->w = intArg(info, 4, "w", 1, Limits::kMaxSize);
  job->iterations = intArg(info, 5, "iterations", 1, Limits::kMaxIterations);
  const uint64_t pixels = uint64_t(job->h) * job->w;
  if (pixels > uint64_t(Limits::kMaxGrabCutPixels))
    fail(env, "E_NATIVE_ARG", "grabCut: h*w must be at most " + std::to_string(Limits::kMaxGrabCutPixels) + " pixels");
  if (images.ElementLength() != checkedProduct({uint64_t(job->n), pixels, 3}) ||
      trimaps.ElementLength() != checkedProduct({uint64_t(job->n), pixels}))
    fail(env, "E_NATIVE_SHAPE", "grabCut: images must hold n*h*w*3 and trimaps n*h*w bytes");
  requireMemory(grabCutBytes(*job), "grabCut of " + std::to_string(job->n) + " images of " + std::to_string(job->h) +
                                     "x" + std::to_string(job->w),
                "cut fewer or smaller images per call");
  job->images = copyOf(images);
  job->trimaps = copyOf(trimaps);
  auto result = std::make_shared<GrabCutResult>();
  auto task = std::make_unique<Task>(
      env, [job, result] { *result = runGrabCut(*job); },
      [result](Napi::Env e) {
        Napi::Object r = Napi::Object::New(e);
        auto masks = Napi::Uint8Array::New(e, result->masks.size());
        std::memcpy(masks.Data(), result->masks.data(), result->masks.size());
        auto status = Napi::Int8Array::New(e, result->status.size());
        std::memcpy(status.Data(), result->status.data(), result->status.size());
        r.Set("masks", masks);
        r.Set("status", status);
        return r;
      });
  return queueTask(std::move(task));
}

Napi::Value EngineInfoJs(const Napi::CallbackInfo& info) {
  expectArgs(info, 0, 0, "engineInfo()");
  EngineInfo e = engineInfo();
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("torchVersion", e.torchVersion);
  r.Set("opencvVersion", e.opencvVersion);
  r.Set("threads", e.threads);
  r.Set("device", e.device);
  r.Set("cudaAvailable", e.cudaAvailable);
  r.Set("cudaCompiled", e.cudaCompiled);
  r.Set("memoryLimit", memoryBudget());
  return r;
}

Napi::Value SetThreadsJs(const Napi::CallbackInfo& info) {
  expectArgs(info, 1, 1, "setThreads(n)");
  setThreads(intArg(info, 0, "threads", 1, Limits::kMaxThreads));
  return info.Env().Undefined();
}

Napi::Object limitsObject(Napi::Env env) {
  Napi::Object l = Napi::Object::New(env);
  l.Set("maxSize", Limits::kMaxSize);
  l.Set("maxDepth", Limits::kMaxDepth);
  l.Set("maxChannels", Limits::kMaxChannels);
  l.Set("maxBaseWidth", Limits::kMaxBaseWidth);
  l.Set("maxBlocks", Limits::kMaxBlocks);
  l.Set("maxZoom", Limits::kMaxZoom);
  l.Set("maxCount", Limits::kMaxCount);
  l.Set("maxThreads", Limits::kMaxThreads);
  l.Set("maxIterations", Limits::kMaxIterations);
  l.Set("maxGrabCutPixels", static_cast<double>(Limits::kMaxGrabCutPixels));
  l.Set("maxSafeInteger", Limits::kMaxSafeInteger);
  l.Freeze();
  return l;
}

/**
 * Test seam: throws one exception of the named family from inside an entry point, so a test can check that
 * every family maps to its code (an OpenCV error other than out-of-memory has no input that provokes it once
 * our own checks pass). Kinds: opencv, opencv-nomem, torch, bad_alloc, std, unknown.
 */
Napi::Value ThrowForTestJs(const Napi::CallbackInfo& info) {
  expectArgs(info, 1, 1, "throwForTest(kind)");
  if (!info[0].IsString()) fail(info.Env(), "E_NATIVE_ARG", "throwForTest: expected a string kind");
  const std::string kind = info[0].As<Napi::String>().Utf8Value();
  if (kind == "opencv") cv::error(cv::Error::StsBadArg, "test: a cv::Exception", "throwForTest", __FILE__, __LINE__);
  if (kind == "opencv-nomem") cv::error(cv::Error::StsNoMem, "test: OpenCV out of memory", "throwForTest", __FILE__, __LINE__);
  if (kind == "torch") TORCH_CHECK(false, "test: a c10::Error");
  if (kind == "bad_alloc") throw std::bad_alloc();
  if (kind == "std") throw std::runtime_error("test: a std::exception");
  if (kind == "unknown") throw 42;
  fail(info.Env(), "E_NATIVE_ARG", "throwForTest: unknown kind " + kind);
  return info.Env().Undefined();
}

/** A module-level function whose body runs inside guarded(). */
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value entry(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return F(info); });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return guarded(env, [&] {
    initThreads(std::max(1u, std::thread::hardware_concurrency()));
    exports.Set("grabCut", Napi::Function::New(env, entry<GrabCut>, "grabCut"));
    exports.Set("engineInfo", Napi::Function::New(env, entry<EngineInfoJs>, "engineInfo"));
    exports.Set("setThreads", Napi::Function::New(env, entry<SetThreadsJs>, "setThreads"));
    exports.Set("throwForTest", Napi::Function::New(env, entry<ThrowForTestJs>, "throwForTest"));
    exports.Set("limits", limitsObject(env));
    defineSegNet(env, exports);
    defineProcessGroup(env, exports);
    defineSrGan(env, exports);
    return exports;
  });
}

}  // namespace
}  // namespace r3d

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return r3d::Init(env, exports); }

NODE_API_MODULE(recist3d, InitAddon)
