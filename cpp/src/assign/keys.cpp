#include "lumengate/assign/keys.hpp"

#include <charconv>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/common/error.hpp"

namespace lumengate::assign {

std::string id_field(std::size_t index) { return "ids[" + std::to_string(index) + "]"; }

KeyColumn KeyColumn::utf8_offsets32(const char* data, std::span<const std::int32_t> offsets) {
    KeyColumn c;
    c.kind_ = Kind::offsets32;
    c.data_ = data;
    c.offsets_ = offsets.data();
    c.count_ = offsets.empty() ? 0 : offsets.size() - 1;
    return c;
}

KeyColumn KeyColumn::utf8_offsets64(const char* data, std::span<const std::int64_t> offsets) {
    KeyColumn c;
    c.kind_ = Kind::offsets64;
    c.data_ = data;
    c.offsets_ = offsets.data();
    c.count_ = offsets.empty() ? 0 : offsets.size() - 1;
    return c;
}

KeyColumn KeyColumn::ucs4_fixed(const char32_t* data, std::size_t count, std::size_t width) {
    KeyColumn c;
    c.kind_ = Kind::ucs4;
    c.data_ = data;
    c.count_ = count;
    c.width_ = width;
    return c;
}

KeyColumn KeyColumn::bytes_fixed(const char* data, std::size_t count, std::size_t width) {
    KeyColumn c;
    c.kind_ = Kind::bytes;
    c.data_ = data;
    c.count_ = count;
    c.width_ = width;
    return c;
}

KeyColumn KeyColumn::int64s(std::span<const std::int64_t> values) {
    KeyColumn c;
    c.kind_ = Kind::int64;
    c.data_ = values.data();
    c.count_ = values.size();
    return c;
}

KeyColumn KeyColumn::uint64s(std::span<const std::uint64_t> values) {
    KeyColumn c;
    c.kind_ = Kind::uint64;
    c.data_ = values.data();
    c.count_ = values.size();
    return c;
}

KeyColumn KeyColumn::views(std::span<const std::string_view> values) {
    KeyColumn c;
    c.kind_ = Kind::views;
    c.data_ = values.data();
    c.count_ = values.size();
    return c;
}

std::string_view KeyColumn::get(std::size_t i, std::string& scratch) const {
    switch (kind_) {
        case Kind::offsets32: {
            const auto* off = static_cast<const std::int32_t*>(offsets_);
            const auto begin = static_cast<std::size_t>(off[i]);
            const auto end = static_cast<std::size_t>(off[i + 1]);
            return {static_cast<const char*>(data_) + begin, end - begin};
        }
        case Kind::offsets64: {
            const auto* off = static_cast<const std::int64_t*>(offsets_);
            const auto begin = static_cast<std::size_t>(off[i]);
            const auto end = static_cast<std::size_t>(off[i + 1]);
            return {static_cast<const char*>(data_) + begin, end - begin};
        }
        case Kind::ucs4: {
            const char32_t* row = static_cast<const char32_t*>(data_) + i * width_;
            std::size_t length = width_;
            while (length > 0 && row[length - 1] == 0) --length;
            // One pass: ASCII is copied byte for byte, anything else encoded; the scratch
            // buffer only grows, so steady state allocates nothing.
            if (scratch.size() < length * 4) scratch.resize(length * 4);
            char* out = scratch.data();
            std::size_t written = 0;
            for (std::size_t k = 0; k < length; ++k) {
                const char32_t cp = row[k];
                if (cp < 0x80) {
                    out[written++] = static_cast<char>(cp);
                    continue;
                }
                const std::size_t used = encode_utf8(out + written, cp);
                if (used == 0) {
                    throw InvalidArgument(id_field(i),
                                          "contains a surrogate or a code point "
                                          "above U+10FFFF; ids must be valid text");
                }
                written += used;
            }
            return {out, written};
        }
        case Kind::bytes: {
            const char* row = static_cast<const char*>(data_) + i * width_;
            std::size_t length = width_;
            while (length > 0 && row[length - 1] == 0) --length;
            return {row, length};
        }
        case Kind::int64: {
            if (scratch.size() < 24) scratch.resize(24);
            const auto v = static_cast<const std::int64_t*>(data_)[i];
            const auto r = std::to_chars(scratch.data(), scratch.data() + 24, v);
            return {scratch.data(), static_cast<std::size_t>(r.ptr - scratch.data())};
        }
        case Kind::uint64: {
            if (scratch.size() < 24) scratch.resize(24);
            const auto v = static_cast<const std::uint64_t*>(data_)[i];
            const auto r = std::to_chars(scratch.data(), scratch.data() + 24, v);
            return {scratch.data(), static_cast<std::size_t>(r.ptr - scratch.data())};
        }
        case Kind::views:
            return static_cast<const std::string_view*>(data_)[i];
    }
    return {};
}

}  // namespace lumengate::assign
