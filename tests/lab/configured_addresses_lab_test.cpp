// Every address configured in the namespace gets a JSON row with its
// bind_free, even with no socket of its own: addresses added to lo and to a
// veth, against the kernel's own bind(address:0) count. IPv6 link-local
// addresses get none (docs/output.md, "Configured addresses").

#include <string>

#include "lab_support.h"
#include "netns_holder.h"

namespace ephport::lab {
namespace {

class ConfiguredAddressesLabTest : public LabTest {};

TEST_F(ConfiguredAddressesLabTest, EveryConfiguredAddressHasARowWithTheKernelsBindFree) {
  lab().set_range(40000, 40019);  // N = 20
  run_command("ip address add 10.7.0.5/24 dev lo");
  run_command("ip address add fd00::5/64 dev lo nodad");
  lab().add_blackhole("cfg0", "10.9.0.1/24", "10.9.0.2");
  run_command("ip address add 2001:db8::1/64 dev cfg0 nodad");
  run_command("ip address add fe80::1234/64 dev cfg0 nodad");
  // In the range: a listener on 0.0.0.0 (every IPv4 address must avoid its
  // port) and a dual-stack one on :: (every address, both families).
  lab().listen("0.0.0.0", 40005);
  lab().listen("::", 40006);
  const Predictions predicted = predict({"--no-owners"});

  for_each_bind_state_mode(predicted, [](const Json& snapshot) {
    for (const char* proto : {"tcp", "udp"}) {
      for (const char* address : {"10.7.0.5", "fd00::5", "10.9.0.1", "2001:db8::1", "127.0.0.1"}) {
        SCOPED_TRACE(std::string(proto) + " " + address);
        const auto row = find_address(snapshot, proto, address);
        ASSERT_TRUE(row) << "no row for a configured address";
        EXPECT_EQ(row->at("configured"), true) << row->dump();
      }
      EXPECT_FALSE(find_address(snapshot, proto, "fe80::1234")) << "link-local got a row";
    }
  });
  // The kernel's count: TCP IPv4 loses both listeners' ports, IPv6 the
  // dual-stack one's; UDP has no socket at all.
  check_bind_free(lab(), predicted, Proto::tcp, "10.7.0.5", 18);
  check_bind_free(lab(), predicted, Proto::tcp, "10.9.0.1", 18);
  check_bind_free(lab(), predicted, Proto::tcp, "fd00::5", 19);
  check_bind_free(lab(), predicted, Proto::tcp, "2001:db8::1", 19);
  check_bind_free(lab(), predicted, Proto::udp, "10.7.0.5", 20);
  check_bind_free(lab(), predicted, Proto::udp, "2001:db8::1", 20);
}

TEST_F(ConfiguredAddressesLabTest, TheTableListsThemOnlyWithAllAddresses) {
  lab().set_range(40000, 40019);
  run_command("ip address add 10.7.0.5/24 dev lo");
  const RunResult plain = run_ephport({"snapshot", "--no-owners", "--bind-state", "estimate"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("10.7.0.5"), std::string::npos) << plain.out;
  const RunResult all =
      run_ephport({"snapshot", "--no-owners", "--bind-state", "estimate", "--all-addresses"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("10.7.0.5"), std::string::npos) << all.out;
  const RunResult csv = run_ephport({"snapshot", "--no-owners", "--bind-state", "estimate",
                                     "--all-addresses", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find(",10.7.0.5,"), std::string::npos) << csv.out;
}

}  // namespace
}  // namespace ephport::lab
