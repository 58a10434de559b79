#include "pybind.hpp"

namespace lumengate::bindings {

void register_drift_detectors(py::module_&) {}

}  // namespace lumengate::bindings
