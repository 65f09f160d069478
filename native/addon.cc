// N-API entry point: module init, grabCut, engineInfo, setThreads. SegNet lives in segnet_wrap.cc.
// Argument checks and copies happen on the main thread; heavy work runs in AsyncWorkers (tasks.h).
#include <napi.h>

#include <algorithm>
#include <thread>

#include "engine.h"
#include "grabcut.h"
#include "tasks.h"

namespace r3d {

Napi::Function defineSegNet(Napi::Env env);  // segnet_wrap.cc

namespace {


Napi::Value GrabCut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = std::make_shared<GrabCutJob>();
  auto images = typedArg<Napi::Uint8Array>(info, 0, "images");
  auto trimaps = typedArg<Napi::Uint8Array>(info, 1, "trimaps");
  job->n = intArg(info, 2, "n", 0);
  job->h = intArg(info, 3, "h", 1);
  job->w = intArg(info, 4, "w", 1);
  job->iterations = intArg(info, 5, "iterations", 1);
  const size_t plane = static_cast<size_t>(job->h) * job->w * job->n;
  if (images.ElementLength() != plane * 3 || trimaps.ElementLength() != plane)
    fail(env, "E_NATIVE_SHAPE", "grabCut: images must hold n*h*w*3 and trimaps n*h*w bytes");
  job->images = copyOf(images);
  job->trimaps = copyOf(trimaps);
  auto result = std::make_shared<GrabCutResult>();
  auto* task = new Task(
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
  task->Queue();
  return task->promise();
}

Napi::Value EngineInfoJs(const Napi::CallbackInfo& info) {
  EngineInfo e = engineInfo();
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("torchVersion", e.torchVersion);
  r.Set("opencvVersion", e.opencvVersion);
  r.Set("threads", e.threads);
  r.Set("device", e.device);
  r.Set("cudaAvailable", e.cudaAvailable);
  r.Set("cudaCompiled", e.cudaCompiled);
  return r;
}

Napi::Value SetThreadsJs(const Napi::CallbackInfo& info) {
  setThreads(intArg(info, 0, "threads", 1));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  initThreads(std::max(1u, std::thread::hardware_concurrency()));
  exports.Set("grabCut", Napi::Function::New(env, GrabCut, "grabCut"));
  exports.Set("engineInfo", Napi::Function::New(env, EngineInfoJs, "engineInfo"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreadsJs, "setThreads"));
  exports.Set("SegNet", defineSegNet(env));
  return exports;
}

}  // namespace
}  // namespace r3d

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return r3d::Init(env, exports); }

NODE_API_MODULE(recist3d, InitAddon)
