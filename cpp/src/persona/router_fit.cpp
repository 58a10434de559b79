#include <algorithm>
#include <boost/math/tools/minima.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "lumengate/common/error.hpp"
#include "lumengate/persona/router.hpp"
#include "lumengate/persona/router_detail.hpp"
#include "lumengate/persona/text.hpp"

namespace lumengate::persona {

namespace detail {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// Mean cross-entropy plus the penalty, and its gradient.
double objective(const Csr& x, std::span<const std::int32_t> labels, std::size_t k, double lambda,
                 const std::vector<double>& theta, std::vector<double>& grad) {
    const std::size_t n = labels.size();
    const std::size_t bias = x.cols * k;
    std::fill(grad.begin(), grad.end(), 0.0);
    std::vector<double> z(k);
    double loss = 0;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < k; ++c) z[c] = theta[bias + c];
        const auto begin = static_cast<std::size_t>(x.indptr[i]);
        const auto end = static_cast<std::size_t>(x.indptr[i + 1]);
        for (std::size_t e = begin; e < end; ++e) {
            const double* w = &theta[static_cast<std::size_t>(x.indices[e]) * k];
            for (std::size_t c = 0; c < k; ++c) z[c] += x.data[e] * w[c];
        }
        double top = z[0];
        for (std::size_t c = 1; c < k; ++c) top = std::max(top, z[c]);
        double sum = 0;
        for (std::size_t c = 0; c < k; ++c) {
            z[c] = std::exp(z[c] - top);
            sum += z[c];
        }
        const auto y = static_cast<std::size_t>(labels[i]);
        loss += std::log(sum) - std::log(z[y]);
        for (std::size_t c = 0; c < k; ++c) z[c] /= sum;
        z[y] -= 1.0;
        for (std::size_t e = begin; e < end; ++e) {
            double* g = &grad[static_cast<std::size_t>(x.indices[e]) * k];
            for (std::size_t c = 0; c < k; ++c) g[c] += x.data[e] * z[c];
        }
        for (std::size_t c = 0; c < k; ++c) grad[bias + c] += z[c];
    }
    const double inv_n = 1.0 / static_cast<double>(n);
    loss *= inv_n;
    double penalty = 0;
    for (std::size_t j = 0; j < bias; ++j) {
        penalty += theta[j] * theta[j];
        grad[j] = grad[j] * inv_n + lambda * theta[j];
    }
    for (std::size_t c = 0; c < k; ++c) grad[bias + c] *= inv_n;
    return loss + 0.5 * lambda * penalty;
}

}  // namespace

