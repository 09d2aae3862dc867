// Address values: parsing, v4-mapped normalisation, wildcard and loopback.

#include "snapshot/address.h"

#include <gtest/gtest.h>

namespace ephport {
namespace {

TEST(Address, ParsesBothFamiliesAndBrackets) {
  EXPECT_EQ(Address::parse("127.0.0.1")->str(), "127.0.0.1");
  EXPECT_TRUE(Address::parse("127.0.0.1")->is_v4());
  EXPECT_EQ(Address::parse("[2001:db8::1]")->str(), "2001:db8::1");
  EXPECT_TRUE(Address::parse("::1")->is_v6());
  EXPECT_FALSE(Address::parse("300.1.1.1"));
  EXPECT_FALSE(Address::parse("localhost"));
  EXPECT_FALSE(Address::parse(""));
}

TEST(Address, V4MappedBecomesIpv4) {
  std::optional<Address> mapped = Address::parse("::ffff:10.1.2.3");
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(mapped->is_v4());
  EXPECT_EQ(*mapped, *Address::parse("10.1.2.3"));
  EXPECT_EQ(Address::parse("::ffff:0.0.0.0"), Address::any_v4());
  // Not mapped: the IPv4-compatible and the NAT64 forms stay IPv6.
  EXPECT_TRUE(Address::parse("::10.1.2.3")->is_v6());
  EXPECT_TRUE(Address::parse("64:ff9b::10.1.2.3")->is_v6());
}

TEST(Address, WildcardsAndLoopback) {
  EXPECT_TRUE(Address::any_v4().is_wildcard());
  EXPECT_TRUE(Address::any_v6().is_wildcard());
  EXPECT_EQ(Address::any_v6().str(), "::");
  EXPECT_FALSE(Address().is_wildcard());  // no family: not an address at all
  EXPECT_TRUE(Address::parse("127.255.0.9")->is_loopback());
  EXPECT_TRUE(Address::parse("::1")->is_loopback());
  EXPECT_TRUE(Address::parse("::ffff:127.0.0.1")->is_loopback());
  EXPECT_FALSE(Address::parse("::2")->is_loopback());
}

TEST(Address, OrdersIpv4BeforeIpv6AndHashesByValue) {
  EXPECT_LT(*Address::parse("255.255.255.255"), *Address::parse("::"));
  EXPECT_LT(*Address::parse("127.0.0.1"), *Address::parse("127.0.0.2"));
  AddressHash hash;
  EXPECT_EQ(hash(*Address::parse("::ffff:1.2.3.4")), hash(*Address::parse("1.2.3.4")));
  EXPECT_NE(hash(Address::any_v4()), hash(Address::any_v6()));
}

}  // namespace
}  // namespace ephport
