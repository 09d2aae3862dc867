#include "util/escape.h"

#include <array>

namespace ephport {

namespace {

constexpr std::string_view kEllipsis = "…";

// The length of the valid UTF-8 sequence at the start of `text` (1..4), or
// 0 if it does not start with one (overlong forms, surrogates and code
// points above U+10FFFF are invalid).
size_t utf8_length(std::string_view text) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char low = 0x80;  // bounds of the second byte
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) {
    return 0;
  }
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) {
      return 0;
    }
  }
  return length;
}

void append_hex(std::string& out, const char* prefix, unsigned value, int digits) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  out += prefix;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out += kHex[(value >> shift) & 0xF];
  }
}

// Appends the visible form of the character at the start of `text` to
// `out`; returns how many bytes of `text` it stood for.
size_t escape_one(std::string_view text, std::string& out) {
  const auto c = static_cast<unsigned char>(text[0]);
  if (c >= 0x20 && c < 0x7F) {
    out += static_cast<char>(c);
    return 1;
  }
  if (c < 0x80) {
    switch (c) {
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        append_hex(out, "\\x", c, 2);  // the other C0 controls and DEL
        break;
    }
    return 1;
  }
  const size_t length = utf8_length(text);
  if (length == 0) {
    append_hex(out, "\\x", c, 2);
    return 1;
  }
  if (length == 2 && c == 0xC2 && static_cast<unsigned char>(text[1]) < 0xA0) {
    append_hex(out, "\\u", 0x80 + (static_cast<unsigned char>(text[1]) - 0x80), 4);  // C1
    return 2;
  }
  out.append(text.substr(0, length));
  return length;
}

}  // namespace

bool needs_escaping(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const auto c = static_cast<unsigned char>(text[at]);
    if (c >= 0x20 && c < 0x7F) {
      ++at;
      continue;
    }
    const size_t length = c < 0x80 ? 0 : utf8_length(text.substr(at));
    if (length == 0 ||
        (length == 2 && c == 0xC2 && static_cast<unsigned char>(text[at + 1]) < 0xA0)) {
      return true;
    }
    at += length;
  }
  return false;
}

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    at += escape_one(text.substr(at), out);
  }
  return out;
}

std::string excerpt(std::string_view text, size_t max_bytes) {
  std::string out;
  std::string one;
  for (size_t at = 0; at < text.size();) {
    one.clear();
    const size_t used = escape_one(text.substr(at), one);
    if (out.size() + one.size() > max_bytes) {
      out += kEllipsis;
      return out;
    }
    out += one;
    at += used;
  }
  return out;
}

}  // namespace ephport