std::vector<double> fit_logistic(const Csr& x, std::span<const std::int32_t> labels,
                                 std::size_t classes, double c, std::size_t max_iter, double tol) {
    const std::size_t dim = (x.cols + 1) * classes;
    const double lambda = 1.0 / (c * static_cast<double>(labels.size()));
    constexpr std::size_t memory = 10;
    std::vector<double> theta(dim, 0.0), grad(dim), next(dim), next_grad(dim), dir(dim);
    std::vector<std::vector<double>> s_hist, y_hist;
    std::vector<double> rho_hist;
    double f = objective(x, labels, classes, lambda, theta, grad);
    std::vector<double> alpha(memory);
    for (std::size_t iter = 0; iter < max_iter; ++iter) {
        double gmax = 0;
        for (const double g : grad) gmax = std::max(gmax, std::abs(g));
        if (gmax <= tol) break;
        // Two-loop recursion: dir = −H·grad with H from the last `memory` steps.
        for (std::size_t i = 0; i < dim; ++i) dir[i] = -grad[i];
        const std::size_t m = s_hist.size();
        for (std::size_t j = m; j-- > 0;) {
            alpha[j] = rho_hist[j] * dot(s_hist[j], dir);
            for (std::size_t i = 0; i < dim; ++i) dir[i] -= alpha[j] * y_hist[j][i];
        }
        double gamma = 1.0;
        if (m > 0) {
            gamma = dot(s_hist[m - 1], y_hist[m - 1]) / dot(y_hist[m - 1], y_hist[m - 1]);
        } else {
            gamma = 1.0 / std::max(1.0, std::sqrt(dot(grad, grad)));
        }
        for (double& d : dir) d *= gamma;
        for (std::size_t j = 0; j < m; ++j) {
            const double beta = rho_hist[j] * dot(y_hist[j], dir);
            for (std::size_t i = 0; i < dim; ++i) dir[i] += s_hist[j][i] * (alpha[j] - beta);
        }
        double slope = dot(grad, dir);
        if (!(slope < 0)) {
            // Lost descent (rounding): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            for (std::size_t i = 0; i < dim; ++i) dir[i] = -grad[i];
            slope = -dot(grad, grad);
        }
        // Backtracking to the Armijo condition.
        double step = 1.0;
        double f_next = f;
        bool accepted = false;
        for (int halvings = 0; halvings < 60; ++halvings) {
            for (std::size_t i = 0; i < dim; ++i) next[i] = theta[i] + step * dir[i];
            f_next = objective(x, labels, classes, lambda, next, next_grad);
            if (f_next <= f + 1e-4 * step * slope) {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if (!accepted) break;
        std::vector<double> s(dim), y(dim);
        for (std::size_t i = 0; i < dim; ++i) {
            s[i] = next[i] - theta[i];
            y[i] = next_grad[i] - grad[i];
        }
        const double sy = dot(s, y);
        const double decrease = f - f_next;
        theta.swap(next);
        grad.swap(next_grad);
        f = f_next;
        if (sy > 1e-300) {
            if (s_hist.size() == memory) {
                s_hist.erase(s_hist.begin());
                y_hist.erase(y_hist.begin());
                rho_hist.erase(rho_hist.begin());
            }
            s_hist.push_back(std::move(s));
            y_hist.push_back(std::move(y));
            rho_hist.push_back(1.0 / sy);
        }
        if (decrease <= std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(f))) break;
    }
    return theta;
}

double fit_temperature(std::span<const double> logits, std::span<const std::int32_t> labels,
                       std::size_t classes) {
    const std::size_t n = labels.size();
    auto nll = [&](double log_t) {
        const double inv_t = std::exp(-log_t);
        double total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double* z = &logits[i * classes];
            double top = z[0] * inv_t;
            for (std::size_t c = 1; c < classes; ++c) top = std::max(top, z[c] * inv_t);
            double sum = 0;
            for (std::size_t c = 0; c < classes; ++c) sum += std::exp(z[c] * inv_t - top);
            total += top + std::log(sum) - z[static_cast<std::size_t>(labels[i])] * inv_t;
        }
        return total / static_cast<double>(n);
    };
    const auto best =
        boost::math::tools::brent_find_minima(nll, std::log(0.05), std::log(20.0), 40);
    return std::exp(best.first);
}

void fit_confidence_map(std::span<const double> logits, std::span<const std::int32_t> labels,
                        std::size_t classes, double temperature, std::vector<double>& x,
                        std::vector<double>& y) {
    const std::size_t n = labels.size();
    std::vector<std::pair<double, double>> points(n);  // (confidence, 1 if the top is right)
    std::vector<double> p(classes);
    for (std::size_t i = 0; i < n; ++i) {
        softmax(logits.subspan(i * classes, classes), temperature, p);
        std::size_t top = 0;
        for (std::size_t k = 1; k < classes; ++k) {
            if (p[k] > p[top]) top = k;
        }
        points[i] = {p[top], top == static_cast<std::size_t>(labels[i]) ? 1.0 : 0.0};
    }
    std::sort(points.begin(), points.end());
    // Pool equal confidences, then pool adjacent violators (weights = query counts).
    std::vector<double> sum, weight;
    x.clear();
    for (const auto& [c, hit] : points) {
        if (!x.empty() && x.back() == c) {
            sum.back() += hit;
            weight.back() += 1;
        } else {
            x.push_back(c);
            sum.push_back(hit);
            weight.push_back(1);
        }
    }
    std::vector<double> block_sum, block_weight;
    std::vector<std::size_t> block_end;  // one past the block's last unique confidence
    for (std::size_t i = 0; i < x.size(); ++i) {
        block_sum.push_back(sum[i]);
        block_weight.push_back(weight[i]);
        block_end.push_back(i + 1);
        while (block_sum.size() > 1) {
            const std::size_t b = block_sum.size() - 1;
            if (block_sum[b - 1] / block_weight[b - 1] < block_sum[b] / block_weight[b]) break;
            block_sum[b - 1] += block_sum[b];
            block_weight[b - 1] += block_weight[b];
            block_end[b - 1] = block_end[b];
            block_sum.pop_back();
            block_weight.pop_back();
            block_end.pop_back();
        }
    }
    y.assign(x.size(), 0.0);
    const double low = 1.0 / static_cast<double>(classes);
    std::size_t begin = 0;
    for (std::size_t b = 0; b < block_sum.size(); ++b) {
        const double value = std::clamp(block_sum[b] / block_weight[b], low, 1.0);
        for (std::size_t i = begin; i < block_end[b]; ++i) y[i] = value;
        begin = block_end[b];
    }
}

}  // namespace detail

