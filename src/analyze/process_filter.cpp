#include "analyze/process_filter.h"

#include <algorithm>

namespace ephport {

namespace {
std::string base_name(const std::string& path) {
  std::string name = path.substr(path.rfind('/') + 1);
  // The kernel marks a replaced executable "/usr/bin/x (deleted)".
  constexpr std::string_view kDeleted = " (deleted)";
  if (name.size() > kDeleted.size() && name.ends_with(kDeleted)) {
    name.resize(name.size() - kDeleted.size());
  }
  return name;
}
}  // namespace

bool ProcessFilter::matches(const ProcessRow& row) const {
  if (std::find(pids.begin(), pids.end(), row.pid) != pids.end()) {
    return true;
  }
  if (!row.info) {
    return false;
  }
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return name == row.info->name || (!row.info->exe.empty() && name == base_name(row.info->exe));
  });
}

void keep_matching_processes(Analysis& analysis, const ProcessFilter& filter) {
  if (filter.empty()) {
    return;
  }
  std::erase_if(analysis.processes, [&](const ProcessRow& row) { return !filter.matches(row); });
}

}  // namespace ephport
