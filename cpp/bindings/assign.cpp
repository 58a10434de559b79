#include <openssl/evp.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lumengate/assign/batch.hpp"
#include "lumengate/common/error.hpp"
#include "lumengate/common/threads.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using assign::KeyColumn;

// The caller's ids as a KeyColumn plus whatever keeps its memory alive: the source object,
// and decimal text made for integers found in object arrays.
struct Keys {
    py::object source;
    std::vector<py::object> owned;
    std::string arena;
    std::vector<std::string_view> views;
    KeyColumn column;
};

std::string describe(py::handle item) {
    return std::string(py::str(py::type::of(item).attr("__name__"))) + " " +
           std::string(py::repr(item));
}

[[noreturn]] void reject(std::size_t index, py::handle item) {
    throw InvalidArgument(assign::id_field(index),
                          describe(item) +
                              " is not an id; ids must be str, bytes or integers "
                              "(no floats, None or NaN)");
}

// One Python object's key bytes: str as UTF-8, bytes as is, integers as decimal text.
// Returns false when the bytes were appended to `arena` instead of being viewable in place.
bool object_key(py::handle item, std::size_t index, std::string_view& view, std::string& arena) {
    PyObject* o = item.ptr();
    if (PyUnicode_Check(o)) {
        Py_ssize_t size = 0;
        const char* data = PyUnicode_AsUTF8AndSize(o, &size);
        if (data == nullptr) {
            PyErr_Clear();
            throw InvalidArgument(assign::id_field(index),
                                  "is not valid Unicode (lone surrogate); ids must be valid text");
        }
        view = std::string_view(data, static_cast<std::size_t>(size));
        return true;
    }
    if (PyBytes_Check(o)) {
        view =
            std::string_view(PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o)));
        return true;
    }
    if (PyBool_Check(o) || PyFloat_Check(o) || o == Py_None) reject(index, item);
    if (PyLong_Check(o) || PyIndex_Check(o)) {
        const py::object as_int = py::reinterpret_steal<py::object>(PyNumber_Index(o));
        if (!as_int) throw py::error_already_set();
        arena += std::string(py::str(as_int));
        return false;
    }
    reject(index, item);
}

std::unique_ptr<Keys> keys_from_objects(const py::array& array) {
    auto keys = std::make_unique<Keys>();
    keys->source = array;
    const auto n = static_cast<std::size_t>(array.size());
    const auto* items = static_cast<PyObject* const*>(array.data());
    std::vector<std::pair<std::size_t, std::size_t>> arena_spans(n, {0, std::string::npos});
    keys->views.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t before = keys->arena.size();
        if (!object_key(py::handle(items[i]), i, keys->views[i], keys->arena)) {
            arena_spans[i] = {before, keys->arena.size() - before};
        }
    }
    // Views into the arena are taken only once it has stopped growing.
    for (std::size_t i = 0; i < n; ++i) {
        if (arena_spans[i].second != std::string::npos) {
            keys->views[i] =
                std::string_view(keys->arena).substr(arena_spans[i].first, arena_spans[i].second);
        }
    }
    keys->column = KeyColumn::views(keys->views);
    return keys;
}

