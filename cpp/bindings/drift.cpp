#include "pybind.hpp"

namespace lumengate::bindings {

void register_drift(py::module_& m) {
    register_drift_histogram(m);
    register_drift_tests(m);
    register_drift_detectors(m);
}

}  // namespace lumengate::bindings
