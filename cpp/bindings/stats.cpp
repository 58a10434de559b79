#include "lumengate/stats/srm.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {

void register_stats(py::module_& m) {
    m.def(
        "srm_test",
        [](const std::vector<double>& observed, const std::vector<double>& weights) {
            const auto r = stats::srm_test(observed, weights);
            return py::make_tuple(r.statistic, r.pvalue, r.dof, r.expected);
        },
        "observed"_a, "weights"_a,
        "Chi-square goodness of fit: (statistic, pvalue, dof, expected counts).");
    m.def("chi2_sf", &stats::chi2_sf, "x"_a, "dof"_a,
          "Chi-squared survival function P(X >= x) with dof degrees of freedom (Boost.Math).");
}

}  // namespace lumengate::bindings
