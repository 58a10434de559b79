#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lumengate/common/error.hpp"
#include "lumengate/drift/adwin.hpp"
#include "lumengate/drift/kswin.hpp"
#include "lumengate/drift/page_hinkley.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using drift::NonFinite;
using Values = py::array_t<double, py::array::c_style | py::array::forcecast>;

// A detector shared between Python threads: every call holds its mutex.
template <class Detector>
struct Shared {
    explicit Shared(Detector d) : detector(std::move(d)) {}
    std::mutex mutex;
    Detector detector;
};

// Takes the detector's mutex without ever waiting for it while holding the GIL, so that a
// thread inside update_many (GIL released, mutex held) can always finish.
std::unique_lock<std::mutex> lock(std::mutex& mutex) {
    std::unique_lock<std::mutex> guard(mutex, std::try_to_lock);
    if (!guard.owns_lock()) {
        py::gil_scoped_release release;
        guard.lock();
    }
    return guard;
}

std::span<const double> values_of(const Values& xs) {
    if (xs.ndim() != 1) {
        throw InvalidArgument(
            "xs", "must be one-dimensional, got " + std::to_string(xs.ndim()) + " dimensions");
    }
    return {xs.data(), static_cast<std::size_t>(xs.size())};
}

const char* policy_name(NonFinite policy) { return policy == NonFinite::drop ? "drop" : "reject"; }

// update(x) is the per-value call of a service, so it skips pybind11's generic dispatcher: a
// METH_O method reads the float, locks, updates and returns a bool (about half the cost).
template <class Detector>
PyObject* fast_update(PyObject* self, PyObject* arg) noexcept {
    try {
        const double x = PyFloat_CheckExact(arg) ? PyFloat_AS_DOUBLE(arg) : PyFloat_AsDouble(arg);
        if (x == -1.0 && PyErr_Occurred()) return nullptr;
        auto& shared = py::handle(self).cast<Shared<Detector>&>();
        bool detected = false;
        {
            const auto guard = lock(shared.mutex);
            detected = shared.detector.update(x);
        }
        return PyBool_FromLong(detected ? 1 : 0);
    } catch (...) {
        py::detail::try_translate_exceptions();
        return nullptr;
    }
}

template <class Detector, class Class>
void install_fast_update(Class& cls) {
    static PyMethodDef definition{
        "update",
        reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast_update<Detector>)), METH_O,
        "update($self, x, /)\n--\n\nAdd one value; True when a drift is detected on it. The update "
        "after a detection starts afresh, as River does."};
    PyObject* method = PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &definition);
    if (method == nullptr) throw py::error_already_set();
    cls.attr("update") = py::reinterpret_steal<py::object>(method);
}

template <class Detector, class Class>
void bind_common(Class& cls) {
    using S = Shared<Detector>;
    install_fast_update<Detector>(cls);
    cls.def(
           "update_many",
           [](S& self, const Values& xs) {
               const std::span<const double> values = values_of(xs);
               std::vector<std::int64_t> detected;
               {
                   // Safe without the GIL: `xs` keeps its buffer alive for this call and the
                   // loop touches only the detector, under its mutex.
                   py::gil_scoped_release release;
                   const std::lock_guard<std::mutex> guard(self.mutex);
                   detected = self.detector.update_many(values);
               }
               py::array_t<std::int64_t> out(static_cast<py::ssize_t>(detected.size()));
               std::copy(detected.begin(), detected.end(), out.mutable_data());
               return out;
           },
           "xs"_a,
           "Add every value in order; the indices (into xs) where a drift was detected, "
           "exactly those of repeated update() calls.")
        .def_property_readonly(
            "drift_detected",
            [](S& self) {
                const auto guard = lock(self.mutex);
                return self.detector.drift_detected();
            },
            "Whether the last update detected a drift.")
        .def_property_readonly(
            "n_detections",
            [](S& self) {
                const auto guard = lock(self.mutex);
                return self.detector.n_detections();
            },
            "Drifts detected since this detector was created.")
        .def_property_readonly(
            "n_seen",
            [](S& self) {
                const auto guard = lock(self.mutex);
                return self.detector.n_seen();
            },
            "Values taken since this detector was created (dropped ones not counted).")
        .def_property_readonly(
            "n_dropped",
            [](S& self) {
                const auto guard = lock(self.mutex);
                return self.detector.n_dropped();
            },
            "Non-finite values skipped under non_finite='drop'.")
        .def_property_readonly(
            "non_finite",
            [](S& self) {
                const auto guard = lock(self.mutex);
                return policy_name(self.detector.non_finite());
            },
            "What happens to NaN and inf: 'reject' (raise) or 'drop' (skip and count).")
        .def(
            "to_bytes",
            [](S& self) {
                std::string bytes;
                {
                    const auto guard = lock(self.mutex);
                    bytes = self.detector.to_bytes();
                }
                return py::bytes(bytes);
            },
            "The detector's parameters and state as versioned little-endian bytes.")
        .def(
            "_restore",
            [](S& self, const py::bytes& state) {
                Detector restored = Detector::from_bytes(std::string_view(state));
                const auto guard = lock(self.mutex);
                self.detector = std::move(restored);
            },
            "state"_a, "Replace parameters and state with those of to_bytes() output.");
}

