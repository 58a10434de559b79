#include "pybind.hpp"

namespace lumengate::bindings {

void register_gemini(py::module_&) {}

}  // namespace lumengate::bindings
