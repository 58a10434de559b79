#include "pybind.hpp"

namespace lumengate::bindings {

void register_persona_scorer(py::module_&) {}

}  // namespace lumengate::bindings
