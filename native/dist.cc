// The process group: c10d::TCPStore (rendezvous) + c10d::ProcessGroupGloo (collectives) from libtorch_cpu.
// All c10d/Gloo headers stay in this file. See dist.h.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1  // Debian's libtorch_cpu is built with Gloo; the header hides the class without this
#endif
#include "dist.h"

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "errors.h"

namespace r3d {
namespace {

/**
 * Every rank's heartbeat: a counter `recist3d/beat/<rank>` in the TCPStore that a detached thread increments
 * every kBeatMs on its own store connection. When a collective fails, the counters that stop moving name the
 * rank(s) that died or hang (Gloo itself only names a peer's address).
 */
constexpr int kBeatMs = 250;

struct Beat {
  std::mutex mutex;  // the client is used by the beating thread and by a failing collective's diagnosis
  c10::intrusive_ptr<c10d::TCPStore> client;
  std::atomic<bool> stop{false};
};

std::string beatKey(int rank) { return "recist3d/beat/" + std::to_string(rank); }

struct Group {
  GroupConfig config;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::shared_ptr<Beat> beat;
};

void startBeat(Group& g) {
  auto beat = std::make_shared<Beat>();
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(g.config.masterPort);
  o.isServer = false;
  o.waitWorkers = false;
  o.timeout = std::chrono::milliseconds(std::min<int64_t>(g.config.timeoutMs, 10000));
  beat->client = c10::make_intrusive<c10d::TCPStore>(g.config.masterAddr, o);
  const std::string key = beatKey(g.config.rank);
  beat->client->add(key, 1);
  g.beat = beat;
  std::thread([beat, key] {
    while (!beat->stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kBeatMs));
      try {
        std::lock_guard<std::mutex> lock(beat->mutex);
        beat->client->add(key, 1);
      } catch (...) {
        return;  // the store (rank 0) is gone: nothing to beat for
      }
    }
  }).detach();
}

/**
 * Which ranks stopped beating: reads every counter twice, a few beats apart. Says so when rank 0's store does
 * not answer (rank 0 died). Empty when it cannot tell.
 */
std::string silentRanks(const Group& g) {
  if (!g.beat) return "";
  const int w = g.config.worldSize;
  std::vector<int64_t> before(w), after(w);
  try {
    {
      std::lock_guard<std::mutex> lock(g.beat->mutex);
      for (int r = 0; r < w; ++r) before[r] = g.beat->client->add(beatKey(r), 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(6 * kBeatMs));
    std::lock_guard<std::mutex> lock(g.beat->mutex);
    for (int r = 0; r < w; ++r) after[r] = g.beat->client->add(beatKey(r), 0);
  } catch (...) {
    return "; rank 0, which serves the job's TCPStore, does not answer: rank 0 died or its host is unreachable";
  }
  std::string silent;
  int count = 0;
  for (int r = 0; r < w; ++r)
    if (r != g.config.rank && after[r] == before[r]) silent += (count++ ? ", " : "") + std::to_string(r);
  if (count == 0) return "; every other rank is still alive (a rank left the group or failed on its own)";
  return "; rank(s) " + silent + " of ranks 0-" + std::to_string(w - 1) +
         (count == 1 ? " has" : " have") + " stopped responding (died, was killed, or hangs)";
}

std::mutex gMutex;
// Leaked on purpose when the process exits with a group alive: no Gloo thread join during exit.
std::shared_ptr<Group>* gGroup = new std::shared_ptr<Group>();

std::shared_ptr<Group> current() {
  std::lock_guard<std::mutex> lock(gMutex);
  return *gGroup;
}

std::string whatOf(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

bool looksLikeTimeout(const std::string& m) {
  for (const char* s : {"imed out", "imeout", "timed_out", "Connection timed"})
    if (m.find(s) != std::string::npos) return true;
  return false;
}

std::string seconds(int64_t ms) {
  std::ostringstream s;
  s << ms / 1000.0 << " s";
  return s.str();
}

/** Loopback master: every rank is on this machine, so Gloo can use the loopback interface. */
bool isLoopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

/** The Gloo transport device(s), chosen like PyTorch's: GLOO_SOCKET_IFNAME, else the host's own address. */
std::vector<std::shared_ptr<::gloo::transport::Device>> devices(const GroupConfig& c) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> out;
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) {
    std::stringstream names(ifname);
    std::string name;
    while (std::getline(names, name, ','))
      if (!name.empty()) out.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
  } else if (isLoopback(c.masterAddr)) {
    out.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    out.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return out;
}

/** Waits for a collective; any failure becomes a CodedError naming this rank and the peer timeout. */
void finish(const Group& g, c10::intrusive_ptr<c10d::Work> work, const char* what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    const std::string m = whatOf(e);
    throw CodedError(looksLikeTimeout(m) ? "E_DIST_TIMEOUT" : "E_DIST",
                     std::string(what) + " failed on rank " + std::to_string(g.config.rank) + " of " +
                         std::to_string(g.config.worldSize) + " (a peer died, left, or did not answer within " +
                         seconds(g.config.timeoutMs) + ")" + silentRanks(g) + ": " + m);
  }
}

