// The native SrGan handle (one stacked-GAN stage: generator + discriminator) and its factory createSrGan,
// built like segnet_wrap.cc: arguments, bounds and memory are checked on the JS thread inside guarded(); the
// engine is built and every call runs on the torch thread in an AsyncWorker; one call at a time per handle.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "args.h"
#include "engine.h"
#include "limits.h"
#include "net_handle.h"
#include "sr_engine.h"
#include "tasks.h"

namespace r3d {
namespace {

struct NewSr {
  SrConfig config;
  std::shared_ptr<SrEngine> engine;
  int64_t generatorParameters = 0, discriminatorParameters = 0;
};

struct SrGanClass {
  Napi::FunctionReference constructor;
  NewSr* pending = nullptr;
};

SrConfig srConfigArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Fields f = objectArg(info, 0, "config");
  SrConfig c;
  c.blocks = static_cast<int>(f.integer("blocks", 0, Limits::kMaxBlocks));
  c.width = static_cast<int>(f.integer("width", 1, Limits::kMaxBaseWidth));
  c.discWidth = static_cast<int>(f.integer("discWidth", 1, Limits::kMaxBaseWidth));
  c.dense = static_cast<int>(f.integer("dense", 1, Limits::kMaxBaseWidth * 64));
  c.seed = static_cast<uint64_t>(f.integer("seed", 0, Limits::kMaxSafeInteger));
  c.learningRate = f.number("learningRate", 0, INFINITY);
  if (!(c.learningRate > 0)) fail(env, "E_NATIVE_ARG", "config.learningRate must be a positive number");
  c.advWeight = f.number("advWeight", 0, INFINITY);
  c.gradWeight = f.number("gradWeight", 0, INFINITY);
  c.device = deviceName();
  return c;
}

/** Lower bound of a forward+backward pass's activations: each block keeps ~4 maps of width channels (conv, BN, PReLU, conv). */
double srTrainBytes(const SrConfig& c, double images, double pixels) {
  return 4.0 * images * pixels * (4.0 + 4.0 * c.width * (c.blocks + 1) + 2.0 * c.discWidth);
}

/** Lower bound of inference: the (zoomed) input and output and two feature maps. */
double srApplyBytes(const SrConfig& c, double images, double pixels) {
  return 4.0 * images * pixels * (2.0 + 2.0 * c.width);
}

class SrGanWrap : public NetHandle<SrGanWrap, SrEngine> {
 public:
  explicit SrGanWrap(const Napi::CallbackInfo& info) : NetHandle(info, "SrGan") {
    guarded(info.Env(), [&] {
      NewSr* made = static_cast<SrGanClass*>(info.Data())->pending;
      if (!made) fail(info.Env(), "E_NATIVE_ARG", "SrGan handles are made by createSrGan(config), not with new");
      cfg_ = made->config;
      gParams_ = made->generatorParameters;
      dParams_ = made->discriminatorParameters;
      adopt(info.Env(), made->engine, (gParams_ + dParams_) * static_cast<int64_t>(sizeof(float)) * 4);
    });
  }


  static Napi::Function Define(Napi::Env env, SrGanClass* cls) {
    Napi::Function ctor = DefineClass(
        env, "SrGan",
        {InstanceMethod<&SrGanWrap::Entry<&SrGanWrap::TrainStep>>("trainStep"),
         InstanceMethod<&SrGanWrap::Entry<&SrGanWrap::Apply>>("apply"),
         InstanceMethod<&SrGanWrap::Entry<&SrGanWrap::Save>>("save"),
         InstanceMethod<&SrGanWrap::Entry<&SrGanWrap::Load>>("load"),
         InstanceMethod<&SrGanWrap::Entry<&SrGanWrap::ParameterCount>>("parameterCount"),
         InstanceMethod<&SrGanWrap::Entry<&SrGanWrap::Dispose>>("dispose")},
        cls);
    return ctor;
  }

  static Napi::Value Adopt(SrGanClass* cls, NewSr& made);

