#include "pybind.hpp"

namespace lumengate::bindings {

void register_drift_tests(py::module_&) {}

}  // namespace lumengate::bindings
