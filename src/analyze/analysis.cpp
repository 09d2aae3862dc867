#include "analyze/analysis.h"

namespace ephport {

std::string_view bind_state_name(BindState state) {
  return state == BindState::exact ? "exact" : "estimated";
}

std::optional<BindState> parse_bind_state(std::string_view name) {
  if (name == "exact") {
    return BindState::exact;
  }
  if (name == "estimated") {
    return BindState::estimated;
  }
  return std::nullopt;
}

}  // namespace ephport
