#pragma once
// The output formats a command can be asked for with --format.

#include <optional>
#include <string_view>

namespace ephport {

enum class Format { table, csv, json, jsonl };

// The --format spelling: "table", "csv", "json", "jsonl".
std::string_view format_name(Format format);
// The Format spelt `name`; nullopt for anything else.
std::optional<Format> parse_format(std::string_view name);

}  // namespace ephport
