// The rtnetlink address dump: a real recorded RTM_GETADDR reply
// (tests/fixtures/rtnetlink/) decoded to the addresses that get a row, and
// the messages that must be refused.

#include "collect/linux/local_addresses.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "collect_fixtures.h"
#include "util/error.h"

namespace ephport {
namespace {

std::vector<uint8_t> fixture(const std::string& name) {
  std::ifstream in(testing::fixture_path("rtnetlink/" + name), std::ios::binary);
  EXPECT_TRUE(in) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> texts(const std::vector<Address>& addresses) {
  std::vector<std::string> out;
  for (const Address& address : addresses) {
    out.push_back(address.str());
  }
  return out;
}

TEST(LocalAddresses, RecordedDumpGivesTheBindableAddressesOnce) {
  // README.md lists them: loopback kept, 10.7.0.5 on two interfaces once,
  // the point-to-point address's own side, not the tentative or link-local.
  EXPECT_EQ(texts(local_addresses_from_dump(fixture("getaddr.bin"))),
            (std::vector<std::string>{"10.7.0.5", "10.9.0.1", "127.0.0.1", "192.0.2.1", "::1",
                                      "2001:db8::1", "fd00::5"}));
}

TEST(LocalAddresses, EachRecordedMessageParses) {
  const std::vector<uint8_t> bytes = fixture("getaddr.bin");
  const auto* message = reinterpret_cast<const nlmsghdr*>(bytes.data());
  int remaining = static_cast<int>(bytes.size());
  int parsed = 0;
  int tentative = 0;
  int link_scope = 0;
  for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
    if (message->nlmsg_type == NLMSG_DONE) {
      break;
    }
    std::optional<InterfaceAddress> address = parse_address_message(message);
    ASSERT_TRUE(address);
    ++parsed;
    tentative += (address->flags & IFA_F_TENTATIVE) != 0 ? 1 : 0;
    link_scope += address->scope == RT_SCOPE_LINK ? 1 : 0;
    if (address->address.str() == "10.9.0.1") {
      EXPECT_EQ(address->prefix_length, 32);  // IFA_LOCAL, not the peer 10.9.0.2
    }
  }
  EXPECT_EQ(parsed, 10);  // ip-addr.txt: 10 inet/inet6 lines
  EXPECT_EQ(tentative, 1);
  EXPECT_EQ(link_scope, 1);
}

TEST(LocalAddresses, CutOrForeignBytesAreRefused) {
  std::vector<uint8_t> bytes = fixture("getaddr.bin");
  ASSERT_GT(bytes.size(), 30u) << "the fixture is missing";
  std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + 30);
  EXPECT_THROW(local_addresses_from_dump(cut), InputError);
  // A message of another type (RTM_NEWLINK) where addresses are expected.
  std::vector<uint8_t> other = bytes;
  reinterpret_cast<nlmsghdr*>(other.data())->nlmsg_type = RTM_NEWLINK;
  EXPECT_THROW(local_addresses_from_dump(other), InputError);
  // An IPv6 address attribute of 3 bytes.
  std::vector<uint8_t> wrong = bytes;
  auto* message = reinterpret_cast<nlmsghdr*>(wrong.data());
  int remaining = static_cast<int>(wrong.size());
  while (static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message))->ifa_family != AF_INET6) {
    message = const_cast<nlmsghdr*>(mnl_nlmsg_next(message, &remaining));
    ASSERT_TRUE(mnl_nlmsg_ok(message, remaining));
  }
  auto* attribute = static_cast<nlattr*>(mnl_nlmsg_get_payload_offset(message, sizeof(ifaddrmsg)));
  ASSERT_EQ(mnl_attr_get_type(attribute), IFA_ADDRESS);
  attribute->nla_len = MNL_ATTR_HDRLEN + 3;
  EXPECT_FALSE(parse_address_message(message));
}

TEST(LocalAddresses, LiveDumpHasLoopback) {
  // The test's own namespace: whatever else it has, lo's 127.0.0.1.
  const std::vector<Address> addresses = read_local_addresses();
  EXPECT_TRUE(std::binary_search(addresses.begin(), addresses.end(), *Address::parse("127.0.0.1")))
      << texts(addresses).size();
}

}  // namespace
}  // namespace ephport
