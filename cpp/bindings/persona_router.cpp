#include "pybind.hpp"

namespace lumengate::bindings {

void register_persona_router(py::module_&) {}

}  // namespace lumengate::bindings
