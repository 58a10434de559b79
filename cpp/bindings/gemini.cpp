#include "pybind.hpp"

namespace lumengate::bindings {

void register_gemini(py::module_& m) { register_gemini_policy(m); }

}  // namespace lumengate::bindings
