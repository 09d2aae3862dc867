#include "fleet/fleet_rows.h"

#include <nlohmann/json.hpp>

#include "output/address_rows.h"
#include "output/json.h"
#include "util/error.h"
#include "util/outside_json.h"
#include "util/time_format.h"

namespace ephport {

namespace {
constexpr size_t kDateTimeColumn = 1;
}

Sheet fleet_sheet(const std::vector<HostRecord>& hosts, bool mark_estimates) {
  Sheet sheet{address_columns(), {}};
  // A snapshot's rows share one computer, so a narrow table drops it; here
  // it tells the hosts apart.
  sheet.columns.front().drop_rank = 0;
  sheet.columns.push_back(Column{"Status", Align::left});  // never dropped: why a host is missing
  for (const HostRecord& host : hosts) {
    if (host.analysis == nullptr) {
      Cells row(sheet.columns.size(), "-");
      row[0] = host.endpoint;
      row[kDateTimeColumn] = format_rfc3339_utc(host.asked, false);
      row.back() = "unreachable: " + host.error;
      sheet.rows.push_back(std::move(row));
      continue;
    }
    for (Cells& row : address_sheet(*host.analysis, mark_estimates).rows) {
      row.emplace_back("ok");
      sheet.rows.push_back(std::move(row));
    }
  }
  return sheet;
}

std::string render_fleet_jsonl(const std::vector<HostRecord>& hosts) {
  using json = nlohmann::ordered_json;
  std::string out;
  for (const HostRecord& host : hosts) {
    json line;
    if (host.analysis != nullptr && host.document != nullptr) {
      // Parsed again with the same limits, so that its strings (fields this
      // version does not read included) are escaped in the log too.
      try {
        line = parse_outside_ordered_json(*host.document);
      } catch (const InputError&) {
        line = nullptr;
      }
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