 private:
  template <auto M>
  Napi::Value Entry(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&] { return (this->*M)(info); });
  }

  /** trainStep(x, y, n, h, w): x degraded and y clean, n*h*w floats each. */
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    expectArgs(info, 5, 5, "trainStep(x, y, n, h, w)");
    auto engine = acquire(env);
    auto x = typedArg<Napi::Float32Array>(info, 0, "x");
    auto y = typedArg<Napi::Float32Array>(info, 1, "y");
    const int n = intArg(info, 2, "n", 1, Limits::kMaxCount);
    const int h = intArg(info, 3, "h", 1, Limits::kMaxSize);
    const int w = intArg(info, 4, "w", 1, Limits::kMaxSize);
    const size_t len = checkedProduct({uint64_t(n), uint64_t(h), uint64_t(w)});
    if (x.ElementLength() != len || y.ElementLength() != len)
      fail(env, "E_NATIVE_SHAPE", "SrGan.trainStep: x and y must each hold n*h*w floats");
    requireMemory(8.0 * len + srTrainBytes(cfg_, n, double(h) * w),
                  "SrGan.trainStep on " + std::to_string(n) + " images of " + std::to_string(h) + "x" + std::to_string(w),
                  "train on fewer or smaller crops per step");
    auto xs = std::make_shared<std::vector<float>>(copyOf(x));
    auto ys = std::make_shared<std::vector<float>>(copyOf(y));
    auto out = std::make_shared<SrLosses>();
    return start(std::make_unique<Task>(
        env, [=] { runOnTorchThread([&] { *out = engine->trainStep(*xs, *ys, n, h, w); }); },
        [out](Napi::Env e) {
          Napi::Object r = Napi::Object::New(e);
          r.Set("generator", out->generator);
          r.Set("pixel", out->pixel);
          r.Set("gradient", out->gradient);
          r.Set("adversarial", out->adversarial);
          r.Set("discriminator", out->discriminator);
          return r;
        },
        release()));
  }

  /** apply(x, n, h, w, zoom, batchSize): Float32Array of n * round(h*zoom) * round(w*zoom). */
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    expectArgs(info, 6, 6, "apply(x, n, h, w, zoom, batchSize)");
    auto engine = acquire(env);
    auto x = typedArg<Napi::Float32Array>(info, 0, "x");
    const int n = intArg(info, 1, "n", 0, Limits::kMaxCount);
    const int h = intArg(info, 2, "h", 1, Limits::kMaxSize);
    const int w = intArg(info, 3, "w", 1, Limits::kMaxSize);
    const double zoom = info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : NAN;
    if (!(zoom >= 1 && zoom <= Limits::kMaxZoom))
      fail(env, "E_NATIVE_ARG", "SrGan.apply: zoom must be a number in [1, " + std::to_string(Limits::kMaxZoom) + "]");
    const int batchSize = intArg(info, 5, "batchSize", 1, Limits::kMaxCount);
    const int oh = zoomedSide(h, zoom), ow = zoomedSide(w, zoom);
    if (oh > Limits::kMaxSize || ow > Limits::kMaxSize)
      fail(env, "E_NATIVE_ARG", "SrGan.apply: the zoomed side must be at most " + std::to_string(Limits::kMaxSize));
    if (x.ElementLength() != checkedProduct({uint64_t(n), uint64_t(h), uint64_t(w)}))
      fail(env, "E_NATIVE_SHAPE", "SrGan.apply: x must hold n*h*w floats");
    const double outLen = double(n) * oh * ow;
    requireMemory(4.0 * x.ElementLength() + 8.0 * outLen + srApplyBytes(cfg_, std::min(n, batchSize), double(oh) * ow),
                  "SrGan.apply on " + std::to_string(n) + " images of " + std::to_string(oh) + "x" + std::to_string(ow),
                  "use a smaller batchSize or fewer images per call");
    auto input = std::make_shared<std::vector<float>>(copyOf(x));
    auto out = std::make_shared<std::vector<float>>();
    return start(std::make_unique<Task>(
        env,
        [=] {
          runOnTorchThread([&] {
            *out = n == 0 ? std::vector<float>() : engine->apply(input->data(), n, h, w, zoom, batchSize);
          });
        },
        [out](Napi::Env e) {
          auto a = Napi::Float32Array::New(e, out->size());
          std::memcpy(a.Data(), out->data(), out->size() * sizeof(float));
          return a;
        },
        release()));
  }

  std::string pathArg(const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) fail(info.Env(), "E_NATIVE_ARG", "expected a path string");
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    if (path.empty() || path.find('\0') != std::string::npos)
      fail(info.Env(), "E_NATIVE_ARG", "expected a non-empty path without NUL characters");
    return path;
  }

  /** save(path, step): weights, optimizer states and the step count. */
  Napi::Value Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    expectArgs(info, 2, 2, "save(path, step)");
    auto engine = acquire(env);
    const std::string path = pathArg(info);
    const int64_t step = static_cast<int64_t>(integerValue(env, info[1], "step", 0, Limits::kMaxSafeInteger));
    return start(std::make_unique<Task>(
        env, [=] { runOnTorchThread([&] { engine->save(path, step); }); }, nullptr, release()));
  }

  /** load(path): resolves with the saved step count. */
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    expectArgs(info, 1, 1, "load(path)");
    auto engine = acquire(env);
    const std::string path = pathArg(info);
    auto step = std::make_shared<int64_t>(0);
    return start(std::make_unique<Task>(
        env, [=] { runOnTorchThread([&] { *step = engine->load(path); }); },
        [step](Napi::Env e) { return Napi::Number::New(e, static_cast<double>(*step)); }, release()));
  }

  Napi::Value ParameterCount(const Napi::CallbackInfo& info) {
    expectArgs(info, 0, 0, "parameterCount()");
    requireEngine(info.Env());
    Napi::Object r = Napi::Object::New(info.Env());
    r.Set("generator", static_cast<double>(gParams_));
    r.Set("discriminator", static_cast<double>(dParams_));
    return r;
  }

  SrConfig cfg_;
  int64_t gParams_ = 0, dParams_ = 0;
};

