#include <xxhash.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "lumengate/common/error.hpp"
#include "lumengate/persona/router.hpp"
#include "lumengate/persona/router_detail.hpp"

namespace lumengate::persona {

// Layout (all integers little-endian, doubles as their IEEE-754 bits):
//   "LGROUTER" | u32 version | payload | u64 XXH64(everything before it, seed 0)
// The payload lists personas and keywords, the abstain settings, the hash size, (since version
// 2) the analyzer's n-gram ranges and the lexicon weight, the n-gram vocabulary with its idf, the
// resonance-key vocabulary, the embedding size, the fit options, the temperature, (since version 2)
// the isotonic confidence knots, and finally weights and intercepts.
namespace {

constexpr char kMagic[8] = {'L', 'G', 'R', 'O', 'U', 'T', 'E', 'R'};

class Writer {
  public:
    void u32(std::uint32_t v) { put(v, 4); }
    void u64(std::uint64_t v) { put(v, 8); }
    void f64(double v) { put(std::bit_cast<std::uint64_t>(v), 8); }
    void str(const std::string& s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out.append(s);
    }
    std::string out;

  private:
    void put(std::uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
    }
};

class Reader {
  public:
    explicit Reader(std::string_view data) : data_(data) {}
    std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(get(4, what)); }
    std::uint64_t u64(const char* what) { return get(8, what); }
    double f64(const char* what) { return std::bit_cast<double>(get(8, what)); }
    std::string str(const char* what) {
        const std::uint32_t n = u32(what);
        need(n, what);
        std::string s(data_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    std::size_t count(const char* what, std::size_t bytes_each) {
        const std::uint64_t n = u64(what);
        // A count larger than the bytes left can only come from corruption.
        if (bytes_each > 0 && n > (data_.size() - pos_) / bytes_each) {
            throw ParseError("data", std::string("is corrupt: ") + what + " count " +
                                         std::to_string(n) + " exceeds the file size");
        }
        return static_cast<std::size_t>(n);
    }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }

  private:
    void need(std::size_t n, const char* what) const {
        if (data_.size() - pos_ < n) {
            throw ParseError("data", std::string("is truncated: ") + what + " at byte " +
                                         std::to_string(pos_) + " needs " + std::to_string(n) +
                                         " bytes, " + std::to_string(data_.size() - pos_) +
                                         " left");
        }
    }
    std::uint64_t get(int bytes, const char* what) {
        need(static_cast<std::size_t>(bytes), what);
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) {
            v |= static_cast<std::uint64_t>(
                     static_cast<unsigned char>(data_[pos_ + static_cast<std::size_t>(i)]))
                 << (8 * i);
        }
        pos_ += static_cast<std::size_t>(bytes);
        return v;
    }
    std::string_view data_;
    std::size_t pos_ = 0;
};

}  // namespace

std::string Model::serialize() const {
    if (!fitted()) throw InvalidArgument("router", "is not fitted: there is nothing to save");
    Writer w;
    w.out.append(kMagic, sizeof kMagic);
    w.u32(router_format_version);
    w.u32(static_cast<std::uint32_t>(personas_.size()));
    for (const auto& p : personas_) {
        w.str(p.id);
        w.u32(static_cast<std::uint32_t>(p.keywords.size()));
        for (const auto& k : p.keywords) w.str(k);
    }
    w.u64(max_query_bytes_);
    w.u32(static_cast<std::uint32_t>(thresholds_.size()));
    for (const double t : thresholds_) w.f64(t);
    w.u32(static_cast<std::uint32_t>(default_persona_));
    w.u32(hash_bits);
    w.u32(analyzer_.char_min);
    w.u32(analyzer_.char_max);
    w.u32(analyzer_.word_max);
    w.f64(lexicon_weight_);
    w.u64(buckets_.size());
    for (const auto b : buckets_) w.u32(b);
    for (const double v : idf_) w.f64(v);
    w.f64(idf_unseen_);
    w.u32(static_cast<std::uint32_t>(key_vocab_.size()));
    for (const auto& t : key_vocab_) w.str(t);
    w.u64(embedding_dim_);
    w.f64(c_);
    w.u64(seed_);
    w.f64(temperature_);
    w.u64(confidence_x_.size());
    for (const double v : confidence_x_) w.f64(v);
    for (const double v : confidence_y_) w.f64(v);
    w.u64(weights_.size());
    for (const double v : weights_) w.f64(v);
    for (const double v : bias_) w.f64(v);
    w.u64(XXH64(w.out.data(), w.out.size(), 0));
    return std::move(w.out);
}

