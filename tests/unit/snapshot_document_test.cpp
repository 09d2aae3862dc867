// Reading an ephport.snapshot/1 document back (what `log --computers` gets
// from a remote `serve`): on a real document written by `ephport snapshot
// --format json` (tests/fixtures/remote/README.md), the rows are the ones
// `snapshot --format csv` wrote at the same moment, and the document
// survives a round trip through the JSON sink.

#include "fleet/snapshot_document.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "address_csv.h"
#include "collect_fixtures.h"
#include "output/csv.h"
#include "output/json.h"
#include "pipeline/sample.h"
#include "temp_dir.h"
#include "util/error.h"

namespace ephport {
namespace {

using testing::render_csv_header;
using testing::render_csv_rows;

using testing::fixture_path;
using testing::read_file;

std::string fixture(const std::string& name) {
  return read_file(fixture_path("remote/" + name));
}

TEST(SnapshotDocument, RealDocumentGivesTheSameRowsAsCsv) {
  Analysis analysis = parse_snapshot_document(fixture("snapshot.json"));
  EXPECT_EQ(render_csv_header() + render_csv_rows(analysis), fixture("snapshot.csv"));
}

TEST(SnapshotDocument, ReadsTheFieldsOfEveryLevel) {
  Analysis analysis = parse_snapshot_document(fixture("snapshot.json"));
  EXPECT_EQ(analysis.host.computer, "vm");
  EXPECT_EQ(platform_name(analysis.host.platform), "linux");
  EXPECT_EQ(socket_source_name(analysis.host.source), "netlink");
  EXPECT_EQ(bind_state_name(analysis.bind_state), "exact");
  EXPECT_TRUE(analysis.owners.resolved);
  ASSERT_TRUE(analysis.has_tcp);
  ASSERT_TRUE(analysis.has_udp);
  EXPECT_EQ(analysis.tcp.range, (PortRange{40000, 40099}));
  EXPECT_EQ(analysis.tcp.capacity, 100u);
  EXPECT_DOUBLE_EQ(analysis.tcp.pressure_percent, 50.0);
  EXPECT_EQ(analysis.tcp.destination_count, 5u);
  ASSERT_EQ(analysis.tcp.destinations.size(), 5u);
  ASSERT_EQ(analysis.tcp.addresses.size(), 5u);
  const AddressRow& v6 = analysis.tcp.addresses[2];
  EXPECT_EQ(v6.address.str(), "::1");
  EXPECT_EQ(v6.ports_in_use, 4u);
  EXPECT_EQ(v6.states[static_cast<size_t>(SockState::established)], 8u);
  ASSERT_TRUE(v6.worst_destination);
  EXPECT_EQ(v6.worst_destination->remote_port, 8443);
  EXPECT_TRUE(analysis.tcp.addresses[3].wildcard);
  EXPECT_EQ(analysis.udp.addresses.at(0).bind_free, 99u);
}

// Everything the reader takes is written back identically by the JSON sink.
TEST(SnapshotDocument, RoundTripsThroughTheJsonSink) {
  nlohmann::json original = nlohmann::json::parse(fixture("snapshot.json"));
  // The fixture predates "configured" (issue #11): read as unknown, written
  // back as null. One row says it, to see true come back.
  for (const char* protocol : {"tcp", "udp"}) {
    for (nlohmann::json& row : original["protocols"][protocol]["addresses"]) {
      row["configured"] = nullptr;
    }
  }
  original["protocols"]["tcp"]["addresses"][0]["configured"] = true;
  nlohmann::json again =
      nlohmann::json::parse(render_json(parse_snapshot_document(original.dump())));
  // Written since the fixture was recorded (issue #11); their reading is
  // tested below.
  for (const char* protocol : {"tcp", "udp"}) {
    for (nlohmann::json& row : again["protocols"][protocol]["addresses"]) {
      row.erase("sockets");
    }
  }
  for (const char* key : {"schema", "computer", "time", "platform", "bind_state", "bind_state_note",
                          "expiry_window_ms", "owners"}) {
    EXPECT_EQ(again[key], original[key]) << key;
  }
  for (const char* protocol : {"tcp", "udp"}) {
    for (const char* key :
         {"range", "capacity", "capacity_guaranteed", "pressure_percent", "pressure_percent_max",
          "sockets", "states", "addresses", "bind_owned_ports", "bind_owned_ports_min",
          "bind_owned_ports_max", "least_connect_free_min", "destination_count", "destinations",
          "pressure_forecast"}) {
      EXPECT_EQ(again["protocols"][protocol][key], original["protocols"][protocol][key])
          << protocol << "." << key;
    }
  }
}

// What a current ephport writes about the pressure's source and the
// sockets of each address row comes back as it was.
TEST(SnapshotDocument, PressureSourceAndAddressSocketsRoundTrip) {
  SampleOptions options;
  options.linux_options.source = Source::procfs;
  options.linux_options.proc_root = testing::fixture_path("proc");
  options.linux_options.bind_state = LinuxOptions::BindState::estimate;
  nlohmann::json written = nlohmann::json::parse(render_json(take_sample(options, nullptr)));
  ASSERT_FALSE(written["protocols"]["tcp"]["pressure_source"].is_null());
  nlohmann::json again =
      nlohmann::json::parse(render_json(parse_snapshot_document(written.dump())));
  for (const char* protocol : {"tcp", "udp"}) {
    for (const char* key : {"pressure_source", "pressure_source_max", "addresses"}) {
      EXPECT_EQ(again["protocols"][protocol][key], written["protocols"][protocol][key])
          << protocol << "." << key;
    }
  }
}

// A document from before issue #11 names no source, and its address rows
// have no `sockets`: they read as the sum of the row's states.
TEST(SnapshotDocument, OlderDocumentsHaveNoPressureSource) {
  Analysis analysis = parse_snapshot_document(fixture("snapshot.json"));
  EXPECT_FALSE(analysis.tcp.pressure_source.has_value());
  EXPECT_FALSE(analysis.tcp.pressure_source_max.has_value());
  const AddressRow& v6 = analysis.tcp.addresses[2];
  uint32_t sum = 0;
  for (uint32_t count : v6.states) {
    sum += count;
  }
  EXPECT_EQ(v6.sockets, sum);
}

TEST(SnapshotDocument, FieldsAddedLaterAreIgnored) {
  nlohmann::json document = nlohmann::json::parse(fixture("snapshot.json"));
  document["new_top_level"] = 1;
  document["protocols"]["tcp"]["addresses"][0]["new_field"] = "x";
  document["protocols"]["tcp"]["states"]["NEW_STATE"] = 3;
  Analysis analysis = parse_snapshot_document(document.dump());
  EXPECT_EQ(analysis.tcp.addresses[0].ports_in_use, 50u);
}

void expect_error(const std::string& text, const std::string& needle) {
  try {
    parse_snapshot_document(text);
    ADD_FAILURE() << "no error, expected one naming " << needle;
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
  }
}

TEST(SnapshotDocument, ErrorsNameThePath) {
  nlohmann::json document = nlohmann::json::parse(fixture("snapshot.json"));
  expect_error("{not json", "snapshot document: malformed JSON at line 1, column ");
  expect_error("[1]", "expected an object");

  nlohmann::json other = document;
  other["schema"] = "ephport.snapshots/1";
  expect_error(other.dump(), "schema: 'ephport.snapshots/1', expected ephport.snapshot/1");

  nlohmann::json missing = document;
  missing["protocols"]["tcp"]["addresses"][2].erase("bind_free");
  expect_error(missing.dump(), "protocols.tcp.addresses[2].bind_free: missing");

  nlohmann::json mistyped = document;
  mistyped["protocols"]["udp"]["capacity"] = "100";
  expect_error(mistyped.dump(), "protocols.udp.capacity: expected a non-negative integer");

  nlohmann::json negative = document;
  negative["protocols"]["tcp"]["destinations"][0]["in_use"] = -1;
  expect_error(negative.dump(), "protocols.tcp.destinations[0].in_use");

  nlohmann::json address = document;
  address["protocols"]["tcp"]["addresses"][0]["address"] = "300.1.1.1";
  expect_error(address.dump(), "'300.1.1.1' is not an IP address");

  nlohmann::json time = document;
  time["time"] = "yesterday";
  expect_error(time.dump(), "time: 'yesterday' is not an RFC 3339 time");

  nlohmann::json port = document;
  port["protocols"]["tcp"]["destinations"][0]["remote_port"] = 70000;
  expect_error(port.dump(), "remote_port: out of range");
}

// A document from an ephport before the bounds (issue #11) has none: each
// bound reads as its figure, as an exact bind state would give.
TEST(SnapshotDocument, DocumentsWithoutBoundsReadAsTheirFigures) {
  nlohmann::json document = nlohmann::json::parse(fixture("snapshot.json"));
  for (const char* protocol : {"tcp", "udp"}) {
    nlohmann::json& figures = document["protocols"][protocol];
    for (const char* key : {"pressure_percent_max", "bind_owned_ports_min", "bind_owned_ports_max",
                            "least_connect_free_min"}) {
      figures.erase(key);
    }
    for (nlohmann::json& row : figures["destinations"]) {
      row.erase("connect_free_min");
      row.erase("connect_free_max");
    }
    for (nlohmann::json& row : figures["addresses"]) {
      row.erase("connect_free_new_destination_min");
      row.erase("connect_free_new_destination_max");
    }
  }
  Analysis analysis = parse_snapshot_document(document.dump());
  EXPECT_EQ(analysis.tcp.pressure_percent_max, analysis.tcp.pressure_percent);
  EXPECT_EQ(analysis.tcp.bind_owned_ports_max, analysis.tcp.bind_owned_ports);
  EXPECT_EQ(analysis.tcp.least_connect_free_min, 50u);
  EXPECT_EQ(analysis.tcp.destinations.at(0).connect_free_min, 50u);
  EXPECT_EQ(analysis.tcp.destinations.at(0).connect_free_max, 50u);
  EXPECT_EQ(analysis.tcp.addresses.at(0).connect_free_new_destination_min, 50u);
}

}  // namespace
}  // namespace ephport