// Accepts a 1-d numpy array (U, S, integer or object) or an Arrow-style tuple
// ("utf8", data: uint8 array, offsets: int32/int64 array).
std::unique_ptr<Keys> make_keys(const py::object& ids) {
    if (py::isinstance<py::tuple>(ids)) {
        const auto parts = ids.cast<py::tuple>();
        if (parts.size() != 3 || !py::isinstance<py::str>(parts[0]) ||
            parts[0].cast<std::string>() != "utf8") {
            throw InvalidArgument("ids", "tuple form must be ('utf8', data, offsets)");
        }
        auto keys = std::make_unique<Keys>();
        const auto data = py::array_t<std::uint8_t, py::array::c_style>::ensure(parts[1]);
        const py::array offsets = py::array::ensure(parts[2], py::array::c_style);
        if (!data || !offsets || offsets.ndim() != 1) {
            throw InvalidArgument("ids",
                                  "Arrow buffers must be a uint8 data array and 1-d offsets");
        }
        keys->source = py::make_tuple(data, offsets);
        const auto* bytes = reinterpret_cast<const char*>(data.data());
        const auto count = static_cast<std::size_t>(offsets.size());
        const auto limit = static_cast<std::int64_t>(data.size());
        const auto check = [&](auto* off) {
            for (std::size_t i = 0; i + 1 < count; ++i) {
                if (off[i] < 0 || off[i + 1] < off[i] ||
                    static_cast<std::int64_t>(off[i + 1]) > limit) {
                    throw InvalidArgument("ids",
                                          "Arrow offsets are not monotone within the data buffer");
                }
            }
        };
        if (offsets.dtype().is(py::dtype::of<std::int32_t>())) {
            const auto* off = static_cast<const std::int32_t*>(offsets.data());
            check(off);
            keys->column = KeyColumn::utf8_offsets32(bytes, {off, count});
        } else if (offsets.dtype().is(py::dtype::of<std::int64_t>())) {
            const auto* off = static_cast<const std::int64_t*>(offsets.data());
            check(off);
            keys->column = KeyColumn::utf8_offsets64(bytes, {off, count});
        } else {
            throw InvalidArgument("ids", "Arrow offsets must be int32 or int64");
        }
        return keys;
    }
    if (!py::isinstance<py::array>(ids)) {
        throw InvalidArgument("ids", "must be a numpy array; got " + describe(ids));
    }
    const py::array array = py::array::ensure(ids, py::array::c_style);
    if (array.ndim() != 1) {
        throw InvalidArgument(
            "ids", "must be one-dimensional, got " + std::to_string(array.ndim()) + " dimensions");
    }
    const char kind = array.dtype().kind();
    const auto n = static_cast<std::size_t>(array.size());
    auto keys = std::make_unique<Keys>();
    keys->source = array;
    switch (kind) {
        case 'U':
            keys->column = KeyColumn::ucs4_fixed(static_cast<const char32_t*>(array.data()), n,
                                                 static_cast<std::size_t>(array.itemsize()) / 4);
            return keys;
        case 'S':
            keys->column = KeyColumn::bytes_fixed(static_cast<const char*>(array.data()), n,
                                                  static_cast<std::size_t>(array.itemsize()));
            return keys;
        case 'i': {
            const auto values =
                py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(array);
            keys->source = values;
            keys->column = KeyColumn::int64s({values.data(), n});
            return keys;
        }
        case 'u': {
            const auto values =
                py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>::ensure(
                    array);
            keys->source = values;
            keys->column = KeyColumn::uint64s({values.data(), n});
            return keys;
        }
        case 'O':
            return keys_from_objects(array);
        default:
            if (n > 0) reject(0, array[py::int_(0)]);
            throw InvalidArgument("ids", "dtype " + std::string(py::str(array.dtype())) +
                                             " is not an id type; use str, bytes or integers");
    }
}

// The bytes of a single id, by the same rule as a batch.
std::string single_key(const py::handle& id) {
    std::string arena;
    std::string_view view;
    if (py::isinstance<py::array>(id)) {
        throw InvalidArgument("user_id", "is an array; use the *_many functions for batches");
    }
    if (PyBool_Check(id.ptr()) || PyFloat_Check(id.ptr()) || id.is_none()) {
        throw InvalidArgument("user_id", describe(id) +
                                             " is not an id; ids must be str, bytes "
                                             "or integers (no floats, None or NaN)");
    }
    std::string key = object_key(id, 0, view, arena) ? std::string(view) : arena;
    if (key.empty()) throw InvalidArgument("user_id", "is empty; an id needs at least one byte");
    return key;
}

std::unique_ptr<Keys> make_nonempty_keys(const py::object& ids) {
    auto keys = make_keys(ids);
    if (keys->column.size() == 0) throw InvalidArgument("ids", "is empty; pass at least one id");
    return keys;
}

