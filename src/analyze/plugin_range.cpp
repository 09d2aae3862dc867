#include "analyze/plugin_range.h"

#include "util/error.h"
#include "util/parse_number.h"

namespace ephport {

namespace {
// A whole decimal number: no sign other than '-', no spaces, no inf/nan.
std::optional<double> parse_bound(std::string_view text) {
  return parse_fixed(text);
}

[[noreturn]] void bad_range(std::string_view text, std::string_view what, std::string_view why) {
  const std::string prefix = what.empty() ? "" : std::string(what) + ": ";
  throw InputError(prefix + "'" + std::string(text) + "' is not a threshold range (" +
                   std::string(why) +
                   "); expected N (alert above N), N: (below N), ~:N (above N), "
                   "N:M (outside N..M) or @N:M (inside N..M)");
}
}  // namespace

std::string_view plugin_state_name(PluginState state) {
  switch (state) {
    case PluginState::ok:
      return "OK";
    case PluginState::warning:
      return "WARNING";
    case PluginState::critical:
      return "CRITICAL";
    case PluginState::unknown:
      break;
  }
  return "UNKNOWN";
}

PluginState worse(PluginState a, PluginState b) {
  auto rank = [](PluginState state) {
    switch (state) {
      case PluginState::ok:
        return 0;
      case PluginState::warning:
        return 1;
      case PluginState::unknown:
        return 2;
      case PluginState::critical:
        break;
    }
    return 3;
  };
  return rank(a) >= rank(b) ? a : b;
}

PluginRange PluginRange::parse(std::string_view text, std::string_view what) {
  PluginRange range;
  range.text_ = std::string(text);
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '@') {
    range.inside_ = true;
    rest.remove_prefix(1);
  }
  if (rest.empty()) {
    bad_range(text, what, "empty");
  }
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    // "N" is "0:N".
    range.start_ = 0.0;
    range.end_ = parse_bound(rest);
    if (!range.end_) {
      bad_range(text, what, "not a number");
    }
    if (*range.end_ < 0) {
      bad_range(text, what, "N means 0:N, so N must not be negative");
    }
  } else {
    std::string_view start = rest.substr(0, colon);
    std::string_view end = rest.substr(colon + 1);
    if (start != "~") {
      // ":N" is accepted by some plugins as "0:N"; ephport asks for it spelled out.
      range.start_ = parse_bound(start);
      if (!range.start_) {
        bad_range(text, what, start.empty() ? "no start; write ~:N or 0:N" : "bad start");
      }
    }
    if (!end.empty()) {
      range.end_ = parse_bound(end);
      if (!range.end_) {
        bad_range(text, what, "bad end");
      }
    }
  }
  if (range.start_ && range.end_ && *range.start_ > *range.end_) {
    bad_range(text, what, "start above end");
  }
  return range;
}

bool PluginRange::alerts(double value) const {
  const bool within = (!start_ || value >= *start_) && (!end_ || value <= *end_);
  return inside_ ? within : !within;
}

PluginState Thresholds::evaluate(double value) const {
  if (critical && critical->alerts(value)) {
    return PluginState::critical;
  }
  if (warning && warning->alerts(value)) {
    return PluginState::warning;
  }
  return PluginState::ok;
}

}  // namespace ephport
