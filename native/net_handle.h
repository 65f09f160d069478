// The life of a native net handle, shared by SegNet (segnet_wrap.cc) and SrGan (sr_wrap.cc): the handle
// adopts an engine that its factory built on the torch thread, tells V8 what the engine costs, allows one call at a time (a second call while one is in flight throws
// E_NATIVE_ARG), and drops the engine on dispose() or when collected; a running worker keeps its own
// reference to the engine until it finishes. Each class runs its entry points inside guarded() through its own
// Entry<M> (napi's InstanceMethod takes only the class's own member functions).
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <string>

#include "args.h"
#include "tasks.h"

namespace r3d {

template <class Derived, class EngineT>
class NetHandle : public Napi::ObjectWrap<Derived> {
 public:
  void Finalize(Napi::Env env) override {
    try {
      releaseEngine(env);
    } catch (...) {  // a finalizer has nowhere to report to; the engine is gone either way
    }
  }

 protected:
  /** `name` is the class's JS name, for the messages. */
  NetHandle(const Napi::CallbackInfo& info, const char* name) : Napi::ObjectWrap<Derived>(info), name_(name) {}

  /** Takes the engine a factory built; `externalBytes` is what an undisposed handle costs beyond V8's heap. */
  void adopt(Napi::Env env, std::shared_ptr<EngineT> engine, int64_t externalBytes) {
    engine_ = std::move(engine);
    externalBytes_ = externalBytes;
    Napi::MemoryManagement::AdjustExternalMemory(env, externalBytes_);
  }

  /** Throws E_NATIVE_DISPOSED once dispose() has run. */
  void requireEngine(Napi::Env env) const {
    if (!engine_) fail(env, "E_NATIVE_DISPOSED", std::string(name_) + " was disposed");
  }

  /** Checks the handle is usable and returns what a worker needs. */
  std::shared_ptr<EngineT> acquire(Napi::Env env) {
    requireEngine(env);
    if (busy_)
      fail(env, "E_NATIVE_ARG",
           std::string(name_) + " is busy with another call (calls on one net must be serialized)");
    return engine_;
  }

  /** What a worker runs on the main thread when it ends; keeps the JS object alive until then. */
  std::function<void()> release() {
    auto self = std::make_shared<Napi::ObjectReference>(Napi::Persistent(this->Value()));
    return [this, self] { busy_ = false; };
  }

  /** Queues `task` and marks the handle busy: only once nothing can throw any more. */
  template <class W>
  Napi::Value start(std::unique_ptr<W> task) {
    Napi::Promise promise = queueTask(std::move(task));
    busy_ = true;
    return promise;
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    expectArgs(info, 0, 0, "dispose()");
    releaseEngine(info.Env());
    return info.Env().Undefined();
  }

  void releaseEngine(Napi::Env env) {
    if (!engine_) return;
    engine_.reset();
    Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
  }

  std::shared_ptr<EngineT> engine_;

 private:
  const char* name_;
  bool busy_ = false;
  int64_t externalBytes_ = 0;
};

}  // namespace r3d
