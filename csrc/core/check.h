// Errors. Each C++ exception type here becomes one Python exception (bindings/module.cpp):
// ValueError (shapes, values), TypeError (dtypes, wrong objects), IndexError (indices, dims),
// RuntimeError (state). Messages start with "[op]" and say what was expected and what came.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace lamina {

struct ValueError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct IndexError : std::out_of_range { using std::out_of_range::out_of_range; };
struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct RuntimeError : std::runtime_error { using std::runtime_error::runtime_error; };

// fmt("a", 1, "b") == "a1b": message building with operator<<.
template <typename... Args> std::string fmt(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace lamina

// LAMINA_CHECK(cond, ValueError, "[op] ...", ...): throws the named error when cond is false.
#define LAMINA_CHECK(cond, Error, ...) \
  do {                                   \
    if (!(cond)) throw ::lamina::Error(::lamina::fmt(__VA_ARGS__)); \
  } while (0)