template <class Detector, class Getter>
auto locked(Getter getter) {
    return [getter](Shared<Detector>& self) {
        const auto guard = lock(self.mutex);
        return getter(self.detector);
    };
}

}  // namespace

void register_drift_detectors(py::module_& m) {
    using drift::Adwin;
    using drift::Kswin;
    using drift::PageHinkley;

    py::class_<Shared<Adwin>> adwin(m, "ADWIN", "ADWIN change detector (native part).");
    adwin.def(
        py::init([](double delta, std::int64_t clock, std::int64_t max_buckets,
                    std::int64_t min_window_length, std::int64_t grace_period,
                    const std::string& non_finite) {
            drift::AdwinOptions options{delta, clock, max_buckets, min_window_length, grace_period};
            return std::make_unique<Shared<Adwin>>(
                Adwin(options, drift::parse_non_finite(non_finite)));
        }),
        "delta"_a = 0.002, "clock"_a = 32, "max_buckets"_a = 5, "min_window_length"_a = 5,
        "grace_period"_a = 10, py::kw_only(), "non_finite"_a = "reject",
        "An ADWIN detector with River's defaults.");
    bind_common<Adwin>(adwin);
    adwin
        .def_property_readonly("delta",
                               locked<Adwin>([](const Adwin& d) { return d.options().delta; }),
                               "Significance of the cut test.")
        .def_property_readonly("clock",
                               locked<Adwin>([](const Adwin& d) { return d.options().clock; }),
                               "The window is checked every `clock` updates.")
        .def_property_readonly(
            "max_buckets", locked<Adwin>([](const Adwin& d) { return d.options().max_buckets; }),
            "Buckets of each size kept before two are merged.")
        .def_property_readonly("min_window_length", locked<Adwin>([](const Adwin& d) {
                                   return d.options().min_window_length;
                               }),
                               "Smallest sub-window a cut may leave.")
        .def_property_readonly(
            "grace_period", locked<Adwin>([](const Adwin& d) { return d.options().grace_period; }),
            "Values needed in the window before any check.")
        .def_property_readonly("width", locked<Adwin>([](const Adwin& d) { return d.width(); }),
                               "Number of values in the current window.")
        .def_property_readonly("total", locked<Adwin>([](const Adwin& d) { return d.total(); }),
                               "Sum of the values in the current window.")
        .def_property_readonly("variance",
                               locked<Adwin>([](const Adwin& d) { return d.variance(); }),
                               "Sum of squared deviations from the window mean (River's "
                               "`variance`).")
        .def_property_readonly("estimation",
                               locked<Adwin>([](const Adwin& d) { return d.estimation(); }),
                               "Mean of the current window (0 when empty).");

    py::class_<Shared<PageHinkley>> ph(m, "PageHinkley",
                                       "Page-Hinkley change detector (native part).");
    ph.def(py::init([](std::int64_t min_instances, double delta, double threshold, double alpha,
                       const std::string& mode, const std::string& non_finite) {
               drift::PageHinkleyOptions options{min_instances, delta, threshold, alpha,
                                                 drift::parse_page_hinkley_mode(mode)};
               return std::make_unique<Shared<PageHinkley>>(
                   PageHinkley(options, drift::parse_non_finite(non_finite)));
           }),
           "min_instances"_a = 30, "delta"_a = 0.005, "threshold"_a = 50.0,
           "alpha"_a = 1.0 - 0.0001, "mode"_a = "both", py::kw_only(), "non_finite"_a = "reject",
           "A Page-Hinkley detector with River's defaults.");
    bind_common<PageHinkley>(ph);
    ph.def_property_readonly("min_instances", locked<PageHinkley>([](const PageHinkley& d) {
                                 return d.options().min_instances;
                             }),
                             "Values needed since the last detection before any detection.")
        .def_property_readonly(
            "delta", locked<PageHinkley>([](const PageHinkley& d) { return d.options().delta; }),
            "Magnitude of change tolerated per value.")
        .def_property_readonly("threshold", locked<PageHinkley>([](const PageHinkley& d) {
                                   return d.options().threshold;
                               }),
                               "Detection threshold (lambda).")
        .def_property_readonly(
            "alpha", locked<PageHinkley>([](const PageHinkley& d) { return d.options().alpha; }),
            "Forgetting factor of the cumulative sums.")
        .def_property_readonly(
            "mode", locked<PageHinkley>([](const PageHinkley& d) {
                return std::string(drift::page_hinkley_mode_name(d.options().mode));
            }),
            "'both', 'up' (increases only) or 'down' (decreases only).")
        .def_property_readonly("mean",
                               locked<PageHinkley>([](const PageHinkley& d) { return d.mean(); }),
                               "Mean of the values since the last detection.")
        .def_property_readonly("n_since_drift", locked<PageHinkley>([](const PageHinkley& d) {
                                   return d.n_since_drift();
                               }),
                               "Values taken since the last detection.")
        .def_property_readonly(
            "increase", locked<PageHinkley>([](const PageHinkley& d) { return d.increase(); }),
            "Statistic for an increase, compared with threshold.")
        .def_property_readonly(
            "decrease", locked<PageHinkley>([](const PageHinkley& d) { return d.decrease(); }),
            "Statistic for a decrease, compared with threshold.");

    py::class_<Shared<Kswin>> kswin(m, "KSWIN", "KSWIN change detector (native part).");
    kswin.def(py::init([](double alpha, std::int64_t window_size, std::int64_t stat_size,
                          const std::vector<std::uint32_t>& seed_words, bool seeded,
                          const Values& window, const std::string& non_finite) {
                  drift::KswinOptions options{alpha, window_size, stat_size};
                  const std::span<const double> initial = values_of(window);
                  return std::make_unique<Shared<Kswin>>(
                      Kswin(options, seeded ? std::optional(seed_words) : std::nullopt, initial,
                            drift::parse_non_finite(non_finite)));
              }),
              "alpha"_a = 0.005, "window_size"_a = 100, "stat_size"_a = 30,
              "seed_words"_a = std::vector<std::uint32_t>{}, "seeded"_a = false,
              "window"_a = Values(0), py::kw_only(), "non_finite"_a = "reject",
              "A KSWIN detector; seed_words are the 32-bit words of the seed, low first.");
    bind_common<Kswin>(kswin);
    kswin
        .def_property_readonly("alpha",
                               locked<Kswin>([](const Kswin& d) { return d.options().alpha; }),
                               "Significance level of the KS test.")
        .def_property_readonly(
            "window_size", locked<Kswin>([](const Kswin& d) { return d.options().window_size; }),
            "Size of the sliding window.")
        .def_property_readonly("stat_size",
                               locked<Kswin>([](const Kswin& d) { return d.options().stat_size; }),
                               "Size of the recent and the sampled sub-windows.")
        .def_property_readonly("seed_words",
                               locked<Kswin>([](const Kswin& d) { return d.seed_words(); }),
                               "The seed's 32-bit words (low first), or None when unseeded.")
        .def_property_readonly("p_value", locked<Kswin>([](const Kswin& d) { return d.p_value(); }),
                               "p-value of the last KS test (0 before any).")
        .def_property_readonly("statistic",
                               locked<Kswin>([](const Kswin& d) { return d.statistic(); }),
                               "KS statistic of the last test (0 before any).")
        .def_property_readonly("n_since_drift",
                               locked<Kswin>([](const Kswin& d) { return d.n_since_drift(); }),
                               "Values taken since the last detection.")
        .def_property_readonly(
            "window",
            [](Shared<Kswin>& self) {
                std::vector<double> values;
                {
                    const auto guard = lock(self.mutex);
                    values = self.detector.window();
                }
                py::array_t<double> out(static_cast<py::ssize_t>(values.size()));
                std::copy(values.begin(), values.end(), out.mutable_data());
                return out;
            },
            "A copy of the sliding window, oldest first.");

    m.def(
        "_kswin_ks_test",
        [](const Values& a, const Values& b) {
            return drift::ks_test_equal_sizes(values_of(a), values_of(b));
        },
        "a"_a, "b"_a,
        "(statistic, p-value) of KSWIN's two-sample KS test on equal-size samples; equals "
        "scipy.stats.ks_2samp(a, b, method='auto').");
    m.def(
        "_python_random_sample",
        [](const std::vector<std::uint32_t>& seed_words, std::int64_t population, std::int64_t k,
           std::int64_t draws) {
            return drift::python_random_samples(seed_words, population, k, draws);
        },
        "seed_words"_a, "population"_a, "k"_a, "draws"_a,
        "`draws` successive random.Random(seed).sample(range(population), k), as KSWIN draws "
        "them.");
}

}  // namespace lumengate::bindings
