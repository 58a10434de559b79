#pragma once
// Key bytes, defined once: every batch of ids, whatever its container, is read through a
// KeyColumn that yields each id's bytes (UTF-8 for text, as-is for bytes, decimal text for
// integers). The column only views memory owned by the caller.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lumengate::assign {

class KeyColumn {
  public:
    // Arrow-style variable-width UTF-8: offsets has size()+1 entries into data.
    static KeyColumn utf8_offsets32(const char* data, std::span<const std::int32_t> offsets);
    static KeyColumn utf8_offsets64(const char* data, std::span<const std::int64_t> offsets);
    // numpy '<U' arrays: fixed-width UCS-4, trailing NULs are padding.
    static KeyColumn ucs4_fixed(const char32_t* data, std::size_t count, std::size_t width);
    // numpy 'S' arrays: fixed-width bytes, trailing NULs are padding.
    static KeyColumn bytes_fixed(const char* data, std::size_t count, std::size_t width);
    static KeyColumn int64s(std::span<const std::int64_t> values);
    static KeyColumn uint64s(std::span<const std::uint64_t> values);
    // Views prepared by the caller (e.g. from Python objects); they must outlive the column.
    static KeyColumn views(std::span<const std::string_view> values);

    [[nodiscard]] std::size_t size() const noexcept { return count_; }

    // The bytes of key i; scratch holds converted text when the container is not UTF-8.
    // Throws InvalidArgument naming ids[i] for an invalid code point.
    [[nodiscard]] std::string_view get(std::size_t i, std::string& scratch) const;

  private:
    enum class Kind { offsets32, offsets64, ucs4, bytes, int64, uint64, views };
    Kind kind_ = Kind::views;
    const void* data_ = nullptr;
    const void* offsets_ = nullptr;
    std::size_t count_ = 0;
    std::size_t width_ = 0;
};

// "ids[i]" as used in error messages.
std::string id_field(std::size_t index);

}  // namespace lumengate::assign
