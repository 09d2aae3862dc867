#pragma once
// JSON from outside (saved captures, remote snapshot documents, evidence
// bundles) parsed with limits, so that no input can crash ephport or make it
// print the input back:
// - nesting deeper than `max_depth` (ephport writes at most 7 levels) is
//   refused while parsing, before the value is built (a 140 KB file nested
//   70 000 deep once overflowed the stack of a recursive dump);
// - a number out of range (1e999) is malformed JSON, not an internal error;
// - every string, keys included, is passed through escape_controls();
// - an error quotes at most kExcerptBytes of the input, escaped.
// Size limits are the caller's: it bounds the text before parsing.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ephport {

inline constexpr size_t kMaxJsonDepth = 64;

// Throws InputError: "malformed JSON at line L, column C: <why>[; near
// '<excerpt>']", or with `single_line` (a JSON Lines line) "malformed JSON
// at column C: ...", and "JSON nested deeper than N levels".
nlohmann::json parse_outside_json(std::string_view text, bool single_line = false,
                                  size_t max_depth = kMaxJsonDepth);

// The same, keeping the order of object keys (to pass a document on).
nlohmann::ordered_json parse_outside_ordered_json(std::string_view text,
                                                  size_t max_depth = kMaxJsonDepth);

// The "<why>[; near '<excerpt>']" part of a parse error reported to a SAX
// reader (nlohmann's own text, without its unbounded "last read" quote).
std::string json_error_reason(const std::string& what, const std::string& last_token);

}  // namespace ephport
