#include "fleet/fleet_rows.h"

#include <nlohmann/json.hpp>

#include "output/csv.h"
#include "output/json.h"
#include "output/table.h"
#include "util/time_format.h"

namespace ephport {

namespace {
constexpr size_t kDateTimeColumn = 1;
}

const Cells& fleet_columns() {
  static const Cells columns = [] {
    Cells cells = address_columns();
    cells.emplace_back("Status");
    return cells;
  }();
  return columns;
}

std::vector<Cells> fleet_rows(const std::vector<HostRecord>& hosts, bool mark_estimates) {
  std::vector<Cells> rows;
  for (const HostRecord& host : hosts) {
    if (host.analysis == nullptr) {
      Cells row(fleet_columns().size(), "-");
      row[0] = host.endpoint;
      row[kDateTimeColumn] = format_rfc3339_utc(host.asked, false);
      row.back() = "unreachable: " + host.error;
      rows.push_back(std::move(row));
      continue;
    }
    for (Cells& row : address_rows(*host.analysis, mark_estimates)) {
      row.emplace_back("ok");
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string render_fleet_table(const std::vector<HostRecord>& hosts) {
  return render_table(fleet_columns(), fleet_rows(hosts, true),
                      [](size_t column) {
                        return column < address_columns().size() && is_numeric_column(column);
                      }) +
         "\n";
}

std::string render_fleet_csv_header() {
  return render_csv_line(fleet_columns());
}

std::string render_fleet_csv_rows(const std::vector<HostRecord>& hosts) {
  std::string out;
  for (const Cells& row : fleet_rows(hosts, false)) {
    out += render_csv_line(row);
  }
  return out;
}

std::string render_fleet_jsonl(const std::vector<HostRecord>& hosts) {
  using json = nlohmann::ordered_json;
  std::string out;
  for (const HostRecord& host : hosts) {
    json line;
    if (host.analysis != nullptr && host.document != nullptr) {
      line = json::parse(*host.document, nullptr, false);
    }
    if (line.is_object()) {
      line["remote"] = {{"endpoint", host.endpoint}, {"status", "ok"}};
    } else {
      line = {{"schema", kRemoteErrorSchema},
              {"computer", nullptr},
              {"time", format_rfc3339_utc(host.asked, true)},
              {"remote",
               {{"endpoint", host.endpoint}, {"status", "unreachable"}, {"error", host.error}}}};
    }
    out += dump_json(line, false);
  }
  return out;
}

}  // namespace ephport
