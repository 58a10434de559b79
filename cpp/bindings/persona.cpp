#include "pybind.hpp"

namespace lumengate::bindings {

void register_persona(py::module_& m) {
    register_persona_keys(m);
    register_persona_router(m);
    register_persona_scorer(m);
}

}  // namespace lumengate::bindings
