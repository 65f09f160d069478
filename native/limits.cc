#include "limits.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "errors.h"

namespace r3d {

namespace {

double physicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * page : INFINITY;
}

/** cgroup v2 memory.max or v1 memory.limit_in_bytes of this process's cgroup; INFINITY when unlimited or unknown. */
double cgroupLimit() {
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream f(path);
    std::string s;
    if (!(f >> s) || s == "max") continue;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end && *end == 0 && v > 0 && v < 0x1p60) return v;  // v1 reports ~2^63 for "unlimited"
  }
  return INFINITY;
}

std::string bytesText(double bytes) {
  char buf[64];
  if (bytes < 0x1p30)
    std::snprintf(buf, sizeof buf, "%.3g MiB", bytes / 0x1p20);
  else
    std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / 0x1p30);
  return buf;
}

}  // namespace

double memoryBudget() {
  static const double machine = std::min(physicalMemory(), cgroupLimit());
  double budget = machine;
  if (const char* env = std::getenv("RECIST3D_MEMORY_LIMIT_MB"); env && *env) {
    char* end = nullptr;
    const double mb = std::strtod(env, &end);
    if (!end || *end != 0 || !(mb >= 1) || mb != std::floor(mb) || mb > 0x1p40)
      throw CodedError("E_NATIVE_ARG", std::string("RECIST3D_MEMORY_LIMIT_MB must be a positive integer but is '") +
                                           env + "'");
    budget = std::min(budget, mb * 0x1p20);
  }
  return budget;
}

void requireMemory(double bytes, const std::string& what, const std::string& advice) {
  const double budget = memoryBudget();
  if (bytes > budget) {
    throw CodedError("E_NATIVE_OOM", what + " would need at least " + bytesText(bytes) + " of memory, more than the " +
                                         bytesText(budget) +
                                         " this process may use (the smallest of physical RAM, the cgroup's "
                                         "memory.max and RECIST3D_MEMORY_LIMIT_MB); " + advice);
  }
}

double activationBytes(const NetConfig& c, double images) {
  return 4.0 * images * c.size * static_cast<double>(c.size) * (c.inChannels + 2.0 * c.baseWidth);
}

double netStateBytes(const NetConfig& c) {
  const double w = static_cast<double>(levelWidth(c.arch, c.baseWidth, c.depth - 1));
  return 4.0 * 4.0 * 9.0 * w * w;
}

}  // namespace r3d
