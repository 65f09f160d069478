// The process group of a data-parallel job: PyTorch's own c10d runtime (a TCPStore rendezvous and a
// ProcessGroupGloo), behind a plain C++ interface so that only dist.cc includes the c10d/Gloo headers. One
// group per process (like torch.distributed's default group). Every failure is a CodedError: E_DIST_TIMEOUT
// when a peer did not answer within the group's timeout, E_DIST otherwise; the message names this rank.
#pragma once
#include <cstdint>
#include <string>

namespace r3d {

struct GroupConfig {
  std::string masterAddr;
  int masterPort = 29500;
  int rank = 0;
  int worldSize = 1;
  /** Rendezvous and per-collective timeout. */
  int64_t timeoutMs = 300000;
};

struct GroupInfo {
  bool active = false;
  std::string backend;  // "gloo" when active
  int rank = 0;
  int worldSize = 1;
  int64_t timeoutMs = 0;
};

/**
 * Joins the job: rank 0 serves the TCPStore at masterAddr:masterPort and waits for the others; every rank
 * then builds the ProcessGroupGloo (full mesh). Blocks up to about twice the timeout; call it on a worker
 * thread. Throws E_DIST if a group already exists.
 */
void initProcessGroup(const GroupConfig& config);

/** Drops the group (this process leaves; the others fail at their next collective). */
void destroyProcessGroup();

GroupInfo processGroupInfo();

/** True while a group of more than one rank exists: the training paths use it only then. */
bool processGroupActive();

/** Sums `n` values across ranks in place (blocks until every rank contributed, or throws). */
void allReduceSum(float* data, int64_t n, const char* what);
void allReduceSum(double* data, int64_t n, const char* what);

/** Overwrites `n` values with rank 0's. */
void broadcastFromRoot(float* data, int64_t n, const char* what);

}  // namespace r3d
