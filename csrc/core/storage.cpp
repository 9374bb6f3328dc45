// Storage allocation: 64-byte aligned host memory, or device memory through the CUDA backend.
#include "core/storage.h"

#include <cstdlib>
#include <new>

#include "ops/cuda/kernels.h"

namespace lamina {

static constexpr size_t kAlignment = 64;

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cuda()) {
    data_ = cuda::device_malloc(nbytes, device.index);
    return;
  }
  size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded < nbytes) throw std::bad_alloc();
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (!data_) throw std::bad_alloc();
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void()> release)
    : data_(data), nbytes_(nbytes), device_(device), release_(std::move(release)) {}

Storage::~Storage() {
  if (release_) {
    release_();
  } else if (device_.is_cuda()) {
    cuda::device_free(data_, device_.index);
  } else {
    std::free(data_);
  }
}

}  // namespace lamina
