// Storage: one reference-counted buffer that tensors (and their views) share.
// CPU buffers are 64-byte aligned. `version` counts in-place writes, so that autograd can tell
// when a tensor saved for backward was modified after it was saved.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/device.h"

namespace lamina {

class Storage {
 public:
  // Allocates nbytes on device (uninitialised). Throws on failure.
  Storage(size_t nbytes, Device device);
  // Wraps memory owned elsewhere (a NumPy array); `release` runs when the storage dies.
  Storage(void* data, size_t nbytes, Device device, std::function<void()> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::function<void()> release_;  // empty: we own data_
  uint64_t version_ = 0;
};

}  // namespace lamina
