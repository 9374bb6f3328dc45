// Runs the registered C++ tests of the core: all of them, or those whose name contains argv[1].
// Prints one line per failed test, then "N passed, N failed" on its own line; exit 1 on failure.
#include <cstring>
#include <exception>

#include "check.h"

int main(int argc, char** argv) {
  using namespace lamina::test;
  const char* filter = argc > 1 ? argv[1] : "";
  int passed = 0, failed = 0;
  for (const TestCase& t : registry()) {
    if (!std::strstr(t.name, filter)) continue;
    current_failures() = 0;
    try {
      t.fn();
    } catch (const std::exception& e) {
      fail(__FILE__, __LINE__, lamina::fmt("uncaught exception: ", e.what()));
    }
    if (current_failures() == 0) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAILED %s\n", t.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
