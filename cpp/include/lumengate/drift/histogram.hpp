#pragma once
// Histograms of drift scores: bin edges from a reference sample (quantile, uniform, Sturges,
// Doane, numpy's definitions), parallel binning against frozen edges, and a mergeable state
// (counts plus exact moments) with a versioned little-endian byte format.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lumengate/drift/scores.hpp"

namespace lumengate::drift {

enum class BinMethod { quantile, uniform, sturges, doane };

BinMethod parse_bin_method(const std::string& method);

// Edges of `bins` bins over the reference. Quantile: numpy's linear quantiles at i/bins,
// outer edges -inf/+inf, duplicate edges merged (one distinct value is an error). The other
// methods follow np.histogram_bin_edges (bins is ignored by sturges and doane).
std::vector<double> histogram_edges(std::span<const double> reference, std::size_t bins,
                                    BinMethod method, NonFinite policy = NonFinite::reject);

// Throws InvalidArgument("edges") unless there are >= 2 edges, strictly increasing, not NaN.
void validate_edges(std::span<const double> edges);

struct BinCounts {
    std::vector<std::uint64_t> counts;
    std::size_t dropped = 0;  // non-finite scores dropped under NonFinite::drop
};

// Counts scores per bin [e_i, e_{i+1}); a score below the first edge counts in the first bin
// and one at or above the last edge in the last bin, so no score is lost.
BinCounts bin_counts(std::span<const double> scores, std::span<const double> edges,
                     NonFinite policy, const std::string& field, std::size_t threads = 0);

// Bin index of one finite score (same rule as bin_counts), by a branchless search.
class BinFinder {
  public:
    explicit BinFinder(std::span<const double> edges);
    [[nodiscard]] std::size_t operator()(double x) const noexcept {
        std::size_t pos = 0;
        for (std::size_t step = padded_.size() / 2; step > 0; step /= 2) {
            pos += (padded_[pos + step - 1] <= x) ? step : 0;
        }
        return pos;
    }
    [[nodiscard]] std::size_t bins() const noexcept { return bins_; }

  private:
    std::vector<double> padded_;  // interior edges, padded with +inf to a power of two
    std::size_t bins_;
};

// A sum of doubles kept exactly (a fixed-point superaccumulator), so merging partial sums
// gives bit-for-bit the sum of the concatenated data in any order.
template <std::size_t Limbs, int LowestBit>
class ExactSum {
  public:
    void add_scaled(std::uint64_t lo64, std::uint64_t hi64, int exponent, bool negative);
    void merge(const ExactSum& other);
    void normalize();
    [[nodiscard]] double value() const;
    [[nodiscard]] bool operator==(const ExactSum& other) const;
    std::array<std::int64_t, Limbs> limbs{};
    std::uint32_t pending = 0;
};

using ExactSumOfValues = ExactSum<72, -1130>;
using ExactSumOfSquares = ExactSum<140, -2260>;

struct HistogramState {
    std::vector<double> edges;
    std::vector<std::uint64_t> counts;
    std::uint64_t n = 0;
    double min = 0.0;  // meaningful when n > 0
    double max = 0.0;
    ExactSumOfValues sum;
    ExactSumOfSquares sum_of_squares;

    static HistogramState from_scores(std::span<const double> scores, std::span<const double> edges,
                                      NonFinite policy, std::size_t threads = 0);
    static HistogramState empty(std::span<const double> edges);
    // Throws InvalidArgument("other.edges") when the edges differ.
    [[nodiscard]] HistogramState merged(const HistogramState& other) const;
    void add(double x, std::size_t bin);
    [[nodiscard]] std::string to_bytes() const;
    static HistogramState from_bytes(std::string_view bytes);
    [[nodiscard]] bool operator==(const HistogramState& other) const;
};

// Little-endian writer/reader shared by the byte formats of this part.
class ByteWriter {
  public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void f64(double v);
    void raw(std::string_view s) { out_.append(s); }
    std::string finish_with_checksum();
    std::string& buffer() { return out_; }

  private:
    std::string out_;
};

class ByteReader {
  public:
    // Checks magic, version and the trailing checksum; `what` names the format in errors.
    ByteReader(std::string_view bytes, std::string_view magic, std::uint8_t version,
               const std::string& what);
    std::uint8_t u8();
    std::uint32_t u32();
    std::uint64_t u64();
    std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
    double f64();
    [[nodiscard]] bool done() const { return pos_ == end_; }
    [[noreturn]] void fail(const std::string& why) const;

  private:
    void need(std::size_t k) const;
    std::string_view bytes_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    std::string what_;
};

}  // namespace lumengate::drift
