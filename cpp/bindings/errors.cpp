#include "lumengate/common/error.hpp"
#include "lumengate/common/threads.hpp"
#include "lumengate/common/tokens.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

// Sets lumengate.errors.<name>(message, **attributes) as the pending Python error; the classes
// live in Python so that users can subclass and pickle them like any other exception.
void set_python_error(const char* name, const std::exception& e, const py::dict& attributes) {
    try {
        py::object cls = py::module_::import("lumengate.errors").attr(name);
        py::object instance = cls(py::str(e.what()), **attributes);
        PyErr_SetObject(cls.ptr(), instance.ptr());
    } catch (py::error_already_set& failure) {
        failure.restore();
    }
}

}  // namespace

void register_errors(py::module_&) {
    // One translator for the whole module: core exceptions become the Python hierarchy.
    py::register_exception_translator([](std::exception_ptr p) {
        if (!p) return;
        try {
            std::rethrow_exception(p);
        } catch (const ParseError& e) {
            set_python_error("ParseError", e, py::dict("field"_a = e.field()));
        } catch (const InvalidArgument& e) {
            set_python_error("InvalidArgument", e, py::dict("field"_a = e.field()));
        } catch (const HttpError& e) {
            set_python_error("HttpError", e,
                             py::dict("status"_a = e.status(), "retryable"_a = e.retryable()));
        } catch (const Timeout& e) {
            set_python_error("Timeout", e, py::dict());
        } catch (const Cancelled& e) {
            set_python_error("Cancelled", e, py::dict());
        } catch (const RateLimited& e) {
            set_python_error("RateLimited", e, py::dict());
        } catch (const CircuitOpen& e) {
            set_python_error("CircuitOpen", e, py::dict());
        } catch (const Error& e) {
            set_python_error("LumengateError", e, py::dict());
        }
    });
}

void register_common(py::module_& m) {
    m.def("available_cpus", &available_cpus,
          "CPUs this process may use (affinity mask, then cgroup CPU quota).");
    m.def("set_max_threads", &set_max_threads, "cap"_a,
          "Cap the threads any batch call may use (0 removes the cap); process-wide.");
    m.def("max_threads", &max_threads, "The process-wide thread cap (0 = none).");
    m.def("resolve_threads", &resolve_threads, "requested"_a,
          "Threads a batch call will use for `requested` (0 = all available), after the cap.");
    m.def(
        "estimate_tokens",
        [](std::string_view text) { return common::estimate_tokens(text, "text"); }, "text"_a,
        "Offline estimate of the Gemini tokens in UTF-8 text (errs high).");
}

}  // namespace lumengate::bindings
