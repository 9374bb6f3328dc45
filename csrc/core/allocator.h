// The host allocator behind every CPU Storage: 64-byte aligned blocks, with a cache of freed
// large blocks. A training step frees and re-allocates the same large buffers (gradients,
// activations) every step; glibc's malloc serves them with mmap/munmap (or trims its heap), so
// each step page-faults its memory back in unless the user tunes malloc. Keeping freed blocks
// in size-class free lists makes the second step onward fault-free.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace lamina {

struct HostAllocatorStats {
  size_t cached_bytes;     // held in the free lists
  size_t hits, misses;     // cached-size-class requests served from the cache / from malloc
};

// Returns 64-byte aligned memory of at least nbytes (nbytes 0 gives a valid, distinct block).
// Throws std::bad_alloc on failure.
void* host_alloc(size_t nbytes);
// Frees a block from host_alloc; nbytes must be the size it was allocated with.
void host_free(void* ptr, size_t nbytes);
// Returns every cached block to the system.
void host_empty_cache();
HostAllocatorStats host_allocator_stats();

// Scratch memory of a kernel (column buffers, projections) from this allocator: a training step
// asks for the same sizes every step, and memory from new/malloc of this size comes from mmap and
// page-faults back in on every call. n <= 0 gives a null buffer.
template <typename T> struct ScratchFree {
  size_t bytes;
  void operator()(T* p) const { host_free(p, bytes); }
};
template <typename T> using Scratch = std::unique_ptr<T[], ScratchFree<T>>;
template <typename T> Scratch<T> scratch(int64_t n) {
  if (n <= 0) return Scratch<T>(nullptr, ScratchFree<T>{0});
  size_t bytes = size_t(n) * sizeof(T);
  return Scratch<T>(static_cast<T*>(host_alloc(bytes)), ScratchFree<T>{bytes});
}

}  // namespace lamina
