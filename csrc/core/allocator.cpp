// Host allocator: blocks below kCacheMin go straight to aligned_alloc/free (glibc's bins serve
// small blocks well, from memory that stays mapped). Larger blocks are rounded up to a size
// class, eight per power of two (size <= 2^k (1 + j/8), so at most 12.5% of address space is
// unused, and untouched tail pages cost no memory; blocks from 2 MiB on are whole huge pages, see
// system_alloc), and a freed block waits in its class's free list for the next request of that
// class. The cache holds at most kCacheMax bytes (a free that would pass it goes to the system); a
// failed allocation empties the cache and retries. One mutex guards the lists: the blocks it sees
// are large, so their kernels dwarf it. The cache is emptied at exit; frees after that go straight
// to the system.
#include "core/allocator.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <sys/mman.h>

namespace lamina {

namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kCacheMin = size_t(64) << 10;   // 64 KiB: glibc frees above this consolidate and trim
constexpr size_t kCacheMax = size_t(1) << 30;    // 1 GiB held at most
constexpr size_t kHugePage = size_t(2) << 20;

// The size class of a cached block: nbytes rounded up to a multiple of 2^(k-3), where
// 2^k <= nbytes < 2^(k+1).
size_t size_class(size_t nbytes) {
  int k = 63 - __builtin_clzll(static_cast<unsigned long long>(nbytes));
  size_t step = size_t(1) << (k - 3);
  return (nbytes + step - 1) & ~(step - 1);
}

// Blocks of 2 MiB and more are 2 MiB-aligned whole huge pages, marked for transparent huge pages
// (where the kernel's setting is `madvise` or `always`; elsewhere madvise changes nothing): one TLB
// entry then covers 512 pages of an activation that a kernel reads plane by plane, 4 KiB apart (the
// CIFAR CNN's step 36.5-37.7 -> 35.8-36.1 ms, 1 thread, alternated). A block touches at most one
// huge page more than it uses.
void* system_alloc(size_t bytes) {
  if (bytes >= kHugePage) {
    const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, size);
#ifdef MADV_HUGEPAGE
    if (p) madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
  }
  return std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
}

class HostCache {
 public:
  void* allocate(size_t cls) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= cls;
        ++hits_;
        return p;
      }
      ++misses_;
    }
    void* p = system_alloc(cls);
    if (!p) {
      empty();
      p = system_alloc(cls);
    }
    return p;
  }

  void release(void* p, size_t cls) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (open_ && cached_ + cls <= kCacheMax) {
        free_[cls].push_back(p);
        cached_ += cls;
        return;
      }
    }
    std::free(p);
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [cls, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_ = 0;
  }

  void close() {
    empty();
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
  }

  HostAllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {cached_, hits_, misses_};
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0, hits_ = 0, misses_ = 0;
  bool open_ = true;
};

// Never destroyed (storages may die during interpreter teardown, after static destructors);
// the guard below empties it and closes it at exit.
HostCache& cache() {
  static HostCache* c = new HostCache();
  return *c;
}

struct CloseAtExit {
  CloseAtExit() { cache(); }
  ~CloseAtExit() { cache().close(); }
} close_at_exit;

}  // namespace

void* host_alloc(size_t nbytes) {
  if (nbytes > (SIZE_MAX >> 2)) throw std::bad_alloc();  // the rounding below cannot overflow
  void* p = nbytes < kCacheMin ? system_alloc(nbytes == 0 ? kAlignment : nbytes) : cache().allocate(size_class(nbytes));
  if (!p) throw std::bad_alloc();
  return p;
}

void host_free(void* ptr, size_t nbytes) {
  if (nbytes < kCacheMin)
    std::free(ptr);
  else
    cache().release(ptr, size_class(nbytes));
}

void host_empty_cache() { cache().empty(); }

HostAllocatorStats host_allocator_stats() { return cache().stats(); }

}  // namespace lamina
