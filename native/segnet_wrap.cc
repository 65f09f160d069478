// The native SegNet handle (Napi::ObjectWrap around an Engine). One call at a time per handle: a second
// call while one is in flight throws E_NATIVE_ARG (binding.ts queues calls so that never happens).
// dispose() drops the handle's Engine; a running worker keeps its own reference until it finishes.
#include <napi.h>

#include <cmath>
#include <memory>

#include "engine.h"
#include "tasks.h"

namespace r3d {
namespace {

std::string stringField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) fail(o.Env(), "E_NATIVE_ARG", std::string("config.") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

double numberField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) fail(o.Env(), "E_NATIVE_ARG", std::string("config.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

class SegNetWrap : public Napi::ObjectWrap<SegNetWrap> {
 public:
  explicit SegNetWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SegNetWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) fail(env, "E_NATIVE_ARG", "SegNet: expected a config object");
    Napi::Object c = info[0].As<Napi::Object>();
    cfg_.arch = stringField(c, "arch");
    cfg_.loss = stringField(c, "loss");
    cfg_.inChannels = static_cast<int>(numberField(c, "inChannels"));
    cfg_.size = static_cast<int>(numberField(c, "size"));
    cfg_.baseWidth = static_cast<int>(numberField(c, "baseWidth"));
    cfg_.depth = static_cast<int>(numberField(c, "depth"));
    cfg_.seed = static_cast<uint64_t>(numberField(c, "seed"));
    cfg_.learningRate = numberField(c, "learningRate");
    if ((cfg_.arch != "unet" && cfg_.arch != "hnn") || (cfg_.loss != "bce" && cfg_.loss != "balanced") ||
        cfg_.inChannels < 1 || cfg_.size < 1 || cfg_.baseWidth < 1 || cfg_.depth < 1 || !(cfg_.learningRate > 0))
      fail(env, "E_NATIVE_ARG", "SegNet: invalid config");
    if ((cfg_.size >> (cfg_.depth - 1)) < 1)
      fail(env, "E_NATIVE_ARG", "SegNet: size " + std::to_string(cfg_.size) + " is too small for depth " +
                                    std::to_string(cfg_.depth) + " (needs at least 2^(depth-1) pixels)");
    try {
      engine_ = Engine::create(cfg_);
    } catch (...) {
      ErrorInfo e = classifyException(std::current_exception());
      fail(env, e.code, e.message);
    }
    lr_ = cfg_.learningRate;
    // Weights + gradients + two Adam moments; tells V8's GC what an undisposed handle really costs.
    externalBytes_ = engine_->parameterCount() * static_cast<int64_t>(sizeof(float)) * 4;
    Napi::MemoryManagement::AdjustExternalMemory(env, externalBytes_);
  }

  void Finalize(Napi::Env env) override { releaseEngine(env); }

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SegNet",
                       {InstanceMethod<&SegNetWrap::TrainStep>("trainStep"),
                        InstanceMethod<&SegNetWrap::TrainEpoch>("trainEpoch"),
                        InstanceMethod<&SegNetWrap::Predict>("predict"), InstanceMethod<&SegNetWrap::Save>("save"),
                        InstanceMethod<&SegNetWrap::Load>("load"),
                        InstanceMethod<&SegNetWrap::ParameterCount>("parameterCount"),
                        InstanceMethod<&SegNetWrap::GetLearningRate>("getLearningRate"),
                        InstanceMethod<&SegNetWrap::SetLearningRate>("setLearningRate"),
                        InstanceMethod<&SegNetWrap::Dispose>("dispose")});
  }

 private:
  /** Checks the handle is usable, marks it busy, and returns what a worker needs. */
  std::shared_ptr<Engine> acquire(Napi::Env env) {
    if (!engine_) fail(env, "E_NATIVE_DISPOSED", "SegNet was disposed");
    if (busy_) fail(env, "E_NATIVE_ARG", "SegNet is busy with another call (calls on one net must be serialized)");
    return engine_;
  }

  /** Runs on the main thread when a worker ends; keeps the JS object alive until then. */
  std::function<void()> release() {
    busy_ = true;
    auto self = std::make_shared<Napi::ObjectReference>(Napi::Persistent(Value()));
    return [this, self] { busy_ = false; };
  }

  std::function<void()> applyLr(std::shared_ptr<Engine> e) {
    const double lr = lr_;
    return [e, lr] { e->setLearningRate(lr); };
  }

  std::shared_ptr<Batch> batchArgs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto b = std::make_shared<Batch>();
    auto x = typedArg<Napi::Float32Array>(info, 0, "x");
    auto y = typedArg<Napi::Float32Array>(info, 1, "y");
    b->n = intArg(info, 3, "n", 1);
    const size_t plane = static_cast<size_t>(cfg_.size) * cfg_.size;
    if (x.ElementLength() != b->n * plane * cfg_.inChannels || y.ElementLength() != b->n * plane)
      fail(env, "E_NATIVE_SHAPE", "x must hold n*c*size*size and y n*size*size floats");
    b->x = copyOf(x);
    b->y = copyOf(y);
    if (!info[2].IsUndefined()) {
      auto w = typedArg<Napi::Float32Array>(info, 2, "w");
      if (w.ElementLength() != b->n * plane) fail(env, "E_NATIVE_SHAPE", "w must hold n*size*size floats");
      b->w = copyOf(w);
    }
    return b;
  }

  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    auto engine = acquire(info.Env());
    auto batch = batchArgs(info);
    auto lr = applyLr(engine);
    auto loss = std::make_shared<float>(0.f);
    auto* task = new Task(
        info.Env(), [=] { runOnTorchThread([&] { lr(), *loss = engine->trainStep(*batch); }); },
        [loss](Napi::Env e) { return Napi::Number::New(e, *loss); }, release());
    task->Queue();
    return task->promise();
  }

  Napi::Value TrainEpoch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto engine = acquire(env);
    auto data = batchArgs(info);
    if (!info[4].IsObject()) fail(env, "E_NATIVE_ARG", "trainEpoch: expected an options object");
    Napi::Object o = info[4].As<Napi::Object>();
    EpochOptions opts;
    opts.batchSize = static_cast<int>(numberField(o, "batchSize"));
    opts.seed = static_cast<uint64_t>(numberField(o, "seed"));
    opts.shuffle = o.Get("shuffle").ToBoolean();
    opts.maxSamples = static_cast<int64_t>(numberField(o, "maxSamples"));
    opts.augment.flip = o.Get("flip").ToBoolean();
    opts.augment.rot90 = o.Get("rot90").ToBoolean();
    opts.augment.scale = numberField(o, "scale");
    opts.augment.intensity = numberField(o, "intensity");
    if (opts.batchSize < 1) fail(env, "E_NATIVE_ARG", "trainEpoch: batchSize must be >= 1");
    if (opts.maxSamples < 0) fail(env, "E_NATIVE_ARG", "trainEpoch: maxSamples must be >= 0");
    Napi::Function onProgress = info[5].IsFunction() ? info[5].As<Napi::Function>() : Napi::Function();
    engine->setLearningRate(lr_);  // not busy, so no worker is using the optimizer now
    auto* task = new EpochTask(env, engine, data, opts, onProgress, release());
    task->Queue();
    return task->promise();
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto engine = acquire(env);
    auto x = typedArg<Napi::Float32Array>(info, 0, "x");
    const int n = intArg(info, 1, "n", 0), batchSize = intArg(info, 2, "batchSize", 1);
    const size_t plane = static_cast<size_t>(cfg_.size) * cfg_.size;
    if (x.ElementLength() != n * plane * cfg_.inChannels)
      fail(env, "E_NATIVE_SHAPE", "x must hold n*c*size*size floats");
    auto input = std::make_shared<std::vector<float>>(copyOf(x));
    auto out = std::make_shared<std::vector<float>>();
    auto* task = new Task(
        env, [=] { runOnTorchThread([&] { *out = engine->predict(input->data(), n, batchSize); }); },
        [out](Napi::Env e) {
          auto a = Napi::Float32Array::New(e, out->size());
          std::memcpy(a.Data(), out->data(), out->size() * sizeof(float));
          return a;
        },
        release());
    task->Queue();
    return task->promise();
  }

  Napi::Value SaveOrLoad(const Napi::CallbackInfo& info, bool save) {
    Napi::Env env = info.Env();
    auto engine = acquire(env);
    if (!info[0].IsString()) fail(env, "E_NATIVE_ARG", "expected a path string");
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    auto lr = applyLr(engine);
    auto newLr = std::make_shared<double>(lr_);
    auto* task = new Task(
        env,
        [=] {
          runOnTorchThread([&] {
            lr();
            save ? engine->save(path) : engine->load(path);
            *newLr = engine->learningRate();
          });
        },
        [this, newLr](Napi::Env e) {
          lr_ = *newLr;  // a loaded checkpoint brings its optimizer's learning rate
          return e.Undefined();
        },
        release());
    task->Queue();
    return task->promise();
  }
  Napi::Value Save(const Napi::CallbackInfo& info) { return SaveOrLoad(info, true); }
  Napi::Value Load(const Napi::CallbackInfo& info) { return SaveOrLoad(info, false); }

  Napi::Value ParameterCount(const Napi::CallbackInfo& info) {
    if (!engine_) fail(info.Env(), "E_NATIVE_DISPOSED", "SegNet was disposed");
    return Napi::Number::New(info.Env(), static_cast<double>(engine_->parameterCount()));
  }

  Napi::Value GetLearningRate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lr_); }

  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    if (!engine_) fail(info.Env(), "E_NATIVE_DISPOSED", "SegNet was disposed");
    const double lr = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : NAN;
    if (!(lr > 0) || !std::isfinite(lr)) fail(info.Env(), "E_NATIVE_ARG", "learningRate must be a positive number");
    lr_ = lr;  // applied by the next call, on the thread that owns the optimizer then
    return info.Env().Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    releaseEngine(info.Env());
    return info.Env().Undefined();
  }

  void releaseEngine(Napi::Env env) {
    if (!engine_) return;
    engine_.reset();
    Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
  }

  NetConfig cfg_;
  std::shared_ptr<Engine> engine_;
  bool busy_ = false;
  double lr_ = 1e-3;
  int64_t externalBytes_ = 0;
};

}  // namespace

Napi::Function defineSegNet(Napi::Env env) { return SegNetWrap::Define(env); }

}  // namespace r3d
