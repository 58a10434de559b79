#include "lumengate/drift/page_hinkley.hpp"

#include <cmath>
#include <limits>

#include "lumengate/common/error.hpp"
#include "lumengate/drift/adwin.hpp"

namespace lumengate::drift {

PageHinkleyMode parse_page_hinkley_mode(const std::string& mode) {
    if (mode == "both") return PageHinkleyMode::both;
    if (mode == "up") return PageHinkleyMode::up;
    if (mode == "down") return PageHinkleyMode::down;
    throw InvalidArgument("mode", "must be 'both', 'up' or 'down', got '" + mode + "'");
}

const char* page_hinkley_mode_name(PageHinkleyMode mode) {
    switch (mode) {
        case PageHinkleyMode::up:
            return "up";
        case PageHinkleyMode::down:
            return "down";
        case PageHinkleyMode::both:
            break;
    }
    return "both";
}

void PageHinkleyOptions::validate() const {
    if (min_instances < 0) {
        throw InvalidArgument("min_instances",
                              "must be a whole number >= 0, got " + std::to_string(min_instances));
    }
    if (!(std::isfinite(delta) && delta >= 0.0)) {
        throw InvalidArgument("delta",
                              "must be a finite number >= 0, got " + std::to_string(delta));
    }
    if (!(std::isfinite(threshold) && threshold > 0.0)) {
        throw InvalidArgument("threshold",
                              "must be a finite number > 0, got " + std::to_string(threshold));
    }
    if (!(alpha > 0.0 && alpha <= 1.0)) {
        throw InvalidArgument(
            "alpha", "must be in (0, 1] (1 forgets nothing), got " + std::to_string(alpha));
    }
}

PageHinkley::PageHinkley(const PageHinkleyOptions& options, NonFinite non_finite)
    : options_(options), non_finite_(non_finite) {
    options_.validate();
    reset();
}

void PageHinkley::reset() {
    mean_ = 0.0;
    n_ = 0;
    sum_increase_ = 0.0;
    sum_decrease_ = 0.0;
    min_increase_ = std::numeric_limits<double>::infinity();
    max_decrease_ = -1.0;
    drift_detected_ = false;
}

bool PageHinkley::update(double x) {
    if (!std::isfinite(x)) {
        if (non_finite_ == NonFinite::reject) {
            throw InvalidArgument("x", "is " + std::to_string(x) +
                                           "; values must be finite (or pass non_finite='drop')");
        }
        ++n_dropped_;
        return false;
    }
    return add(x);
}

std::vector<std::int64_t> PageHinkley::update_many(std::span<const double> xs) {
    return feed_values(xs, non_finite_, "xs", n_dropped_, [this](double x) { return add(x); });
}

bool PageHinkley::add(double x) {
    // River starts afresh on the update that follows a detection.
    if (drift_detected_) reset();
    ++n_seen_;
    ++n_;
    const double n = static_cast<double>(n_);
    mean_ += (1.0 / n) * (x - mean_);
    const double deviation = x - mean_;
    sum_increase_ = options_.alpha * sum_increase_ + deviation - options_.delta;
    sum_decrease_ = options_.alpha * sum_decrease_ + deviation + options_.delta;
    if (sum_increase_ < min_increase_) min_increase_ = sum_increase_;
    if (sum_decrease_ > max_decrease_) max_decrease_ = sum_decrease_;
    if (n_ >= static_cast<std::uint64_t>(options_.min_instances)) {
        const bool up = increase() > options_.threshold;
        const bool down = decrease() > options_.threshold;
        switch (options_.mode) {
            case PageHinkleyMode::up:
                drift_detected_ = up;
                break;
            case PageHinkleyMode::down:
                drift_detected_ = down;
                break;
            case PageHinkleyMode::both:
                drift_detected_ = up || down;
                break;
        }
    }
    if (drift_detected_) ++n_detections_;
    return drift_detected_;
}

std::string PageHinkley::to_bytes() const {
    detector_state::Writer w(detector_state::Kind::page_hinkley);
    w.i64(options_.min_instances);
    w.f64(options_.delta);
    w.f64(options_.threshold);
    w.f64(options_.alpha);
    w.u8(static_cast<std::uint8_t>(options_.mode));
    w.u8(non_finite_ == NonFinite::drop ? 1 : 0);
    w.f64(mean_);
    w.u64(n_);
    w.f64(sum_increase_);
    w.f64(sum_decrease_);
    w.f64(min_increase_);
    w.f64(max_decrease_);
    w.u8(drift_detected_ ? 1 : 0);
    w.u64(n_detections_);
    w.u64(n_seen_);
    w.u64(n_dropped_);
    return std::move(w).finish();
}

PageHinkley PageHinkley::from_bytes(std::string_view bytes) {
    using detector_state::Reader;
    Reader r(bytes, detector_state::Kind::page_hinkley);
    PageHinkleyOptions options;
    options.min_instances = r.i64();
    options.delta = r.f64();
    options.threshold = r.f64();
    options.alpha = r.f64();
    const std::uint8_t mode = r.u8();
    if (mode > 2) Reader::corrupt("has an unknown mode");
    options.mode = static_cast<PageHinkleyMode>(mode);
    const std::uint8_t policy = r.u8();
    if (policy > 1) Reader::corrupt("has an unknown non_finite policy");
    PageHinkley detector(options, policy == 1 ? NonFinite::drop : NonFinite::reject);
    detector.mean_ = r.f64();
    detector.n_ = r.u64();
    detector.sum_increase_ = r.f64();
    detector.sum_decrease_ = r.f64();
    detector.min_increase_ = r.f64();
    detector.max_decrease_ = r.f64();
    const std::uint8_t detected = r.u8();
    if (detected > 1) Reader::corrupt("has an invalid drift flag");
    detector.drift_detected_ = detected == 1;
    detector.n_detections_ = r.u64();
    detector.n_seen_ = r.u64();
    detector.n_dropped_ = r.u64();
    r.finish();
    return detector;
}

}  // namespace lumengate::drift
