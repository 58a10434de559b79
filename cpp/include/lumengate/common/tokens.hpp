#pragma once
// The package's one offline token estimator. Prompt building trims context to a budget with
// it and the Gemini client charges TPM limits with it before a request (corrected by the
// server's usageMetadata afterwards). It errs on the high side so that budgets hold.
#include <cstddef>
#include <string_view>

namespace lumengate::common {

// Estimated Gemini tokens in UTF-8 text:
// - a run of Latin letters (with apostrophes) costs 1 up to six letters (a common word),
//   then one more per four letters;
// - a run of digits costs ceil(len / 3);
// - each Hangul syllable, CJK ideograph, kana or other non-Latin letter costs 1;
// - each other symbol or punctuation mark (emoji included) costs 1;
// - whitespace is free.
// Throws InvalidArgument(field) on invalid UTF-8.
std::size_t estimate_tokens(std::string_view text, const char* field = "text");

}  // namespace lumengate::common