class ModelFitter {
  public:
    // Fits `base`'s configuration on the rows `rows` of already normalised queries.
    static std::shared_ptr<Model> fit_rows(const Model& base, const std::vector<std::string>& texts,
                                           const Queries& q, std::span<const std::int32_t> labels,
                                           const std::vector<std::size_t>& rows,
                                           const FitOptions& options) {
        auto m = std::make_shared<Model>(base);
        m->temperature_ = 1.0;
        m->confidence_x_.clear();
        m->confidence_y_.clear();
        m->c_ = options.c;
        m->seed_ = options.seed;
        m->analyzer_ = options.analyzer;
        m->lexicon_weight_ = options.lexicon_weight;
        m->embedding_dim_ = q.embeddings != nullptr ? q.embedding_dim : 0;
        // Vocabulary: buckets and resonance-key tokens seen in these rows, with their idf.
        std::map<std::uint32_t, std::uint32_t> df;
        std::set<std::string> tokens;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> counts;
        for (const std::size_t i : rows) {
            detail::bucket_counts(texts[i], m->analyzer_, counts);
            for (const auto& entry : counts) ++df[entry.first];
            if (!q.keys.empty()) tokens.insert(q.keys[i].begin(), q.keys[i].end());
        }
        const double n = static_cast<double>(rows.size());
        m->buckets_.clear();
        m->idf_.clear();
        for (const auto& [bucket, count] : df) {
            m->buckets_.push_back(bucket);
            m->idf_.push_back(std::log((1.0 + n) / (1.0 + count)) + 1.0);
        }
        m->idf_unseen_ = std::log(1.0 + n) + 1.0;
        m->key_vocab_.assign(tokens.begin(), tokens.end());
        m->weights_.clear();
        m->bias_.clear();
        m->compile();

        Csr x;
        x.cols = m->feature_count();
        std::vector<std::int32_t> y;
        Model::Sparse row;
        static const std::vector<std::string> no_key;
        for (const std::size_t i : rows) {
            m->extract(texts[i], q.keys.empty() ? no_key : q.keys[i], m->embedding_row(q, i), row,
                       nullptr);
            x.indices.insert(x.indices.end(), row.index.begin(), row.index.end());
            x.data.insert(x.data.end(), row.value.begin(), row.value.end());
            x.indptr.push_back(static_cast<std::int64_t>(x.indices.size()));
            y.push_back(labels[i]);
        }
        const std::size_t k = m->personas();
        std::vector<double> theta =
            detail::fit_logistic(x, y, k, options.c, options.max_iter, options.tol);
        m->bias_.assign(theta.end() - static_cast<std::ptrdiff_t>(k), theta.end());
        theta.resize(theta.size() - k);
        m->weights_ = std::move(theta);
        m->build_rows();
        return m;
    }

    static std::vector<double> raw_logits(const Model& m, const std::vector<std::string>& texts,
                                          const Queries& q, std::size_t i) {
        static const std::vector<std::string> no_key;
        Model::Sparse row;
        m.extract(texts[i], q.keys.empty() ? no_key : q.keys[i], m.embedding_row(q, i), row,
                  nullptr);
        std::vector<double> z(m.personas());
        m.scores(row, z);
        return z;
    }
};

namespace {

std::vector<std::string> normalize_all(const Queries& q, std::size_t max_bytes) {
    std::vector<std::string> out;
    out.reserve(q.texts.size());
    for (std::size_t i = 0; i < q.texts.size(); ++i) {
        out.push_back(normalize_query(q.texts[i], max_bytes, "queries[" + std::to_string(i) + "]"));
    }
    return out;
}

void check_labels(std::span<const std::int32_t> labels, const std::vector<PersonaSpec>& personas) {
    std::vector<std::size_t> seen(personas.size(), 0);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= personas.size()) {
            throw InvalidArgument(
                "labels[" + std::to_string(i) + "]",
                "persona index " + std::to_string(labels[i]) + " is out of range");
        }
        ++seen[static_cast<std::size_t>(labels[i])];
    }
    std::size_t classes = 0;
    std::size_t only = 0;
    for (std::size_t p = 0; p < seen.size(); ++p) {
        if (seen[p] > 0) {
            ++classes;
            only = p;
        }
    }
    if (classes < 2) {
        throw InvalidArgument("labels", classes == 0
                                            ? std::string("is empty; fit needs labelled queries")
                                            : "has only one persona ('" + personas[only].id +
                                                  "'); fit needs at least two");
    }
}

}  // namespace

