// N-API side of the process group (dist.h): initProcessGroup, processGroupInfo, destroyProcessGroup and
// allReduceMean. The rendezvous blocks a libuv worker (not the torch thread) for up to the timeout; the
// all-reduce runs on the torch thread, so it is ordered with the gradient all-reduces of training.
#include <napi.h>

#include <cstring>
#include <memory>
#include <vector>

#include "args.h"
#include "dist.h"
#include "engine.h"
#include "limits.h"
#include "tasks.h"

namespace r3d {
namespace {

constexpr double kMaxWorldSize = 1 << 20;
constexpr double kMaxTimeoutMs = 7 * 24 * 3600 * 1000.0;

/** initProcessGroup({masterAddr, masterPort, rank, worldSize, timeoutMs}): Promise<void>. */
Napi::Value InitProcessGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expectArgs(info, 1, 1, "initProcessGroup(config)");
  const Fields f = objectArg(info, 0, "process group config");
  GroupConfig c;
  c.masterAddr = f.string("masterAddr");
  if (c.masterAddr.empty() || c.masterAddr.find('\0') != std::string::npos)
    fail(env, "E_NATIVE_ARG", "process group config.masterAddr must be a non-empty host name or address");
  c.masterPort = static_cast<int>(f.integer("masterPort", 1, 65535));
  c.worldSize = static_cast<int>(f.integer("worldSize", 1, kMaxWorldSize));
  c.rank = static_cast<int>(f.integer("rank", 0, c.worldSize - 1));
  c.timeoutMs = static_cast<int64_t>(f.integer("timeoutMs", 1, kMaxTimeoutMs));
  auto task = std::make_unique<Task>(env, [c] { initProcessGroup(c); }, nullptr);
  return queueTask(std::move(task));
}

Napi::Value ProcessGroupInfoJs(const Napi::CallbackInfo& info) {
  expectArgs(info, 0, 0, "processGroupInfo()");
  const GroupInfo g = processGroupInfo();
  Napi::Env env = info.Env();
  if (!g.active) return env.Undefined();
  Napi::Object r = Napi::Object::New(env);
  r.Set("backend", g.backend);
  r.Set("rank", g.rank);
  r.Set("worldSize", g.worldSize);
  r.Set("timeoutMs", static_cast<double>(g.timeoutMs));
  return r;
}

Napi::Value DestroyProcessGroup(const Napi::CallbackInfo& info) {
  expectArgs(info, 0, 0, "destroyProcessGroup()");
  destroyProcessGroup();
  return info.Env().Undefined();
}

/** allReduceMean(values: Float64Array): Promise<Float64Array> (the mean of each entry over the ranks). */
Napi::Value AllReduceMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  expectArgs(info, 1, 1, "allReduceMean(values)");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    fail(env, "E_NATIVE_ARG", "expected a Float64Array for allReduceMean values");
  auto a = info[0].As<Napi::Float64Array>();
  if (a.ElementLength() > static_cast<size_t>(Limits::kMaxCount))
    fail(env, "E_NATIVE_ARG", "allReduceMean: too many values");
  auto values = std::make_shared<std::vector<double>>(a.Data(), a.Data() + a.ElementLength());
  auto task = std::make_unique<Task>(
      env,
      [values] {
        runOnTorchThread([&] {
          allReduceSum(values->data(), static_cast<int64_t>(values->size()), "allReduceMean");
          const double world = processGroupInfo().worldSize;
          for (double& v : *values) v /= world;
        });
      },
      [values](Napi::Env e) {
        auto out = Napi::Float64Array::New(e, values->size());
        std::memcpy(out.Data(), values->data(), values->size() * sizeof(double));
        return out;
      });
  return queueTask(std::move(task));
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value entry(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&] { return F(info); });
}

}  // namespace

void defineProcessGroup(Napi::Env env, Napi::Object exports) {
  exports.Set("initProcessGroup", Napi::Function::New(env, entry<InitProcessGroup>, "initProcessGroup"));
  exports.Set("processGroupInfo", Napi::Function::New(env, entry<ProcessGroupInfoJs>, "processGroupInfo"));
  exports.Set("destroyProcessGroup", Napi::Function::New(env, entry<DestroyProcessGroup>, "destroyProcessGroup"));
  exports.Set("allReduceMean", Napi::Function::New(env, entry<AllReduceMean>, "allReduceMean"));
}

}  // namespace r3d
