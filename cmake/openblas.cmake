# OpenBLAS from the scipy-openblas32 wheel (symbols prefixed scipy_cblas_*), found through the
# Python that runs the build: lamina::openblas carries its headers, library and rpath.
find_package(Python 3.9 REQUIRED COMPONENTS Interpreter)
execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import scipy_openblas32 as s; print(s.get_include_dir()); print(s.get_lib_dir())"
  OUTPUT_VARIABLE _openblas_dirs OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _openblas_rc)
if(NOT _openblas_rc EQUAL 0)
  message(FATAL_ERROR "scipy-openblas32 not found for ${Python_EXECUTABLE}: pip install scipy-openblas32")
endif()
string(REPLACE "\n" ";" _openblas_dirs "${_openblas_dirs}")
list(GET _openblas_dirs 0 LAMINA_OPENBLAS_INCLUDE)
list(GET _openblas_dirs 1 LAMINA_OPENBLAS_LIBDIR)
find_library(LAMINA_OPENBLAS_LIB scipy_openblas PATHS "${LAMINA_OPENBLAS_LIBDIR}" NO_DEFAULT_PATH REQUIRED)
add_library(lamina::openblas SHARED IMPORTED)
set_target_properties(lamina::openblas PROPERTIES
  IMPORTED_LOCATION "${LAMINA_OPENBLAS_LIB}"
  IMPORTED_NO_SONAME OFF
  INTERFACE_INCLUDE_DIRECTORIES "${LAMINA_OPENBLAS_INCLUDE}")
message(STATUS "Lamina: OpenBLAS ${LAMINA_OPENBLAS_LIB}")
