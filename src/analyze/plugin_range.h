#pragma once
// Monitoring-plugin thresholds (Nagios/Icinga plugin guidelines): the range
// syntax `[@]start:end`, the states OK/WARNING/CRITICAL/UNKNOWN, and how a
// warning and a critical range decide the state of one value. No I/O.
//
//   10      alert if < 0 or > 10        10:     alert if < 10
//   ~:10    alert if > 10               10:20   alert if < 10 or > 20
//   @10:20  alert if 10 <= value <= 20 (inclusive)
//
// Bounds are decimal numbers (`80`, `12.5`, `-5`); `~` as start is minus
// infinity; an empty end is plus infinity; start must not exceed end.

#include <optional>
#include <string>
#include <string_view>

namespace ephport {

// The plugin exit codes, in this numeric order.
enum class PluginState : int { ok = 0, warning = 1, critical = 2, unknown = 3 };

// "OK", "WARNING", "CRITICAL", "UNKNOWN".
std::string_view plugin_state_name(PluginState state);

// The more severe of two states: CRITICAL > UNKNOWN > WARNING > OK (a
// failed part of a check outranks a warning, not a critical).
PluginState worse(PluginState a, PluginState b);

class PluginRange {
 public:
  // Parses `text`. Throws InputError naming `what` (e.g. "--warning"; empty:
  // not named) and the forms expected when the text is not a range.
  static PluginRange parse(std::string_view text, std::string_view what);

  // True when `value` is in the alerting part of the range.
  bool alerts(double value) const;

  // The text it was parsed from: perfdata repeats the thresholds as given.
  const std::string& text() const { return text_; }

 private:
  std::optional<double> start_;  // empty: minus infinity (`~`)
  std::optional<double> end_;    // empty: plus infinity
  bool inside_ = false;          // `@`: alert inside instead of outside
  std::string text_;
};

// A warning and a critical range; either may be absent (never alerts).
struct Thresholds {
  std::optional<PluginRange> warning;
  std::optional<PluginRange> critical;

  // CRITICAL if the critical range alerts, else WARNING if the warning one
  // does, else OK.
  PluginState evaluate(double value) const;
};

}  // namespace ephport
