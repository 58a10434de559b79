#include "pybind.hpp"

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "lumengate native core (private; use the lumengate package)";
    lumengate::bindings::register_errors(m);
    lumengate::bindings::register_common(m);
    auto assign = m.def_submodule("assign", "Hashing and bucketing of ids");
    lumengate::bindings::register_assign(assign);
    auto stats = m.def_submodule("stats", "Experiment statistics");
    lumengate::bindings::register_stats(stats);
    auto drift = m.def_submodule("drift", "Drift statistics and detectors");
    lumengate::bindings::register_drift(drift);
    auto persona = m.def_submodule("persona", "Resonance keys, persona routing and item scoring");
    lumengate::bindings::register_persona(persona);
    auto gemini = m.def_submodule("gemini", "Async Gemini client over Asio, Beast and OpenSSL");
    lumengate::bindings::register_gemini(gemini);
}
