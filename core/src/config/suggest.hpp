// "Did you mean" support: edit distance and the closest known name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imagepipe::config {

// Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when close enough to be a plausible typo: distance at
// most max(1, len(word) / 3). Ties go to the first candidate in order.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// "did you mean 'x'? <label>: a, b, c" — either part left out when it has nothing to say.
std::string suggestion_hint(std::string_view word, const std::vector<std::string>& candidates,
                            std::string_view list_label);

}  // namespace imagepipe::config