std::shared_ptr<Group> require(const char* what) {
  auto g = current();
  if (!g) throw CodedError("E_DIST", std::string(what) + ": no process group (join one first)");
  return g;
}

template <class T>
void allReduce(T* data, int64_t n, const char* what, c10::ScalarType type) {
  auto g = require(what);
  if (n == 0) return;
  std::vector<at::Tensor> t{torch::from_blob(data, {n}, type)};
  finish(*g, g->pg->allreduce(t), what);
}

std::chrono::milliseconds elapsedSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

std::string joinedKey(int rank) { return "recist3d/joined/" + std::to_string(rank); }

/** Every rank announces itself in the store and waits (up to `left`) until all have; else names the missing. */
void waitRanks(c10d::Store& store, const GroupConfig& c, std::chrono::milliseconds left, const std::string& where) {
  store.set(joinedKey(c.rank), std::vector<uint8_t>{1});
  std::vector<std::string> keys;
  for (int r = 0; r < c.worldSize; ++r) keys.push_back(joinedKey(r));
  try {
    store.wait(keys, std::max(left, std::chrono::milliseconds(1)));
  } catch (const std::exception& e) {
    std::string missing;
    int count = 0;
    for (int r = 0; r < c.worldSize && count < 20; ++r) {
      bool there = false;
      try {
        there = store.check({joinedKey(r)});
      } catch (...) {
      }
      if (!there) missing += (count++ ? ", " : "") + std::to_string(r);
    }
    if (missing.empty()) throw;
    throw CodedError("E_DIST_TIMEOUT", where + " could not join the job: rank(s) " + missing +
                                           " did not join within the timeout of " + seconds(c.timeoutMs) +
                                           " (are all WORLD_SIZE ranks started, with the same MASTER_ADDR and "
                                           "MASTER_PORT?)");
  }
}

}  // namespace

void initProcessGroup(const GroupConfig& c) {
  if (current()) throw CodedError("E_DIST", "this process already joined a process group");
  const auto timeout = std::chrono::milliseconds(c.timeoutMs);
  const std::string where = "rank " + std::to_string(c.rank) + " of " + std::to_string(c.worldSize) +
                            " (MASTER_ADDR=" + c.masterAddr + ", MASTER_PORT=" + std::to_string(c.masterPort) + ")";
  auto g = std::make_shared<Group>();
  g->config = c;
  const auto t0 = std::chrono::steady_clock::now();
  const char* phase = "the TCPStore rendezvous";
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(c.masterPort);
    o.isServer = c.rank == 0;
    o.numWorkers = static_cast<std::size_t>(c.worldSize);
    o.waitWorkers = false;  // waitRanks below names the missing ranks (the store's own wait gives up silently)
    o.timeout = timeout;
    phase = "connecting to the TCPStore served by rank 0";
    g->store = c10::make_intrusive<c10d::TCPStore>(c.masterAddr, o);
    phase = "waiting for every rank";
    waitRanks(*g->store, c, timeout - elapsedSince(t0), where);
    phase = "the Gloo connection to every rank";
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    opts->devices = devices(c);
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, c.rank, c.worldSize, opts);
    phase = "starting the heartbeat";
    startBeat(*g);
  } catch (const CodedError&) {
    throw;
  } catch (const std::exception& e) {
    const std::string m = whatOf(e);
    const bool timedOut = looksLikeTimeout(m) || elapsedSince(t0) >= timeout;
    throw CodedError(timedOut ? "E_DIST_TIMEOUT" : "E_DIST",
                     where + " could not join the job: " + phase +
                         (timedOut ? " did not complete within the timeout of " + seconds(c.timeoutMs) +
                                         " (are all WORLD_SIZE ranks started, and is MASTER_PORT right?)"
                                   : " failed") +
                         ": " + m);
  }
  std::lock_guard<std::mutex> lock(gMutex);
  if (*gGroup) throw CodedError("E_DIST", "this process already joined a process group");
  *gGroup = std::move(g);
}

void destroyProcessGroup() {
  std::shared_ptr<Group> old;
  {
    std::lock_guard<std::mutex> lock(gMutex);
    old.swap(*gGroup);
  }
  if (old && old->beat) old->beat->stop = true;
  // `old` (and with it the Gloo threads and sockets) goes here, unless a collective still holds it.
}

GroupInfo processGroupInfo() {
  GroupInfo info;
  if (auto g = current()) {
    info.active = true;
    info.backend = "gloo";
    info.rank = g->config.rank;
    info.worldSize = g->config.worldSize;
    info.timeoutMs = g->config.timeoutMs;
  }
  return info;
}

bool processGroupActive() {
  auto g = current();
  return g && g->config.worldSize > 1;
}

void allReduceSum(float* data, int64_t n, const char* what) { allReduce(data, n, what, torch::kFloat32); }
void allReduceSum(double* data, int64_t n, const char* what) { allReduce(data, n, what, torch::kFloat64); }

void broadcastFromRoot(float* data, int64_t n, const char* what) {
  auto g = require(what);
  if (n == 0) return;
  std::vector<at::Tensor> t{torch::from_blob(data, {n}, torch::kFloat32)};
  finish(*g, g->pg->broadcast(t), what);
}

}  // namespace r3d
