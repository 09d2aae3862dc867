// The two Linux collectors must feed the analysis the same facts: on a
// population /proc/net can show completely (no bound-only TCP sockets, which
// only sock_diag's state bit 13 reveals), `--source procfs` and
// `--source netlink` give the same figures.

#include <map>

#include "lab_support.h"

namespace ephport::lab {
namespace {

class SourceParityTest : public LabTest {};

std::map<std::string, Json> by_key(const Json& rows, bool destinations) {
  std::map<std::string, Json> keyed;
  for (Json row : rows) {
    std::string key;
    if (destinations) {
      key = canonical(row.at("local_address").get<std::string>()) + " -> " +
            canonical(row.at("remote_address").get<std::string>()) + ":" +
            std::to_string(row.at("remote_port").get<int>());
    } else {
      key = canonical(row.at("address").get<std::string>());
      // Which of two equally bad destinations is "worst" may follow input
      // order; its figures may not.
      if (row.contains("worst_destination") && row.at("worst_destination").is_object()) {
        const Json worst = row.at("worst_destination");
        row["worst_destination"] = {{"connect_free", worst.at("connect_free")},
                                    {"usage_percent", worst.at("usage_percent")}};
      }
    }
    keyed[key] = row;
  }
  return keyed;
}

void expect_same_protocol(const Json& procfs, const Json& netlink) {
  for (const char* field : {"range", "capacity", "capacity_guaranteed", "pressure_percent",
                            "sockets", "states", "destination_count"}) {
    EXPECT_EQ(procfs.at(field), netlink.at(field)) << field;
  }
  const auto procfs_destinations = by_key(procfs.at("destinations"), true);
  const auto netlink_destinations = by_key(netlink.at("destinations"), true);
  EXPECT_EQ(procfs_destinations, netlink_destinations)
      << "procfs: " << procfs.at("destinations").dump()
      << "\nnetlink: " << netlink.at("destinations").dump();
  const auto procfs_addresses = by_key(procfs.at("addresses"), false);
  const auto netlink_addresses = by_key(netlink.at("addresses"), false);
  EXPECT_EQ(procfs_addresses, netlink_addresses) << "procfs: " << procfs.at("addresses").dump()
                                                 << "\nnetlink: " << netlink.at("addresses").dump();
}

TEST_F(SourceParityTest, ProcfsAndNetlinkGiveTheSameAnalysis) {
  lab().set_range(40000, 40049);
  lab().set_tw_reuse(0);
  lab().listen("127.0.0.1", 7001);
  lab().listen("127.0.0.1", 40020);
  lab().listen("::", 7002);
  lab().listen("::1", 7003);
  lab().connect("127.0.0.1", "127.0.0.1", 7001, 12);
  lab().connect("127.0.0.2", "127.0.0.1", 7001, 7);
  lab().connect("127.0.0.1", "127.0.0.1", 40020, 4);
  lab().connect("", "::1", 7002, 5);
  lab().connect("", "127.0.0.1", 7002, 3);  // v4 client, dual-stack listener
  lab().connect("", "::ffff:127.0.0.1", 7001, 2);
  lab().connect("", "::1", 7003, 2);
  lab().time_wait("127.0.0.1", "127.0.0.1", 7001, 3);
  lab().time_wait("", "::1", 7003, 2);
  lab().bound_only(Proto::udp, "127.0.0.1");
  lab().bound_only(Proto::udp, "0.0.0.0");
  lab().bound_only(Proto::udp, "::1");
  lab().udp_connect("127.0.0.1", 5353);

  const Json procfs = snapshot_json({"--source", "procfs"});
  const Json netlink = snapshot_json({"--source", "netlink"});
  for (const char* proto : {"tcp", "udp"}) {
    SCOPED_TRACE(proto);
    expect_same_protocol(procfs.at("protocols").at(proto), netlink.at("protocols").at(proto));
  }
  // Not vacuous: the population is there.
  const Json& tcp = netlink.at("protocols").at("tcp");
  EXPECT_EQ(tcp.at("destination_count"), 6) << tcp.at("destinations").dump();
  EXPECT_EQ(netlink.at("protocols").at("udp").at("sockets"), 4);
  EXPECT_EQ(tcp.at("states").value("TIME_WAIT", 0), 5);
}

}  // namespace
}  // namespace ephport::lab
