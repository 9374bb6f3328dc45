// Storage allocation: 64-byte aligned host memory from the caching host allocator
// (core/allocator.h), or device memory through the CUDA backend.
#include "core/storage.h"

#include "core/allocator.h"
#include "ops/cuda/kernels.h"

namespace lamina {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cuda()) {
    data_ = cuda::device_malloc(nbytes, device.index);
    return;
  }
  data_ = host_alloc(nbytes);
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void()> release)
    : data_(data), nbytes_(nbytes), device_(device), release_(std::move(release)) {}

Storage::~Storage() {
  if (release_) {
    release_();
  } else if (device_.is_cuda()) {
    cuda::device_free(data_, device_.index);
  } else {
    host_free(data_, nbytes_);
  }
}

}  // namespace lamina