assign::SchemeKind parse_kind(const std::string& name) {
    using K = assign::SchemeKind;
    static const std::pair<const char*, K> kinds[] = {{"md5_mod100", K::md5_mod100},
                                                      {"md5_canary", K::md5_canary},
                                                      {"growthbook_v1", K::growthbook_v1},
                                                      {"growthbook_v2", K::growthbook_v2},
                                                      {"unleash", K::unleash},
                                                      {"statsig", K::statsig},
                                                      {"optimizely", K::optimizely},
                                                      {"planout", K::planout}};
    for (const auto& [key, kind] : kinds) {
        if (name == key) return kind;
    }
    throw InvalidArgument("scheme", "unknown scheme '" + name +
                                        "'; allowed: md5_mod100, md5_canary, growthbook_v1, "
                                        "growthbook_v2, unleash, statsig, optimizely, planout");
}

std::unordered_map<std::string, std::int32_t> key_map(const py::object& ids,
                                                      const py::array_t<std::int32_t>& indices,
                                                      const char* field) {
    std::unordered_map<std::string, std::int32_t> map;
    if (ids.is_none()) return map;
    const auto keys = make_keys(ids);
    const std::size_t n = keys->column.size();
    if (static_cast<std::size_t>(indices.size()) != n) {
        throw InvalidArgument(field, "ids and variant indices differ in length");
    }
    map.reserve(n);
    std::string scratch;
    const auto* index = indices.data();
    for (std::size_t i = 0; i < n; ++i) map[std::string(keys->column.get(i, scratch))] = index[i];
    return map;
}

}  // namespace

