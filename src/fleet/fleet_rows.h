#pragma once
// `log --computers` output: the combined log of several hosts, each sampled
// by its own `ephport serve`.
//
// Table and CSV (one sheet, output/sheet.h): the local log's columns (output/address_rows.h), one
// row per address per host, with the real Computer (the remote's `computer` field), then a `Status`
// column: "ok", or for a host that did not answer one row "unreachable: <why>" whose Computer is
// the endpoint as given and whose other cells are "-". JSONL: per host, its ephport.snapshot/1
// document as received plus a "remote" object ({"endpoint", "status": "ok"}), or an
// ephport.remote-error/1 object ({"schema", "computer": null, "time",
// "remote": {"endpoint", "status": "unreachable", "error"}}).

#include <chrono>
#include <string>
#include <vector>

#include "analyze/analysis.h"
#include "output/sheet.h"

namespace ephport {

inline constexpr const char* kRemoteErrorSchema = "ephport.remote-error/1";

// One host's part of a sample.
struct HostRecord {
  std::string endpoint;                   // as given to --computers
  const Analysis* analysis = nullptr;     // null: unreachable
  const std::string* document = nullptr;  // the JSON received, with analysis
  std::string error;                      // why it is unreachable
  std::chrono::system_clock::time_point asked;
};

// address_columns() + "Status"; `mark_estimates` as in address_sheet().
Sheet fleet_sheet(const std::vector<HostRecord>& hosts, bool mark_estimates);
std::string render_fleet_jsonl(const std::vector<HostRecord>& hosts);

}  // namespace ephport
