// Torch-side helpers shared by the SegNet engine (engine.cc, where they are defined) and the SR engine
// (sr_engine.cc): device selection, exception text without the C++ backtrace, and atomic checkpoint writes.
#pragma once
#include <torch/torch.h>

#include <exception>
#include <string>

namespace r3d {

/** The torch device named by RECIST3D_DEVICE ("cpu", "cuda", "cuda:<i>"), checked; throws CodedError. */
torch::Device selectDevice(const std::string& d);

/** An exception's message; for c10::Error without its backtrace. */
std::string shortWhat(const std::exception& e);

/** Writes `ar` to `path` through `path.tmp` and a rename; E_NATIVE_IO naming `what` and the path on failure. */
void saveArchiveAtomic(torch::serialize::OutputArchive& ar, const std::string& path, const std::string& what);

}  // namespace r3d
