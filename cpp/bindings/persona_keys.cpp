#include "pybind.hpp"

namespace lumengate::bindings {

void register_persona_keys(py::module_&) {}

}  // namespace lumengate::bindings
