// A tiny self-contained test runner for the C++ core (no downloads, no framework).
// TEST(name) registers a function; CHECK* record a failure with file:line and go on;
// CHECK_THROWS(expr, Error) passes only when expr throws exactly that lamina error type.
// main.cpp runs every test (or those whose name contains argv[1]) and prints "N passed, N failed".
#pragma once
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/check.h"

namespace lamina::test {

struct TestCase {
  const char* name;
  void (*fn)();
};

inline std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

inline int& current_failures() {
  static int n = 0;
  return n;
}

inline void fail(const char* file, int line, const std::string& what) {
  ++current_failures();
  std::printf("    %s:%d: %s\n", file, line, what.c_str());
}

struct Register {
  Register(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

}  // namespace lamina::test

#define TEST(name)                                                   \
  static void name();                                                \
  static ::lamina::test::Register register_##name(#name, &name);     \
  static void name()

#define CHECK(cond) \
  do {              \
    if (!(cond)) ::lamina::test::fail(__FILE__, __LINE__, "CHECK(" #cond ") failed"); \
  } while (0)

#define CHECK_EQ(a, b)                                                                          \
  do {                                                                                          \
    auto&& check_a_ = (a);                                                                      \
    auto&& check_b_ = (b);                                                                      \
    if (!(check_a_ == check_b_))                                                                \
      ::lamina::test::fail(__FILE__, __LINE__,                                                  \
                           ::lamina::fmt("CHECK_EQ(" #a ", " #b ") failed: ", check_a_, " vs ", check_b_)); \
  } while (0)

// |a - b| <= tol
#define CHECK_NEAR(a, b, tol)                                                                   \
  do {                                                                                          \
    double check_a_ = double(a), check_b_ = double(b);                                          \
    if (!(std::fabs(check_a_ - check_b_) <= (tol)))                                             \
      ::lamina::test::fail(__FILE__, __LINE__,                                                  \
                           ::lamina::fmt("CHECK_NEAR(" #a ", " #b ") failed: ", check_a_, " vs ", check_b_)); \
  } while (0)

#define CHECK_THROWS(expr, Error)                                                               \
  do {                                                                                          \
    bool check_thrown_ = false;                                                                 \
    try {                                                                                       \
      (void)(expr);                                                                             \
    } catch (const ::lamina::Error&) {                                                          \
      check_thrown_ = true;                                                                     \
    } catch (const std::exception& e) {                                                         \
      ::lamina::test::fail(__FILE__, __LINE__,                                                  \
                           ::lamina::fmt(#expr " threw another exception than " #Error ": ", e.what())); \
      check_thrown_ = true;                                                                     \
    }                                                                                           \
    if (!check_thrown_) ::lamina::test::fail(__FILE__, __LINE__, #expr " did not throw " #Error); \
  } while (0)