std::shared_ptr<const Model> Model::deserialize(std::string_view bytes) {
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
        throw ParseError("data",
                         "is not a lumengate router file (the magic bytes 'LGROUTER' are "
                         "missing)");
    }
    Reader r(bytes.substr(sizeof kMagic));
    const std::uint32_t version = r.u32("version");
    if (version != 1 && version != router_format_version) {
        throw ParseError("data", "has format version " + std::to_string(version) +
                                     "; this build reads versions 1 to " +
                                     std::to_string(router_format_version));
    }
    if (bytes.size() < sizeof kMagic + 12) {
        throw ParseError("data", "is truncated: " + std::to_string(bytes.size()) + " bytes");
    }
    const std::string_view body = bytes.substr(0, bytes.size() - 8);
    Reader tail(bytes.substr(bytes.size() - 8));
    if (tail.u64("checksum") != XXH64(body.data(), body.size(), 0)) {
        throw ParseError("data", "is corrupt or truncated: the checksum does not match (" +
                                     std::to_string(bytes.size()) + " bytes)");
    }
    Reader in(body.substr(sizeof kMagic + 4));
    std::vector<PersonaSpec> personas(in.u32("persona count"));
    if (personas.size() > body.size()) throw ParseError("data", "is corrupt: persona count");
    for (auto& p : personas) {
        p.id = in.str("persona id");
        p.keywords.resize(in.u32("keyword count"));
        for (auto& k : p.keywords) k = in.str("keyword");
    }
    const std::uint64_t max_bytes = in.u64("max_query_bytes");
    std::vector<double> thresholds(in.u32("threshold count"));
    if (thresholds.size() > personas.size()) throw ParseError("data", "is corrupt: thresholds");
    for (double& t : thresholds) t = in.f64("threshold");
    const std::uint32_t default_persona = in.u32("default persona");
    auto m =
        std::shared_ptr<Model>(new Model(std::move(personas), static_cast<std::size_t>(max_bytes),
                                         std::move(thresholds), default_persona));
    if (in.u32("hash bits") != hash_bits) {
        throw ParseError("data", "uses a different n-gram hash size than this build");
    }
    if (version >= 2) {
        m->analyzer_.char_min = in.u32("char_min");
        m->analyzer_.char_max = in.u32("char_max");
        m->analyzer_.word_max = in.u32("word_max");
        m->lexicon_weight_ = in.f64("lexicon weight");
        try {
            detail::check_analyzer(m->analyzer_);
        } catch (const InvalidArgument& e) {
            throw ParseError("data", std::string("is corrupt: ") + e.what());
        }
        if (!(m->lexicon_weight_ >= 0 && std::isfinite(m->lexicon_weight_))) {
            throw ParseError("data", "is corrupt: lexicon weight");
        }
    }
    const std::size_t buckets = in.count("bucket", 12);
    m->buckets_.resize(buckets);
    m->idf_.resize(buckets);
    for (std::size_t j = 0; j < buckets; ++j) {
        const std::uint32_t b = in.u32("bucket");
        if (b >= hash_buckets) throw ParseError("data", "is corrupt: bucket out of range");
        // Columns are ranks of the buckets, so they must be strictly ascending.
        if (j > 0 && b <= m->buckets_[j - 1]) {
            throw ParseError("data", "is corrupt: buckets out of order");
        }
        m->buckets_[j] = b;
    }
    for (double& v : m->idf_) v = in.f64("idf");
    m->idf_unseen_ = in.f64("idf_unseen");
    m->key_vocab_.resize(in.u32("key vocabulary size"));
    for (auto& t : m->key_vocab_) t = in.str("key token");
    m->embedding_dim_ = static_cast<std::size_t>(in.u64("embedding_dim"));
    m->c_ = in.f64("C");
    m->seed_ = in.u64("seed");
    m->temperature_ = in.f64("temperature");
    if (version >= 2) {
        const std::size_t knots = in.count("confidence knot", 16);
        m->confidence_x_.resize(knots);
        m->confidence_y_.resize(knots);
        for (double& v : m->confidence_x_) v = in.f64("confidence knot");
        for (double& v : m->confidence_y_) v = in.f64("confidence value");
        for (std::size_t i = 0; i < knots; ++i) {
            if (!(m->confidence_y_[i] >= 0 && m->confidence_y_[i] <= 1) ||
                (i > 0 && !(m->confidence_x_[i] > m->confidence_x_[i - 1]))) {
                throw ParseError("data", "is corrupt: confidence map");
            }
        }
    }
    const std::size_t weights = in.count("weight", 8);
    if (weights != m->feature_count() * m->personas()) {
        throw ParseError("data", "is corrupt: " + std::to_string(weights) + " weights for " +
                                     std::to_string(m->feature_count()) + " features");
    }
    m->weights_.resize(weights);
    for (double& v : m->weights_) v = in.f64("weight");
    m->bias_.resize(m->personas());
    for (double& v : m->bias_) v = in.f64("intercept");
    if (in.position() != body.size() - sizeof kMagic - 4) {
        throw ParseError("data", "is corrupt: trailing bytes after the model");
    }
    m->compile();
    return m;
}

}  // namespace lumengate::persona