void register_assign(py::module_& m) {
    py::class_<assign::Scheme>(m, "Scheme", "A bucketing scheme in native form.")
        .def(py::init([](const std::string& kind, const py::bytes& prefix, const py::bytes& suffix,
                         std::uint32_t seed, std::uint32_t normalizer, bool code_points) {
                 assign::Scheme s;
                 s.kind = parse_kind(kind);
                 s.prefix = prefix;
                 s.suffix = suffix;
                 s.seed = seed;
                 if (normalizer == 0) throw InvalidArgument("normalizer", "must be >= 1, got 0");
                 s.normalizer = normalizer;
                 s.code_points = code_points;
                 return s;
             }),
             "kind"_a, "prefix"_a = py::bytes(), "suffix"_a = py::bytes(), "seed"_a = 0,
             "normalizer"_a = 100, "code_points"_a = false,
             "Build a scheme: key bytes are prefix + id + suffix.")
        .def_property_readonly(
            "integer_buckets",
            [](const assign::Scheme& s) { return assign::has_integer_buckets(s.kind); },
            "True when buckets are integers, False for unit fractions.");

    m.def(
        "key_bytes", [](const py::object& id) { return py::bytes(single_key(id)); }, "id"_a,
        "The bytes an id is hashed as: str as UTF-8, bytes as is, integers as decimal text.");

    m.def(
        "hash_many",
        [](const py::object& ids, const std::string& algorithm_name, std::uint64_t seed,
           std::size_t threads) -> py::array {
            const auto algorithm = assign::parse_algorithm(algorithm_name);
            if (seed != 0 && algorithm != assign::Algorithm::murmur3_32 &&
                algorithm != assign::Algorithm::xxhash64) {
                throw InvalidArgument("seed", "applies only to murmur3_32 and xxhash64; " +
                                                  algorithm_name + " takes seed=0");
            }
            if (algorithm == assign::Algorithm::murmur3_32 && seed > 0xFFFFFFFFULL) {
                throw InvalidArgument("seed", "murmur3_32 takes a 32-bit seed (0..4294967295)");
            }
            const auto keys = make_nonempty_keys(ids);
            const std::size_t n = keys->column.size();
            const std::size_t workers = resolve_threads(threads);
            if (assign::is_digest(algorithm)) {
                const std::size_t size = assign::digest_size(algorithm);
                py::array out(py::dtype("S" + std::to_string(size)),
                              std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)});
                auto* bytes = static_cast<unsigned char*>(out.mutable_data());
                // Safe without the GIL: keys and out are owned here, views point into objects
                // that `keys` keeps alive, and the core touches no Python state.
                py::gil_scoped_release release;
                assign::hash_many(keys->column, algorithm, seed, bytes, nullptr, workers);
                return out;
            }
            py::array_t<std::uint64_t> words(static_cast<py::ssize_t>(n));
            auto* out = words.mutable_data();
            {
                py::gil_scoped_release release;  // as above: only owned buffers are touched
                assign::hash_many(keys->column, algorithm, seed, nullptr, out, workers);
            }
            if (algorithm == assign::Algorithm::xxhash64) return words;
            return words.attr("astype")("uint32").cast<py::array>();
        },
        "ids"_a, "algorithm"_a, "seed"_a = 0, "threads"_a = 0,
        "Hash every id: digests as fixed-width bytes, other algorithms as unsigned integers.");

    m.def(
        "bucket",
        [](const py::object& id, const assign::Scheme& scheme) -> py::object {
            const std::string key = single_key(id);
            assign::Bucketer bucketer(scheme);
            try {
                const double value = bucketer.bucket(key);
                if (assign::has_integer_buckets(scheme.kind)) {
                    return py::int_(static_cast<std::int64_t>(value));
                }
                return py::float_(value);
            } catch (const InvalidArgument& e) {
                throw InvalidArgument("user_id",
                                      std::string(e.what()).substr(e.field().size() + 2));
            }
        },
        "id"_a, "scheme"_a, "The scheme's bucket for one id.");

    m.def(
        "bucket_many",
        [](const py::object& ids, const assign::Scheme& scheme, std::size_t threads) -> py::array {
            const auto keys = make_nonempty_keys(ids);
            const std::size_t n = keys->column.size();
            const std::size_t workers = resolve_threads(threads);
            if (assign::has_integer_buckets(scheme.kind)) {
                py::array_t<std::int64_t> out(static_cast<py::ssize_t>(n));
                auto* data = out.mutable_data();
                py::gil_scoped_release release;  // only `keys` and `out` are touched
                assign::bucket_many(scheme, keys->column, data, workers);
                return out;
            }
            py::array_t<double> out(static_cast<py::ssize_t>(n));
            auto* data = out.mutable_data();
            py::gil_scoped_release release;  // only `keys` and `out` are touched
            assign::bucket_many(scheme, keys->column, data, workers);
            return out;
        },
        "ids"_a, "scheme"_a, "threads"_a = 0, "Bucket every id; same values as bucket().");

    py::class_<assign::ExperimentPlan>(m, "ExperimentPlan",
                                       "An experiment compiled for batch assignment.")
        .def(py::init(
                 [](const assign::Scheme& scheme,
                    const std::vector<std::pair<double, double>>& ranges, double scale,
                    bool upper_inclusive,
                    const std::optional<std::tuple<std::string, double, double>>& ns,
                    const py::object& forced_ids, const py::array_t<std::int32_t>& forced_index,
                    const py::object& sticky_ids, const py::array_t<std::int32_t>& sticky_index) {
                     assign::ExperimentPlan plan;
                     plan.scheme = scheme;
                     plan.ranges = ranges;
                     plan.scale = scale;
                     plan.upper_inclusive = upper_inclusive;
                     if (ns) {
                         plan.namespaces.push_back(
                             {std::get<0>(*ns), std::get<1>(*ns), std::get<2>(*ns)});
                     }
                     plan.forced = key_map(forced_ids, forced_index, "forced");
                     plan.sticky = key_map(sticky_ids, sticky_index, "sticky");
                     return plan;
                 }),
             "scheme"_a, "ranges"_a, "scale"_a = 1.0, "upper_inclusive"_a = false,
             "namespace"_a = py::none(), "forced_ids"_a = py::none(),
             "forced_index"_a = py::array_t<std::int32_t>(0), "sticky_ids"_a = py::none(),
             "sticky_index"_a = py::array_t<std::int32_t>(0),
             "Variant ranges in bucket units, an optional (id, start, end) namespace, and "
             "forced and sticky assignments as ids with variant indices.");

    m.def(
        "assign_one",
        [](const py::object& id, const assign::ExperimentPlan& plan) {
            const std::string key = single_key(id);
            assign::Bucketer bucketer(plan.scheme);
            try {
                const auto one = assign::assign_one(plan, bucketer, key);
                return py::make_tuple(one.index, one.bucket, static_cast<int>(one.reason),
                                      one.moved);
            } catch (const InvalidArgument& e) {
                throw InvalidArgument("user_id",
                                      std::string(e.what()).substr(e.field().size() + 2));
            }
        },
        "id"_a, "plan"_a, "Assign one id: (variant index, bucket, reason code, moved).");

    m.def(
        "assign_many",
        [](const py::object& ids, const assign::ExperimentPlan& plan, std::size_t threads) {
            const auto keys = make_nonempty_keys(ids);
            const std::size_t n = keys->column.size();
            const std::size_t workers = resolve_threads(threads);
            py::array_t<std::int32_t> index(static_cast<py::ssize_t>(n));
            py::array_t<double> bucket(static_cast<py::ssize_t>(n));
            py::array_t<std::uint8_t> reason(static_cast<py::ssize_t>(n));
            assign::AssignOutput out{index.mutable_data(), bucket.mutable_data(),
                                     reason.mutable_data()};
            std::size_t moved = 0;
            {
                py::gil_scoped_release release;  // plan and buffers are owned; no Python state
                moved = assign::assign_many(plan, keys->column, out, workers);
            }
            return py::make_tuple(index, bucket, reason, moved);
        },
        "ids"_a, "plan"_a, "threads"_a = 0,
        "Assign every id: (variant index, bucket, reason code, sticky ids that would move).");

    m.def(
        "evp_digest_baseline",
        [](const py::object& ids, const std::string& algorithm_name) {
            // The floor for digest schemes: one EVP_Digest call per id and nothing else.
            const auto algorithm = assign::parse_algorithm(algorithm_name);
            if (!assign::is_digest(algorithm)) {
                throw InvalidArgument("algorithm", "must be md5, sha1 or sha256");
            }
            const auto keys = make_nonempty_keys(ids);
            // The cheapest EVP use: one fetched digest and one context reused for every id.
            EVP_MD* md = EVP_MD_fetch(
                nullptr, std::string(assign::algorithm_name(algorithm)).c_str(), nullptr);
            EVP_MD_CTX* ctx = EVP_MD_CTX_new();
            unsigned char out[EVP_MAX_MD_SIZE];
            unsigned int size = 0;
            unsigned long long checksum = 0;
            std::chrono::steady_clock::duration elapsed{};
            {
                py::gil_scoped_release release;  // only owned buffers are touched
                std::string scratch;
                const auto start = std::chrono::steady_clock::now();
                for (std::size_t i = 0; i < keys->column.size(); ++i) {
                    const auto key = keys->column.get(i, scratch);
                    EVP_DigestInit_ex2(ctx, md, nullptr);
                    EVP_DigestUpdate(ctx, key.data(), key.size());
                    EVP_DigestFinal_ex(ctx, out, &size);
                    checksum += out[0];
                }
                elapsed = std::chrono::steady_clock::now() - start;
            }
            EVP_MD_CTX_free(ctx);
            EVP_MD_free(md);
            return py::make_tuple(std::chrono::duration<double>(elapsed).count(), checksum);
        },
        "ids"_a, "algorithm"_a = "md5",
        "Benchmark floor: seconds for bare EVP init/update/final per id on one reused context, "
        "and a checksum.");
}

}  // namespace lumengate::bindings
