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

std::string_view text_view(const py::handle& item, const std::string& field) {
    if (PyUnicode_Check(item.ptr())) {
        Py_ssize_t size = 0;
        const char* data = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
        if (data == nullptr) {
            PyErr_Clear();
            throw InvalidArgument(field, "is not valid UTF-8 (it contains lone surrogates)");
        }
        return {data, static_cast<std::size_t>(size)};
    }
    if (PyBytes_Check(item.ptr())) {
        char* data = nullptr;
        Py_ssize_t size = 0;
        PyBytes_AsStringAndSize(item.ptr(), &data, &size);
        return {data, static_cast<std::size_t>(size)};
    }
    throw InvalidArgument(field, "must be str or bytes, got " +
                                     std::string(py::str(py::type::of(item).attr("__name__"))));
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
        [](const py::object& text) {
            const std::string_view view = text_view(text, "text");
            // `text` outlives the call; a long text is counted without holding the GIL.
            constexpr std::size_t gil_free_from = std::size_t{1} << 16U;
            if (view.size() < gil_free_from) return common::estimate_tokens(view, "text");
            py::gil_scoped_release release;
            return common::estimate_tokens(view, "text");
        },
        "text"_a, "Offline estimate of the Gemini tokens in UTF-8 text (errs high).");
}

}  // namespace lumengate::bindings
