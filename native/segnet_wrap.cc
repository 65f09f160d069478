// The native SegNet handle (Napi::ObjectWrap around an Engine) and its factory createSegNet. The factory
// checks the config on the JS thread, builds the Engine on the torch thread (weight init, `.to(device)`)
// and resolves with the handle; the constructor itself only adopts an Engine that the factory built, so
// `new` from JS is refused. One call at a time per handle: a second call while one is in flight throws
// E_NATIVE_ARG (segnet.ts queues calls so that never happens). dispose() drops the handle's Engine; a
// running worker keeps its own reference until it finishes. Every entry point runs inside guarded().
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "args.h"
#include "engine.h"
#include "limits.h"
#include "net_handle.h"
#include "tasks.h"

namespace r3d {
namespace {

/** What createSegNet's worker hands to the SegNet constructor. */
struct NewEngine {
  NetConfig config;
  std::shared_ptr<Engine> engine;
  int64_t parameterCount = 0;
};

/** Per-environment addon state: the (unexported) SegNet constructor and the engine it may adopt right now. */
struct SegNetClass {
  Napi::FunctionReference constructor;
  NewEngine* pending = nullptr;
};

NetConfig configArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Fields f = objectArg(info, 0, "config");
  NetConfig c;
  c.arch = f.string("arch");
  c.loss = f.string("loss");
  if (c.arch != "unet" && c.arch != "hnn") fail(env, "E_NATIVE_ARG", "config.arch must be 'unet' or 'hnn'");
  if (c.loss != "bce" && c.loss != "balanced") fail(env, "E_NATIVE_ARG", "config.loss must be 'bce' or 'balanced'");
  c.inChannels = static_cast<int>(f.integer("inChannels", 1, Limits::kMaxChannels));
  c.size = static_cast<int>(f.integer("size", 1, Limits::kMaxSize));
  c.baseWidth = static_cast<int>(f.integer("baseWidth", 1, Limits::kMaxBaseWidth));
  c.depth = static_cast<int>(f.integer("depth", 1, Limits::kMaxDepth));
  c.seed = static_cast<uint64_t>(f.integer("seed", 0, Limits::kMaxSafeInteger));
  c.learningRate = f.number("learningRate", 0, INFINITY);
  if (!(c.learningRate > 0)) fail(env, "E_NATIVE_ARG", "config.learningRate must be a positive number");
  if (c.size < (1 << (c.depth - 1)))
    fail(env, "E_NATIVE_ARG", "SegNet: size " + std::to_string(c.size) + " is too small for depth " +
                                  std::to_string(c.depth) + " (needs at least 2^(depth-1) pixels)");
  c.device = deviceName();
  return c;
}

class SegNetWrap : public NetHandle<SegNetWrap, Engine> {
 public:
  explicit SegNetWrap(const Napi::CallbackInfo& info) : NetHandle(info, "SegNet") {
    guarded(info.Env(), [&] {
      NewEngine* made = info.Env().GetInstanceData<SegNetClass>()->pending;
      if (!made) fail(info.Env(), "E_NATIVE_ARG", "SegNet handles are made by createSegNet(config), not with new");
      cfg_ = made->config;
      parameterCount_ = made->parameterCount;
      lr_ = cfg_.learningRate;
      // Weights + gradients + two Adam moments; tells V8's GC what an undisposed handle really costs.
      adopt(info.Env(), made->engine, parameterCount_ * static_cast<int64_t>(sizeof(float)) * 4);
    });
  }


