// Lab: IPv6 sockets whose IPV6_V6ONLY sock_diag does not report (it sends
// INET_DIAG_SKV6ONLY for LISTEN and CLOSE sockets only), and the UDP
// loopback substitute. V6ONLY decides whether an IPv6 socket's port blocks
// bind(0.0.0.0:0) (inet_bind_conflict(), ipv4_rcv_saddr_equal()). With BPF
// the iterator reads skc_ipv6only (tw_ipv6only) and every figure is exact;
// the estimate guesses it, and every bind_free then carries bounds that hold
// the kernel's count (docs/model.md, rule 7).

#include <string>
#include <vector>

#include "lab_support.h"

namespace ephport::lab {
namespace {

class V6OnlyLabTest : public LabTest {};

constexpr int kRange = 20;

// The TCP 0.0.0.0 row's bind_free and bounds, for a [lab] line.
std::string row_text(const Json& snapshot) {
  const auto row = find_address(snapshot, "tcp", "0.0.0.0");
  return row ? row->at("bind_free").dump() + " [" + row->at("bind_free_min").dump() + ", " +
                   row->at("bind_free_max").dump() + "]"
             : "none";
}

ClientOptions v6only_client(int v6only, SourceBind bind = SourceBind::no_port) {
  ClientOptions options(bind);
  options.v6only = v6only;
  return options;
}

// The figures V6ONLY does not change, for `all` IPv6 clients from [::1] to
// [::1]:8080 (listeners on [::1]:8080, [::1]:8081 and 127.0.0.1 outside the
// range): IPv4 binds on 127.0.0.1 never meet them, [::] and [::1] always.
void check_ipv6_clients_elsewhere(Lab& lab, const Predictions& predicted, int all) {
  check_bind_free(lab, predicted, Proto::tcp, "127.0.0.1", kRange);
  check_bind_free(lab, predicted, Proto::tcp, "::", kRange - all);
  check_bind_free(lab, predicted, Proto::tcp, "::1", kRange - all);
  check_connect_free(lab, predicted, "::1", "::1", 8080, kRange - all);
  check_new_destination(lab, predicted, "::1", "::1", 8081, kRange);
}

// Clients that set IPV6_V6ONLY, unbound and bound to [::1] (bind() to a
// specific IPv6 address sets V6ONLY by itself, __inet6_bind()), beside
// dual-stack ones: only the dual-stack ports block bind(0.0.0.0:0).
TEST_F(V6OnlyLabTest, V6OnlyClientsBoundAndUnbound) {
  lab().set_range(40000, 40000 + kRange - 1);
  lab().listen("::1", 8080);
  lab().listen("::1", 8081);
  lab().listen("127.0.0.1", 8090);  // outside the range: a row for 127.0.0.1
  const auto v6only_unbound = lab().connect("", "::1", 8080, 3, v6only_client(1));
  const auto v6only_bound = lab().connect("::1", "::1", 8080, 2, v6only_client(1));
  const auto bound_plain = lab().connect("::1", "::1", 8080, 2, v6only_client(-1));
  const auto dual_stack = lab().connect("", "::1", 8080, 2, v6only_client(0));
  const int all =
      static_cast<int>(distinct_ports(v6only_unbound, v6only_bound, bound_plain, dual_stack));
  const int dual = static_cast<int>(distinct_ports(dual_stack));

  const Predictions predicted = predict();
  // The estimate's best guess: bound clients (IP_BIND_ADDRESS_NO_PORT on an
  // IPv6 connection) are V6ONLY; the unbound ones follow bindv6only (0).
  check_bind_free(lab(), predicted, Proto::tcp, "0.0.0.0", kRange - dual,
                  {-static_cast<int>(distinct_ports(v6only_unbound)),
                   "V6ONLY of unbound connected clients (rule 7)"});
  check_ipv6_clients_elsewhere(lab(), predicted, all);
}

// net.ipv6.bindv6only = 1 (per namespace): AF_INET6 sockets made without
// the option are V6ONLY, those that clear it are dual-stack.
TEST_F(V6OnlyLabTest, Bindv6onlyMakesNewSocketsV6Only) {
  lab().set_range(40000, 40000 + kRange - 1);
  write_sysctl("net/ipv6/bindv6only", "1");
  lab().listen("::1", 8080);
  lab().listen("::", 8081);  // V6ONLY by the sysctl
  lab().listen("127.0.0.1", 8082);
  lab().listen("127.0.0.1", 8083);
  const auto v6only_by_default = lab().connect("", "::1", 8080, 4);
  const auto to_wildcard_listener = lab().connect("", "::1", 8081, 3);
  const auto dual_stack = lab().connect("", "::1", 8080, 2, v6only_client(0));
  const auto v4 = lab().connect("", "127.0.0.1", 8082, 2);
  const int v6 =
      static_cast<int>(distinct_ports(v6only_by_default, to_wildcard_listener, dual_stack));

  const Predictions predicted = predict();
  // The estimate follows bindv6only: the two clients that cleared the
  // option look V6ONLY (their ports count only where no IPv4 client shares
  // them: connect() may give an IPv6 and an IPv4 client the same port).
  const int held_for_v4 = static_cast<int>(distinct_ports(dual_stack, v4));
  check_bind_free(lab(), predicted, Proto::tcp, "0.0.0.0", kRange - held_for_v4,
                  {held_for_v4 - static_cast<int>(distinct_ports(v4)),
                   "V6ONLY of connected clients that cleared it (rule 7)"});
  check_bind_free(lab(), predicted, Proto::tcp, "127.0.0.1",
                  kRange - static_cast<int>(distinct_ports(v4)));
  // bind([::]:0) as a new socket: V6ONLY too, so IPv4 ports stay free for it.
  check_bind_free(lab(), predicted, Proto::tcp, "::", kRange - v6);
  check_bind_free(lab(), predicted, Proto::tcp, "::1", kRange - v6);
  check_connect_free(lab(), predicted, "::1", "::1", 8080,
                     kRange - static_cast<int>(distinct_ports(v6only_by_default, dual_stack)));
  check_new_destination(lab(), predicted, "127.0.0.1", "127.0.0.1", 8083, kRange);
}

// TIME_WAIT keeps the client's V6ONLY (tw_ipv6only); sock_diag reports no
// attributes at all for a timewait socket.
TEST_F(V6OnlyLabTest, TimeWaitOfV6OnlyAndDualStackClients) {
  lab().set_range(40000, 40000 + kRange - 1);
  lab().set_tw_reuse(0);  // every TIME_WAIT blocks its 4-tuple, whatever its age
  lab().listen("::1", 8080);
  lab().listen("::1", 8081);
  lab().listen("127.0.0.1", 8090);  // outside the range: a row for 127.0.0.1
  const auto v6only_unbound = lab().time_wait("", "::1", 8080, 3, v6only_client(1));
  const auto v6only_bound = lab().time_wait("::1", "::1", 8080, 2, v6only_client(-1));
  const auto dual_stack = lab().time_wait("", "::1", 8080, 2, v6only_client(0));
  const int all = static_cast<int>(distinct_ports(v6only_unbound, v6only_bound, dual_stack));

  const Predictions predicted = predict();
  // A timewait socket has no IP_BIND_ADDRESS_NO_PORT to go by: every one
  // follows bindv6only (0) in the estimate.
  check_bind_free(lab(), predicted, Proto::tcp, "0.0.0.0",
                  kRange - static_cast<int>(distinct_ports(dual_stack)),
                  {-static_cast<int>(distinct_ports(v6only_unbound, v6only_bound)),
                   "V6ONLY of TIME_WAIT sockets (rule 7)"});
  check_ipv6_clients_elsewhere(lab(), predicted, all);
}

// Accepted children inherit their listener's V6ONLY (sk_clone_lock()) and
// keep it, and their port's bind() state, after the listener has closed.
TEST_F(V6OnlyLabTest, ChildrenOfAClosedV6OnlyListener) {
  lab().set_range(40000, 40000 + kRange - 1);
  lab().listen_v6only("::", 40006);
  const auto clients = lab().connect("", "::1", 40006, 3);  // dual-stack clients
  lab().close_listener("::", 40006);
  lab().listen("::1", 8080);
  lab().listen("127.0.0.1", 8090);  // outside the range: a row for 127.0.0.1
  const int client_ports = static_cast<int>(distinct_ports(clients));

  const Predictions predicted = predict();
  // Without the listener the estimate cannot tell the children are
  // V6ONLY: they follow bindv6only (0).
  check_bind_free(lab(), predicted, Proto::tcp, "0.0.0.0", kRange - client_ports,
                  {-1, "V6ONLY of children whose listener closed (rules 7, 9)"});
  check_bind_free(lab(), predicted, Proto::tcp, "127.0.0.1", kRange);
  check_bind_free(lab(), predicted, Proto::tcp, "::", kRange - client_ports - 1);
  check_bind_free(lab(), predicted, Proto::tcp, "::1", kRange - client_ports - 1);
  // 40006 stays in bind() state: connect() skips it (rule 9).
  check_new_destination(lab(), predicted, "::1", "::1", 8080, kRange - 1,
                        {1, "children outlive their listener (rule 9)"});
}

// UDP: a dual-stack AF_INET6 socket connected to a v4-mapped destination
// reports a v4-mapped source (IPv4 to the allocator). One connected to ::1
// first keeps the source ::1 when it connects again to ::ffff:127.0.0.1;
// for IPv4 it holds the kernel's loopback substitute 127.0.0.6
// (LOOPBACK4_IPV6), not 127.0.0.1.
TEST_F(V6OnlyLabTest, UdpLoopbackSubstitute) {
  lab().set_range(40000, 40000 + kRange - 1);
  std::vector<uint16_t> mapped;
  std::vector<uint16_t> v6_then_mapped;
  std::vector<uint16_t> v6;
  for (int i = 0; i < 3; ++i) {
    mapped.push_back(lab().udp_connect("::ffff:127.0.0.1", 5353));
  }
  for (int i = 0; i < 2; ++i) {
    v6_then_mapped.push_back(lab().udp_connect("::ffff:127.0.0.1", 5353, "::1"));
    v6.push_back(lab().udp_connect("::1", 5353));
  }
  // A socket on 127.0.0.6 outside the range gives ephport a row for it.
  lab().bound_only(Proto::udp, "127.0.0.6", 5000);
  lab().listen("127.0.0.6", 8090);
  const int all = static_cast<int>(distinct_ports(mapped, v6_then_mapped, v6));

  const Predictions predicted = predict();
  for_each_bind_state_mode(predicted, [](const Json& snapshot) {
    EXPECT_EQ(snapshot.at("protocols").at("udp").at("sockets"), 8);
  });
  // Every dual-stack IPv6 socket connected from ::1, whatever it connected
  // to last, holds 127.0.0.6 for IPv4 (UDP only: TCP's bind() does not
  // conflict there).
  check_bind_free(lab(), predicted, Proto::udp, "127.0.0.6",
                  kRange - static_cast<int>(distinct_ports(v6_then_mapped, v6)));
  check_bind_free(lab(), predicted, Proto::tcp, "127.0.0.6", kRange);
  check_bind_free(lab(), predicted, Proto::udp, "0.0.0.0", kRange - all);
  check_bind_free(lab(), predicted, Proto::udp, "127.0.0.1",
                  kRange - static_cast<int>(distinct_ports(mapped)));
  check_bind_free(lab(), predicted, Proto::udp, "::", kRange - all);
  check_bind_free(lab(), predicted, Proto::udp, "::1",
                  kRange - static_cast<int>(distinct_ports(v6_then_mapped, v6)));
  check_udp_autobinds(lab(), predicted, "127.0.0.1", 5353, kRange - all);
}

// A capture keeps the V6ONLY the BPF walk read (`v6only` of each record), so
// `analyze` of it gives the snapshot's figures: a capture is read without BPF,
// and would otherwise guess.
TEST_F(V6OnlyLabTest, CaptureKeepsTheWalkedV6Only) {
  lab().set_range(40000, 40000 + kRange - 1);
  lab().listen("::1", 8080);
  lab().listen("127.0.0.1", 8090);
  const auto v6only = lab().connect("", "::1", 8080, 3, v6only_client(1));
  const auto v6only_tw = lab().time_wait("", "::1", 8080, 2, v6only_client(1));
  const auto dual_stack = lab().connect("", "::1", 8080, 2, v6only_client(0));
  for (int i = 0; i < 2; ++i) {
    lab().udp_connect("::1", 5353);
  }
  TempDir dir;
  const std::string capture = dir.path() + "/capture.jsonl";
  const Json live = snapshot_json({"--bind-state", "bpf", "--save", capture});
  const RunResult analyzed = run_ephport({"analyze", capture, "--format", "json", "--top", "1000"});
  ASSERT_EQ(analyzed.exit_code, 0) << analyzed.err;
  const Json replayed = Json::parse(analyzed.out);
  EXPECT_NE(read_file(capture).find("\"v6only\":1"), std::string::npos);
  for (const char* proto : {"tcp", "udp"}) {
    for (const char* address : {"0.0.0.0", "::", "::1", "127.0.0.1"}) {
      SCOPED_TRACE(std::string(proto) + " " + address);
      const auto before = find_address(live, proto, address);
      const auto after = find_address(replayed, proto, address);
      ASSERT_EQ(before.has_value(), after.has_value());
      if (!before) {
        continue;  // UDP has no socket on 127.0.0.1
      }
      for (const char* field : {"bind_free", "bind_free_min", "bind_free_max"}) {
        EXPECT_EQ(after->at(field), before->at(field)) << field;
      }
    }
  }
  const auto any4 = find_address(replayed, "tcp", "0.0.0.0");
  ASSERT_TRUE(any4);
  EXPECT_EQ(any4->at("bind_free"), kRange - static_cast<int>(distinct_ports(dual_stack)));
  EXPECT_EQ(any4->at("bind_free_min"), any4->at("bind_free_max"));
  lab_note("tcp bind_free 0.0.0.0 | snapshot " + row_text(live) + " | analyze " +
           row_text(replayed) + " | V6ONLY ports " +
           std::to_string(distinct_ports(v6only, v6only_tw)));
}

}  // namespace
}  // namespace ephport::lab
