// The two worker kinds behind every promise the addon returns: Task (a plain result) and EpochTask (training
// with progress). Whatever a worker throws becomes a coded rejection; nothing thrown on the JS thread while
// settling escapes either. Header-only; no torch headers.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "args.h"
#include "engine.h"
#include "errors.h"

namespace r3d {

/** Runs `exec` on the libuv pool; resolves with `ok(env)`; `finally` runs on the main thread first. */
class Task : public Napi::AsyncWorker {
 public:
  Task(Napi::Env env, std::function<void()> exec, std::function<Napi::Value(Napi::Env)> ok,
       std::function<void()> finally = nullptr)
      : Napi::AsyncWorker(env, "recist3d"),
        deferred_(Napi::Promise::Deferred::New(env)),
        exec_(std::move(exec)),
        ok_(std::move(ok)),
        finally_(std::move(finally)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      exec_();
    } catch (...) {
      err_ = classifyException(std::current_exception());
      SetError(err_.message);
    }
  }
  void OnOK() override {
    if (finally_) finally_();
    try {
      deferred_.Resolve(ok_ ? ok_(Env()) : Env().Undefined());
    } catch (const Napi::Error& e) {
      // Making the result failed on the JS thread: a typed array V8 could not allocate, or (createSegNet)
      // the handle's constructor refused. Coded errors pass as they are.
      Napi::Value v = e.Value();
      if (v.IsObject() && v.As<Napi::Object>().Has("code")) return deferred_.Reject(v);
      deferred_.Reject(codedError(Env(), "E_NATIVE_OOM", "could not hand the result to JS: " + e.Message()).Value());
    } catch (...) {
      const ErrorInfo err = classifyException(std::current_exception());
      deferred_.Reject(codedError(Env(), err.code, err.message).Value());
    }
  }
  void OnError(const Napi::Error&) override {
    if (finally_) finally_();
    deferred_.Reject(codedError(Env(), err_.code, err_.message).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> exec_;
  std::function<Napi::Value(Napi::Env)> ok_;
  std::function<void()> finally_;
  ErrorInfo err_;
};

/** Queues a worker (Task, EpochTask) and returns its promise; the worker deletes itself when it has settled. */
template <class W>
Napi::Promise queueTask(std::unique_ptr<W> task) {
  Napi::Promise promise = task->promise();
  task->Queue();
  task.release();
  return promise;
}

struct EpochProgress {
  int done, total;
  float loss;
};

/**
 * trainEpoch: progress events are queued and all delivered (in order) before the promise settles. If
 * onProgress throws, the epoch stops after the step in flight and the promise rejects with that error.
 */
class EpochTask : public Napi::AsyncProgressQueueWorker<EpochProgress> {
 public:
  EpochTask(Napi::Env env, std::shared_ptr<Engine> engine, std::shared_ptr<Batch> data, EpochOptions opts,
            double learningRate, Napi::Function onProgress, std::function<void()> finally)
      : Napi::AsyncProgressQueueWorker<EpochProgress>(env, "recist3d.trainEpoch"),
        deferred_(Napi::Promise::Deferred::New(env)),
        engine_(std::move(engine)),
        data_(std::move(data)),
        opts_(opts),
        learningRate_(learningRate),
        finally_(std::move(finally)) {
    if (!onProgress.IsEmpty()) onProgress_ = Napi::Persistent(onProgress);
  }
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    try {
      runOnTorchThread([&] {
        engine_->setLearningRate(learningRate_);
        loss_ = engine_->trainEpoch(*data_, opts_, &steps_, [&](int done, int total, float loss) {
          if (cancelled_.load()) throw CodedError("E_NATIVE_ARG", "trainEpoch stopped: onProgress threw");
          EpochProgress p{done, total, loss};
          progress.Send(&p, 1);
        });
      });
    } catch (...) {
      err_ = classifyException(std::current_exception());
      SetError(err_.message);
    }
  }
  void OnProgress(const EpochProgress* p, size_t count) override {
    if (onProgress_.IsEmpty() || !callbackError_.IsEmpty()) return;
    Napi::Env env = Env();
    for (size_t i = 0; i < count; ++i) {
      try {
        onProgress_.Call({Napi::Number::New(env, p[i].done), Napi::Number::New(env, p[i].total),
                          Napi::Number::New(env, p[i].loss)});
      } catch (const Napi::Error& e) {
        // Stop after the current step and reject with the callback's own error.
        callbackError_ = Napi::Reference<Napi::Value>::New(e.Value(), 1);
        cancelled_.store(true);
        return;
      }
    }
  }
  void OnOK() override {
    finally_();
    if (!callbackError_.IsEmpty()) return deferred_.Reject(callbackError_.Value());
    try {
      Napi::Object r = Napi::Object::New(Env());
      r.Set("loss", Napi::Number::New(Env(), loss_));
      r.Set("steps", Napi::Number::New(Env(), steps_));
      deferred_.Resolve(r);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error&) override {
    finally_();
    if (!callbackError_.IsEmpty()) return deferred_.Reject(callbackError_.Value());
    deferred_.Reject(codedError(Env(), err_.code, err_.message).Value());
  }

 private:
  std::atomic<bool> cancelled_{false};
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Engine> engine_;
  std::shared_ptr<Batch> data_;
  EpochOptions opts_;
  double learningRate_;
  std::function<void()> finally_;
  Napi::FunctionReference onProgress_;
  Napi::Reference<Napi::Value> callbackError_;
  ErrorInfo err_;
  float loss_ = 0;
  int steps_ = 0;
};

}  // namespace r3d
