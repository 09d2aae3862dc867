#pragma once
// The ephport.snapshot/1 JSON document (ARCHITECTURE §5, docs/model.md).

#include <nlohmann/json.hpp>
#include <string>

#include "analyze/analysis.h"

namespace ephport {

inline constexpr const char* kSnapshotSchema = "ephport.snapshot/1";

// Text of a JSON value plus a newline: indented by 2 when `pretty`, else one
// line. Invalid UTF-8 (a comm cut inside a character, a hostile cmdline) is
// replaced by U+FFFD instead of failing the whole output.
std::string dump_json(const nlohmann::ordered_json& value, bool pretty);

// null for "" (a field that could not be read or does not apply), else the text.
nlohmann::ordered_json text_or_null(const std::string& text);

// {"ESTABLISHED": n, ...}, states with no socket left out.
nlohmann::ordered_json states_json(const StateCounts& states);
nlohmann::ordered_json snapshot_json(const Analysis& analysis);
std::string render_json(const Analysis& analysis);   // pretty, for snapshot
std::string render_jsonl(const Analysis& analysis);  // one line, for log

}  // namespace ephport
