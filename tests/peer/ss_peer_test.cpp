// Peer test: ephport's per-destination counts against `ss -tanH` (iproute2)
// on the same population, in the same namespace. Groups are (local address,
// remote address, remote port) over sockets whose local port is in the range,
// LISTEN excluded, accepted children of a listener excluded (they sit on the
// listener's port, rule 9), v4-mapped addresses shown as IPv4.

#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "../lab/lab_support.h"

namespace ephport::lab {
namespace {

using Key = std::tuple<std::string, std::string, int>;  // local, remote, remote port

struct Group {
  int in_use = 0;
  int time_wait = 0;
  bool operator==(const Group&) const = default;
};

std::string run_command(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("popen " + command);
  }
  std::string output;
  char buffer[4096];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    output.append(buffer, got);
  }
  const int status = ::pclose(pipe);
  if (status != 0) {
    throw std::runtime_error(command + " failed with status " + std::to_string(status));
  }
  return output;
}

// "127.0.0.1:40000", "[::1]:8080", "*:8080" -> (canonical address, port).
std::pair<std::string, int> split_endpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw std::runtime_error("ss endpoint without port: " + text);
  }
  std::string address = text.substr(0, colon);
  const size_t scope = address.find('%');  // 127.0.0.1%lo
  if (scope != std::string::npos) {
    address.erase(scope);
  }
  if (address == "*" || address == "[*]") {
    address = "::";
  }
  const std::string port = text.substr(colon + 1);  // "*" for a listener's peer
  return {canonical(address), port == "*" ? 0 : std::stoi(port)};
}

std::map<Key, Group> ss_groups(int first, int last) {
  struct Row {
    std::string state;
    std::pair<std::string, int> local;
    std::pair<std::string, int> peer;
  };
  std::vector<Row> rows;
  std::set<std::pair<std::string, int>> listening;
  for (const std::string& line : split_lines(run_command("ss -tanH"))) {
    std::istringstream in(line);
    std::string state, recv_q, send_q, local, peer;
    if (!(in >> state >> recv_q >> send_q >> local >> peer)) {
      continue;
    }
    Row row{state, split_endpoint(local), split_endpoint(peer)};
    if (state == "LISTEN") {
      listening.insert(row.local);
    } else {
      rows.push_back(row);
    }
  }
  std::map<Key, Group> groups;
  for (const Row& row : rows) {
    const auto& [address, port] = row.local;
    if (port < first || port > last || listening.count(row.local) ||
        listening.count({"0.0.0.0", port}) || listening.count({"::", port})) {
      continue;
    }
    Group& group = groups[{address, row.peer.first, row.peer.second}];
    ++group.in_use;
    group.time_wait += row.state == "TIME-WAIT" ? 1 : 0;
  }
  return groups;
}

std::map<Key, Group> ephport_groups(const Json& snapshot) {
  std::map<Key, Group> groups;
  for (const Json& row : snapshot.at("protocols").at("tcp").at("destinations")) {
    Group& group = groups[{canonical(row.at("local_address").get<std::string>()),
                           canonical(row.at("remote_address").get<std::string>()),
                           row.at("remote_port").get<int>()}];
    group.in_use += row.at("in_use").get<int>();
    group.time_wait += row.at("time_wait").get<int>();
  }
  return groups;
}

std::string describe(const std::map<Key, Group>& groups) {
  std::ostringstream out;
  for (const auto& [key, group] : groups) {
    out << "  " << std::get<0>(key) << " -> " << std::get<1>(key) << ":" << std::get<2>(key)
        << " in_use=" << group.in_use << " time_wait=" << group.time_wait << "\n";
  }
  return out.str();
}

class SsPeerTest : public LabTest {};

TEST_F(SsPeerTest, DestinationCountsEqualSs) {
  lab().set_range(40000, 40049);
  lab().set_tw_reuse(0);
  lab().listen("127.0.0.1", 7001);
  lab().listen("127.0.0.1", 40010);  // inside the range: children excluded
  lab().listen("::1", 7002);
  lab().listen("0.0.0.0", 7003);
  lab().connect("127.0.0.1", "127.0.0.1", 7001, 10);
  lab().connect("127.0.0.2", "127.0.0.1", 7001, 6);
  lab().connect("127.0.0.1", "127.0.0.1", 40010, 5);
  lab().connect("", "::1", 7002, 4);
  lab().connect("", "::ffff:127.0.0.1", 7001, 3);
  lab().connect("127.0.0.3", "127.0.0.1", 7003, 3);
  lab().time_wait("127.0.0.1", "127.0.0.1", 7001, 2);
  lab().time_wait("127.0.0.2", "127.0.0.1", 40010, 1);

  const std::map<Key, Group> ss = ss_groups(40000, 40049);
  const Json snap = snapshot_json();
  const std::map<Key, Group> ephport = ephport_groups(snap);

  // The population is what it was built to be, as ss sees it.
  const std::map<Key, Group> built = {
      {{"127.0.0.1", "127.0.0.1", 7001}, {10 + 3 + 2, 2}},
      {{"127.0.0.2", "127.0.0.1", 7001}, {6, 0}},
      {{"127.0.0.1", "127.0.0.1", 40010}, {5, 0}},
      {{"127.0.0.2", "127.0.0.1", 40010}, {1, 1}},
      {{"::1", "::1", 7002}, {4, 0}},
      {{"127.0.0.3", "127.0.0.1", 7003}, {3, 0}},
  };
  EXPECT_EQ(ss, built) << "ss:\n" << describe(ss);
  EXPECT_EQ(ephport, ss) << "ephport:\n" << describe(ephport) << "ss:\n" << describe(ss);
  EXPECT_EQ(snap.at("protocols").at("tcp").at("destination_count").get<size_t>(), ss.size());
}

}  // namespace
}  // namespace ephport::lab
