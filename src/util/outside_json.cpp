#include "util/outside_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "util/error.h"
#include "util/escape.h"

namespace ephport {

namespace {

// nlohmann's DOM builder, with a depth bound, escaped strings and bounded
// error messages.
template <class Json>
class BoundedDomReader {
  using string_t = typename Json::string_t;

 public:
  BoundedDomReader(Json& result, std::string_view text, bool single_line, size_t max_depth)
      : builder_(result), text_(text), single_line_(single_line), max_depth_(max_depth) {}

  bool null() { return builder_.null(); }
  bool boolean(bool value) { return builder_.boolean(value); }
  bool number_integer(typename Json::number_integer_t value) {
    return builder_.number_integer(value);
  }
  bool number_unsigned(typename Json::number_unsigned_t value) {
    return builder_.number_unsigned(value);
  }
  bool number_float(typename Json::number_float_t value, const string_t& text) {
    return builder_.number_float(value, text);
  }
  bool string(string_t& value) {
    escape(value);
    return builder_.string(value);
  }
  bool binary(typename Json::binary_t& value) { return builder_.binary(value); }
  bool key(string_t& value) {
    escape(value);
    return builder_.key(value);
  }
  bool start_object(std::size_t size) {
    enter();
    return builder_.start_object(size);
  }
  bool end_object() {
    --depth_;
    return builder_.end_object();
  }
  bool start_array(std::size_t size) {
    enter();
    return builder_.start_array(size);
  }
  bool end_array() {
    --depth_;
    return builder_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& last_token, const Exception& error) {
    // nlohmann's parse errors say "at line L, column C"; its number
    // overflow does not, and `position` (the characters read) places it.
    size_t line = 0;
    size_t column = 0;
    const std::string_view what = error.what();
    const size_t said = what.find(" at line ");
    if (said == std::string_view::npos ||
        std::sscanf(what.data() + said, " at line %zu, column %zu", &line, &column) != 2) {
      const size_t at = std::min(position, text_.size());
      const size_t newline = at == 0 ? std::string_view::npos : text_.rfind('\n', at - 1);
      const size_t line_begin = newline == std::string_view::npos ? 0 : newline + 1;
      column = at - line_begin + 1;
      line = 1 + static_cast<size_t>(std::count(
                     text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    }
    const std::string where = single_line_ ? fmt::format("column {}", column)
                                           : fmt::format("line {}, column {}", line, column);
    throw InputError(fmt::format("malformed JSON at {}: {}", where,
                                 json_error_reason(error.what(), last_token)));
  }

 private:
  static void escape(string_t& value) {
    if (needs_escaping(value)) {
      value = escape_controls(value);
    }
  }
  void enter() {
    if (++depth_ > max_depth_) {
      throw InputError(fmt::format("JSON nested deeper than {} levels", max_depth_));
    }
  }

  nlohmann::detail::json_sax_dom_parser<Json> builder_;
  std::string_view text_;
  bool single_line_;
  size_t max_depth_;
  size_t depth_ = 0;
};

}  // namespace

std::string json_error_reason(const std::string& what, const std::string& last_token) {
  std::string_view reason = what;
  // "[json.exception.parse_error.101] parse error at line 1, column 2: why; last read: '...'"
  if (const size_t bracket = reason.find("] ");
      reason.starts_with("[json.") && bracket != std::string_view::npos) {
    reason.remove_prefix(bracket + 2);
  }
  if (const size_t colon = reason.find(": ");
      reason.starts_with("parse error") && colon != std::string_view::npos) {
    reason.remove_prefix(colon + 2);
  }
  if (reason.starts_with("number overflow")) {
    reason = "number out of range";  // nlohmann quotes the whole number
  }
  reason = reason.substr(0, reason.find("; last read: "));
  std::string text = excerpt(reason, 200);
  if (!last_token.empty()) {
    // The token read last ends where the parser stopped: quote its end.
    const std::string_view token = last_token;
    const size_t keep = kExcerptBytes / 2;
    text += fmt::format(
        "; near '{}{}'", token.size() > keep ? "…" : "",
        excerpt(token.size() > keep ? token.substr(token.size() - keep) : token, kExcerptBytes));
  }
  return text;
}

namespace {
template <class Json>
Json parse_bounded(std::string_view text, bool single_line, size_t max_depth) {
  Json result;
  BoundedDomReader<Json> reader(result, text, single_line, max_depth);
  Json::sax_parse(text.begin(), text.end(), &reader);
  return result;
}
}  // namespace

nlohmann::json parse_outside_json(std::string_view text, bool single_line, size_t max_depth) {
  return parse_bounded<nlohmann::json>(text, single_line, max_depth);
}

nlohmann::ordered_json parse_outside_ordered_json(std::string_view text, size_t max_depth) {
  return parse_bounded<nlohmann::ordered_json>(text, false, max_depth);
}

}  // namespace ephport
