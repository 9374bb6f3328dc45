#include "core/parallel.h"

#include "core/check.h"

namespace lamina {

void set_num_threads(int n) {
  LAMINA_CHECK(n >= 1 && n <= 1024, ValueError, "[set_num_threads] expected 1 <= n <= 1024, got ", n);
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace lamina