std::shared_ptr<const Model> Model::fit(const Queries& q, std::span<const std::int32_t> labels,
                                        const FitOptions& options) const {
    validate_queries(q, labels.size());
    check_labels(labels, personas_);
    if (!(options.c > 0 && std::isfinite(options.c))) {
        throw InvalidArgument("C", "must be a finite number > 0, got " + std::to_string(options.c));
    }
    detail::check_analyzer(options.analyzer);
    if (!(options.lexicon_weight >= 0 && std::isfinite(options.lexicon_weight))) {
        throw InvalidArgument("lexicon_weight", "must be a finite number >= 0, got " +
                                                    std::to_string(options.lexicon_weight));
    }
    if (options.calibration_folds == 1 || options.calibration_folds > labels.size()) {
        throw InvalidArgument("calibration_folds",
                              "must be 0 (no calibration) or between 2 and the number of "
                              "queries (" +
                                  std::to_string(labels.size()) + "), got " +
                                  std::to_string(options.calibration_folds));
    }
    const std::vector<std::string> texts = normalize_all(q, max_query_bytes_);
    std::vector<std::size_t> all(labels.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    auto model = ModelFitter::fit_rows(*this, texts, q, labels, all, options);
    if (options.calibration_folds >= 2) {
        // Folds from a seeded Fisher-Yates shuffle (our own, so the split is identical on
        // every standard library); each fold is scored by a model that never saw it.
        std::mt19937_64 rng(options.seed);
        std::vector<std::size_t> order = all;
        for (std::size_t i = order.size(); i > 1; --i) {
            std::swap(order[i - 1], order[static_cast<std::size_t>(rng() % i)]);
        }
        const std::size_t folds = options.calibration_folds;
        const std::size_t k = personas_.size();
        std::vector<double> oof(labels.size() * k);
        for (std::size_t f = 0; f < folds; ++f) {
            std::vector<std::size_t> train, held;
            for (std::size_t pos = 0; pos < order.size(); ++pos) {
                (pos % folds == f ? held : train).push_back(order[pos]);
            }
            std::sort(train.begin(), train.end());
            std::sort(held.begin(), held.end());
            auto sub = ModelFitter::fit_rows(*this, texts, q, labels, train, options);
            for (const std::size_t i : held) {
                const auto z = ModelFitter::raw_logits(*sub, texts, q, i);
                std::copy(z.begin(), z.end(), oof.begin() + static_cast<std::ptrdiff_t>(i * k));
            }
        }
        model->temperature_ = detail::fit_temperature(oof, labels, k);
        if (options.calibration == Calibration::isotonic) {
            detail::fit_confidence_map(oof, labels, k, model->temperature_, model->confidence_x_,
                                       model->confidence_y_);
        }
    }
    return model;
}

std::shared_ptr<const Model> Model::calibrate(const Queries& q,
                                              std::span<const std::int32_t> labels,
                                              Calibration method) const {
    validate_queries(q, labels.size());
    if (labels.empty())
        throw InvalidArgument("labels", "is empty; calibrate needs labelled queries");
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= personas_.size()) {
            throw InvalidArgument(
                "labels[" + std::to_string(i) + "]",
                "persona index " + std::to_string(labels[i]) + " is out of range");
        }
    }
    const std::vector<double> z = logits(q);
    const double t = detail::fit_temperature(z, labels, personas_.size());
    auto copy = std::make_shared<Model>(*with_temperature(t));
    copy->confidence_x_.clear();
    copy->confidence_y_.clear();
    if (method == Calibration::isotonic) {
        detail::fit_confidence_map(z, labels, personas_.size(), t, copy->confidence_x_,
                                   copy->confidence_y_);
    }
    return copy;
}

}  // namespace lumengate::persona