/** Wraps a freshly built engine in a new JS handle (JS thread, from createSrGan's OnOK). */
Napi::Value SrGanWrap::Adopt(SrGanClass* cls, NewSr& made) {
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

Napi::Value CreateSrGan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    expectArgs(info, 1, 1, "createSrGan(config)");
    auto* cls = static_cast<SrGanClass*>(info.Data());
    auto made = std::make_shared<NewSr>();
    made->config = srConfigArg(info);
    const SrConfig& c = made->config;
    requireMemory(4.0 * 4.0 * 9.0 * (double(c.width) * c.width * (2.0 * c.blocks + 1) + 64.0 * c.discWidth * c.discWidth),
                  "an SrGan of width " + std::to_string(c.width) + " with " + std::to_string(c.blocks) + " blocks",
                  "use fewer blocks or smaller widths");
    auto task = std::make_unique<Task>(
        env,
        [made] {
          runOnTorchThread([&] {
            made->engine = SrEngine::create(made->config);
            made->generatorParameters = made->engine->generatorParameters();
            made->discriminatorParameters = made->engine->discriminatorParameters();
          });
        },
        [cls, made](Napi::Env) { return SrGanWrap::Adopt(cls, *made); });
    return queueTask(std::move(task));
  });
}

}  // namespace

void defineSrGan(Napi::Env env, Napi::Object exports) {
  // The class and the engine it may adopt travel as the functions' data (the environment's instance data
  // belongs to the SegNet); one per environment, kept for the environment's lifetime like the SegNet's.
  auto* cls = new SrGanClass();
  cls->constructor = Napi::Persistent(SrGanWrap::Define(env, cls));
  exports.Set("createSrGan", Napi::Function::New(env, CreateSrGan, "createSrGan", cls));
}

}  // namespace r3d
