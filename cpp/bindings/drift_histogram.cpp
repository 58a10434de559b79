#include "pybind.hpp"

namespace lumengate::bindings {

void register_drift_histogram(py::module_&) {}

}  // namespace lumengate::bindings
