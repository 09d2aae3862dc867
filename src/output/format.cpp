#include "output/format.h"

#include <array>

namespace ephport {

namespace {
constexpr std::array kAllFormats = {Format::table, Format::csv, Format::json, Format::jsonl};
}

std::string_view format_name(Format format) {
  switch (format) {
    case Format::table:
      return "table";
    case Format::csv:
      return "csv";
    case Format::json:
      return "json";
    case Format::jsonl:
      return "jsonl";
  }
  return "table";
}

std::optional<Format> parse_format(std::string_view name) {
  for (Format format : kAllFormats) {
    if (format_name(format) == name) {
      return format;
    }
  }
  return std::nullopt;
}

}  // namespace ephport
