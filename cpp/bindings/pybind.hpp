#pragma once
// The one prelude for binding files. <utility> comes first: Boost 1.74's Asio uses
// std::exchange without including it, which g++ 12 in C++20 mode rejects.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <string_view>
#include <utility>

namespace py = pybind11;
using namespace pybind11::literals;

namespace lumengate::gemini {
struct RetryPolicy;
}

namespace lumengate::bindings {

// The UTF-8 view of one str (the interpreter caches the encoding in the object) or bytes
// object, valid while the object lives; InvalidArgument naming `field` for a str with lone
// surrogates or any other type.
std::string_view text_view(const py::handle& item, const std::string& field);

void register_errors(py::module_& m);
void register_common(py::module_& m);
void register_assign(py::module_& m);
void register_stats(py::module_& m);
void register_drift(py::module_& m);
// Parts of the drift submodule, one binding file each.
void register_drift_histogram(py::module_& m);
void register_drift_tests(py::module_& m);
void register_drift_detectors(py::module_& m);
void register_persona(py::module_& m);
// Parts of the persona submodule, one binding file each.
void register_persona_keys(py::module_& m);
void register_persona_router(py::module_& m);
void register_persona_scorer(py::module_& m);
void register_gemini(py::module_& m);
// Parts of the gemini submodule, one binding file each.
void register_gemini_policy(py::module_& m);
// A gemini::RetryPolicy from any object with gemini.RetryPolicy's attributes.
gemini::RetryPolicy retry_policy(const py::handle& policy);

}  // namespace lumengate::bindings
