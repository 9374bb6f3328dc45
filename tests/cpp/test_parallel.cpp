// parallel_for (core/parallel.h): every index of the range visited exactly once, with any
// thread count and grain; set_num_threads validates its argument.
#include <atomic>
#include <vector>

#include "check.h"
#include "core/parallel.h"

using namespace lamina;

namespace {

// Runs parallel_for over [begin, end) and checks that each index was visited exactly once.
void check_covers_once(int64_t begin, int64_t end, int64_t grain) {
  std::vector<std::atomic<int>> visits(size_t(end > begin ? end - begin : 0));
  std::atomic<int> calls{0};
  parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
    ++calls;
    for (int64_t i = b; i < e; ++i) ++visits[size_t(i - begin)];
  });
  bool once = true;
  for (auto& v : visits) once &= v.load() == 1;
  CHECK(once);
  if (end <= begin) CHECK_EQ(calls.load(), 0);
}

}  // namespace

TEST(parallel_for_covers_the_range_exactly_once) {
  int saved = get_num_threads();
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    check_covers_once(0, 0, 1);
    check_covers_once(5, 3, 1);
    check_covers_once(0, 1, 1);
    check_covers_once(0, 1000, 1);
    check_covers_once(-17, 1001, 64);
    check_covers_once(0, 100003, 4096);
    check_covers_once(10, 20, 1000);  // below the grain: inline
  }
  set_num_threads(saved);
}

TEST(parallel_for_nested_runs_inline) {
  int saved = get_num_threads();
  set_num_threads(2);
  std::atomic<int64_t> total{0};
  parallel_for(0, 4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      parallel_for(0, 100, 1, [&](int64_t ib, int64_t ie) { total += ie - ib; });
  });
  CHECK_EQ(total.load(), int64_t(400));
  set_num_threads(saved);
}

TEST(set_num_threads_rejects_out_of_range) {
  int saved = get_num_threads();
  CHECK_THROWS(set_num_threads(0), ValueError);
  CHECK_THROWS(set_num_threads(-2), ValueError);
  set_num_threads(1);
  CHECK_EQ(get_num_threads(), 1);
  set_num_threads(saved);
}