  /** Defines the class and keeps it in the environment's instance data (it is not exported). */
  static void Define(Napi::Env env) {
    auto* cls = new SegNetClass();
    cls->constructor = Napi::Persistent(DefineClass(
        env, "SegNet",
        {InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::TrainStep>>("trainStep"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::TrainEpoch>>("trainEpoch"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::Predict>>("predict"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::Save>>("save"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::Load>>("load"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::ParameterCount>>("parameterCount"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::Parameters>>("parameters"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::GetLearningRate>>("getLearningRate"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::SetLearningRate>>("setLearningRate"),
         InstanceMethod<&SegNetWrap::Entry<&SegNetWrap::Dispose>>("dispose")}));
    env.SetInstanceData(cls);
  }

  /** Wraps a freshly built engine in a new JS handle (JS thread, from createSegNet's OnOK). */
  static Napi::Value Adopt(Napi::Env env, NewEngine& made) {
    auto* cls = env.GetInstanceData<SegNetClass>();
    cls->pending = &made;
    try {
      Napi::Object handle = cls->constructor.New({});
      cls->pending = nullptr;
      return handle;
    } catch (...) {
      cls->pending = nullptr;
      throw;
    }
  }

 private:
  template <auto M>
  Napi::Value Entry(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return (this->*M)(info); });
  }

  size_t plane() const { return static_cast<size_t>(cfg_.size) * cfg_.size; }

  /**
   * Reads x, y, w (optional) and n, checks their lengths, then the memory: the copies plus `workBytes` (what
   * the call itself needs), and only then copies the arrays.
   */
  std::shared_ptr<Batch> batchArgs(const Napi::CallbackInfo& info, const std::string& what, double workBytes,
                                   const std::string& advice) {
    Napi::Env env = info.Env();
    auto b = std::make_shared<Batch>();
    auto x = typedArg<Napi::Float32Array>(info, 0, "x");
    auto y = typedArg<Napi::Float32Array>(info, 1, "y");
    const bool weighted = !info[2].IsUndefined();
    if (weighted) typedArg<Napi::Float32Array>(info, 2, "w");
    b->n = intArg(info, 3, "n", 1, Limits::kMaxCount);
    if (x.ElementLength() != checkedProduct({uint64_t(b->n), uint64_t(cfg_.inChannels), plane()}) ||
        y.ElementLength() != checkedProduct({uint64_t(b->n), plane()}))
      fail(env, "E_NATIVE_SHAPE", what + ": x must hold n*c*size*size and y n*size*size floats");
    if (weighted && info[2].As<Napi::Float32Array>().ElementLength() != y.ElementLength())
      fail(env, "E_NATIVE_SHAPE", what + ": w must hold n*size*size floats");
    requireMemory(4.0 * b->n * plane() * (cfg_.inChannels + 2) + workBytes, what, advice);
    b->x = copyOf(x);
    b->y = copyOf(y);
    if (weighted) b->w = copyOf(info[2].As<Napi::Float32Array>());
    return b;
  }

  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    expectArgs(info, 4, 4, "trainStep(x, y, w, n)");
    auto engine = acquire(info.Env());
    // All n images go through one step.
    const double n = integerValue(info.Env(), info[3], "n", 1, Limits::kMaxCount);
    auto batch = batchArgs(info, "trainStep on " + numberText(n) + " images", activationBytes(cfg_, n),
                           "train on fewer images per step");
    const double lr = lr_;
    auto loss = std::make_shared<float>(0.f);
    return start(std::make_unique<Task>(
        info.Env(),
        [=] {
          runOnTorchThread([&] {
            engine->setLearningRate(lr);
            *loss = engine->trainStep(*batch);
          });
        },
        [loss](Napi::Env e) { return Napi::Number::New(e, *loss); }, release()));
  }

  Napi::Value TrainEpoch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    expectArgs(info, 5, 6, "trainEpoch(x, y, w, n, options, onProgress?)");
    auto engine = acquire(env);
    const Fields o = objectArg(info, 4, "trainEpoch options");
    EpochOptions opts;
    opts.batchSize = static_cast<int>(o.integer("batchSize", 1, Limits::kMaxCount));
    opts.seed = static_cast<uint64_t>(o.integer("seed", 0, Limits::kMaxSafeInteger));
    opts.shuffle = o.boolean("shuffle");
    opts.maxSamples = static_cast<int64_t>(o.integer("maxSamples", 0, Limits::kMaxSafeInteger));
    opts.augment.flip = o.boolean("flip");
    opts.augment.rot90 = o.boolean("rot90");
    opts.augment.scale = o.number("scale", 0, 1);
    opts.augment.intensity = o.number("intensity", 0, 1);
    opts.augment.shift = o.number("shift", 0, 1);
    if (!info[5].IsUndefined() && !info[5].IsFunction())
      fail(env, "E_NATIVE_ARG", "trainEpoch: onProgress must be a function or undefined");
    // One gathered mini-batch and its activations.
    const double n = integerValue(env, info[3], "n", 1, Limits::kMaxCount);
    const double b = std::min<double>(opts.batchSize, n);
    auto data = batchArgs(info, "trainEpoch with batchSize " + std::to_string(opts.batchSize),
                          4.0 * b * plane() * (cfg_.inChannels + 2) + activationBytes(cfg_, b),
                          "use a smaller batchSize or fewer images per epoch call");
    Napi::Function onProgress = info[5].IsFunction() ? info[5].As<Napi::Function>() : Napi::Function();
    return start(std::make_unique<EpochTask>(env, engine, data, opts, lr_, onProgress, release()));
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    expectArgs(info, 3, 3, "predict(x, n, batchSize)");
    auto engine = acquire(env);
    auto x = typedArg<Napi::Float32Array>(info, 0, "x");
    const int n = intArg(info, 1, "n", 0, Limits::kMaxCount);
    const int batchSize = intArg(info, 2, "batchSize", 1, Limits::kMaxCount);
    if (x.ElementLength() != checkedProduct({uint64_t(n), uint64_t(cfg_.inChannels), plane()}))
      fail(env, "E_NATIVE_SHAPE", "predict: x must hold n*c*size*size floats");
    // Input copy, output (here and in JS), one batch of activations.
    requireMemory(4.0 * n * plane() * (cfg_.inChannels + 2) + activationBytes(cfg_, std::min(n, batchSize)),
                  "predict of " + std::to_string(n) + " images with batchSize " + std::to_string(batchSize),
                  "use a smaller batchSize or fewer images per call");
    auto input = std::make_shared<std::vector<float>>(copyOf(x));
    auto out = std::make_shared<std::vector<float>>();
    return start(std::make_unique<Task>(
        env, [=] { runOnTorchThread([&] { *out = engine->predict(input->data(), n, batchSize); }); },
        [out](Napi::Env e) {
          auto a = Napi::Float32Array::New(e, out->size());
          std::memcpy(a.Data(), out->data(), out->size() * sizeof(float));
          return a;
        },
        release()));
  }

  Napi::Value SaveOrLoad(const Napi::CallbackInfo& info, bool save) {
    Napi::Env env = info.Env();
    expectArgs(info, 1, 1, save ? "save(path)" : "load(path)");
    auto engine = acquire(env);
    if (!info[0].IsString()) fail(env, "E_NATIVE_ARG", "expected a path string");
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    if (path.empty() || path.find('\0') != std::string::npos)
      fail(env, "E_NATIVE_ARG", "expected a non-empty path without NUL characters");
    const double lr = lr_;
    auto newLr = std::make_shared<double>(lr_);
    return start(std::make_unique<Task>(
        env,
        [=] {
          runOnTorchThread([&] {
            engine->setLearningRate(lr);
            save ? engine->save(path) : engine->load(path);
            *newLr = engine->learningRate();
          });
        },
        [this, newLr](Napi::Env e) {
          lr_ = *newLr;  // a loaded checkpoint brings its optimizer's learning rate
          return e.Undefined();
        },
        release()));
  }
  Napi::Value Save(const Napi::CallbackInfo& info) { return SaveOrLoad(info, true); }
  Napi::Value Load(const Napi::CallbackInfo& info) { return SaveOrLoad(info, false); }

  Napi::Value ParameterCount(const Napi::CallbackInfo& info) {
    expectArgs(info, 0, 0, "parameterCount()");
    requireEngine(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(parameterCount_));
  }

  Napi::Value Parameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    expectArgs(info, 0, 0, "parameters()");
    auto engine = acquire(env);
    requireMemory(8.0 * parameterCount_, "parameters() of " + std::to_string(parameterCount_) + " values", "");
    auto out = std::make_shared<std::vector<float>>();
    return start(std::make_unique<Task>(
        env, [=] { runOnTorchThread([&] { *out = engine->parameterValues(); }); },
        [out](Napi::Env e) {
          auto a = Napi::Float32Array::New(e, out->size());
          std::memcpy(a.Data(), out->data(), out->size() * sizeof(float));
          return a;
        },
        release()));
  }

  Napi::Value GetLearningRate(const Napi::CallbackInfo& info) {
    expectArgs(info, 0, 0, "getLearningRate()");
    return Napi::Number::New(info.Env(), lr_);
  }

  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    expectArgs(info, 1, 1, "setLearningRate(lr)");
    requireEngine(info.Env());
    const double lr = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : NAN;
    if (!(lr > 0) || !std::isfinite(lr)) fail(info.Env(), "E_NATIVE_ARG", "learningRate must be a positive number");
    lr_ = lr;  // applied by the next call, on the torch thread
    return info.Env().Undefined();
  }

  NetConfig cfg_;
  int64_t parameterCount_ = 0;
  double lr_ = 1e-3;
};

/** createSegNet(config): Promise<SegNet>. */
Napi::Value CreateSegNet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    expectArgs(info, 1, 1, "createSegNet(config)");
    auto made = std::make_shared<NewEngine>();
    made->config = configArg(info);
    requireMemory(netStateBytes(made->config) + activationBytes(made->config, 1),
                  "a SegNet of size " + std::to_string(made->config.size) + ", baseWidth " +
                      std::to_string(made->config.baseWidth) + " and depth " + std::to_string(made->config.depth),
                  "use a smaller size, baseWidth or depth");
    auto task = std::make_unique<Task>(
        env,
        [made] {
          runOnTorchThread([&] {
            made->engine = Engine::create(made->config);
            made->parameterCount = made->engine->parameterCount();
          });
        },
        [made](Napi::Env e) { return SegNetWrap::Adopt(e, *made); });
    return queueTask(std::move(task));
  });
}

}  // namespace

void defineSegNet(Napi::Env env, Napi::Object exports) {
  SegNetWrap::Define(env);
  exports.Set("createSegNet", Napi::Function::New(env, CreateSegNet, "createSegNet"));
}

}  // namespace r3d
