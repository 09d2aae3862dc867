// parse_inet_diag_msg() on real replies (tests/fixtures/sock_diag/dump.bin)
// and on damaged copies of them.

#include "collect/linux/inet_diag_parse.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

#include "collect_fixtures.h"

namespace ephport {
namespace {

using testing::describe;

struct Reply {
  Protocol protocol;
  std::vector<uint8_t> bytes;  // exactly one message, nlmsg_len bytes

  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(bytes.data()); }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(bytes.data()); }
  // The attribute area, after struct inet_diag_msg.
  uint8_t* attributes() { return bytes.data() + MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg); }
  inet_diag_msg* diag() { return static_cast<inet_diag_msg*>(mnl_nlmsg_get_payload(header())); }
};

// The reply messages of the fixture, each copied into its own buffer of its
// exact size (so AddressSanitizer sees any read past it).
std::vector<Reply> fixture_replies() {
  std::vector<uint8_t> recording =
      testing::read_binary(testing::fixture_path("sock_diag/dump.bin"));
  std::vector<Reply> replies;
  Protocol protocol = Protocol::tcp;
  const auto* message = reinterpret_cast<const nlmsghdr*>(recording.data());
  int remaining = static_cast<int>(recording.size());
  for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
    if (message->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
      continue;
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(message);
    if ((message->nlmsg_flags & NLM_F_REQUEST) != 0) {
      const auto* request = static_cast<const inet_diag_req_v2*>(mnl_nlmsg_get_payload(message));
      protocol = request->sdiag_protocol == IPPROTO_UDP ? Protocol::udp : Protocol::tcp;
      continue;
    }
    replies.push_back({protocol, std::vector<uint8_t>(bytes, bytes + message->nlmsg_len)});
  }
  return replies;
}

// The first reply whose description starts with `prefix`.
Reply find_reply(const std::string& prefix) {
  for (const Reply& reply : fixture_replies()) {
    auto record = parse_inet_diag_msg(reply.header(), reply.protocol);
    if (record && describe(*record).rfind(prefix, 0) == 0) {
      return reply;
    }
  }
  ADD_FAILURE() << "no fixture reply " << prefix;
  return {};
}

// Offset of the attribute of `type` in `reply`, from the message start.
size_t attribute_offset(Reply& reply, uint16_t type) {
  size_t offset = MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg);
  while (offset + sizeof(nlattr) <= reply.bytes.size()) {
    auto* attribute = reinterpret_cast<nlattr*>(reply.bytes.data() + offset);
    if (attribute->nla_type == type) {
      return offset;
    }
    offset += MNL_ALIGN(attribute->nla_len);
  }
  ADD_FAILURE() << "no attribute " << type;
  return 0;
}

TEST(InetDiagParse, DecodesEveryFixtureReply) {
  std::vector<std::string> seen;
  for (const Reply& reply : fixture_replies()) {
    auto record = parse_inet_diag_msg(reply.header(), reply.protocol);
    ASSERT_TRUE(record) << "reply " << seen.size();
    seen.push_back(describe(*record));
  }
  // The same sockets as ss-tanoe.txt / ss-uanoe.txt, plus the bound-only ones.
  const std::vector<std::string> expected = {
      "tcp LISTEN 127.0.0.1:5000 0.0.0.0:0 ino=16944",
      "tcp LISTEN 0.0.0.0:5001 0.0.0.0:0 if=1 ino=16947",
      "tcp CLOSE 127.0.0.1:8000 0.0.0.0:0 ino=16964",
      "tcp CLOSE 0.0.0.0:40013 0.0.0.0:0 ino=16967",
      "tcp6 LISTEN :::6000 :::0 ino=16945 v6only=1",
      "tcp6 LISTEN :::7000 :::0 ino=16946 v6only=0",
      "tcp6 CLOSE :::8002 :::0 ino=16966 v6only=0",
      "tcp6 CLOSE :::8001 :::0 ino=16965 v6only=1",
      "tcp ESTABLISHED 127.0.0.1:5000 127.0.0.1:40096 ino=16957",
      "tcp FIN_WAIT2 127.0.0.1:40026 127.0.0.1:5000 ino=0 timer=3:29800ms",
      "tcp ESTABLISHED 127.0.0.1:40080 127.0.0.1:5000 ino=16948 timer=2:599696ms",
      "tcp TIME_WAIT 127.0.0.1:40098 127.0.0.1:5000 ino=0 timer=3:59744ms",
      "tcp ESTABLISHED 127.0.0.1:5000 127.0.0.2:40024 ino=16951",
      "tcp ESTABLISHED 127.0.0.2:40024 127.0.0.1:5000 ino=16950 no_port",
      "tcp ESTABLISHED 127.0.0.1:5000 127.0.0.1:40080 ino=16949",
      "tcp CLOSE_WAIT 127.0.0.1:5000 127.0.0.1:40026 ino=16963",
      "tcp ESTABLISHED 127.0.0.1:40062 127.0.0.1:7000 ino=16954",
      "tcp6 ESTABLISHED ::1:6000 ::1:40024 ino=16953",
      "tcp6 ESTABLISHED ::1:40024 ::1:6000 ino=16952",
      "tcp6 ESTABLISHED 127.0.0.1:7000 127.0.0.1:40062 ino=16955",
      "tcp6 TIME_WAIT 127.0.0.1:40014 127.0.0.1:5000 ino=0 timer=3:59796ms",
      "tcp6 ESTABLISHED 127.0.0.1:40096 127.0.0.1:5000 ino=16956",
      "udp CLOSE 0.0.0.0:5353 0.0.0.0:0 ino=16968",
      "udp ESTABLISHED 127.0.0.1:40055 127.0.0.1:5353 ino=16969",
      "udp6 CLOSE :::5354 :::0 ino=16970 v6only=1",
      "udp6 CLOSE :::5355 :::0 ino=16971 v6only=0",
      "udp6 ESTABLISHED 127.0.0.1:40030 127.0.0.1:5353 ino=16972",
  };
  EXPECT_EQ(seen, expected);
}

TEST(InetDiagParse, V4MappedSocketKeepsFamilySixWithIpv4Addresses) {
  Reply reply = find_reply("tcp6 ESTABLISHED 127.0.0.1:7000");
  auto record = parse_inet_diag_msg(reply.header(), reply.protocol);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->family, Address::Family::v6);
  EXPECT_TRUE(record->local.is_v4());
  EXPECT_TRUE(record->remote.is_v4());
  EXPECT_EQ(record->local, *Address::parse("127.0.0.1"));
  EXPECT_EQ(record->v6only, -1);  // reported for LISTEN and CLOSE only
}

TEST(InetDiagParse, BoundOnlySocketComesBackAsClose) {
  Reply reply = find_reply("tcp6 CLOSE :::8001");
  auto record = parse_inet_diag_msg(reply.header(), reply.protocol);
  ASSERT_TRUE(record);
  EXPECT_TRUE(record->is_bound_only());
  EXPECT_TRUE(record->local.is_wildcard());
  EXPECT_EQ(record->v6only, 1);
}

TEST(InetDiagParse, RejectsMessagesTooShortForInetDiagMsg) {
  Reply reply = find_reply("tcp LISTEN 127.0.0.1:5000");
  reply.header()->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg) - 4;
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));
  reply.header()->nlmsg_len = MNL_NLMSG_HDRLEN;
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));
}

TEST(InetDiagParse, RejectsAMessageCutInsideAnAttribute) {
  Reply reply = find_reply("tcp LISTEN 127.0.0.1:5000");
  reply.header()->nlmsg_len -= 4;  // the last attribute (SOCKOPT) no longer fits
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));
}

TEST(InetDiagParse, RejectsAnUnpaddedLength) {
  Reply reply = find_reply("tcp LISTEN 127.0.0.1:5000");
  reply.header()->nlmsg_len -= 1;
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));
}

TEST(InetDiagParse, RejectsAttributeLengthsThatDoNotFit) {
  for (uint16_t bad_length : {0, 2, 3, 200, 0xffff}) {
    Reply reply = find_reply("tcp6 LISTEN :::6000");
    auto* attribute = reinterpret_cast<nlattr*>(reply.attributes());
    attribute->nla_len = bad_length;
    EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol)) << bad_length;
  }
}

TEST(InetDiagParse, RejectsATooShortSockoptPayload) {
  Reply reply = find_reply("tcp LISTEN 127.0.0.1:5000");
  auto* attribute =
      reinterpret_cast<nlattr*>(reply.bytes.data() + attribute_offset(reply, INET_DIAG_SOCKOPT));
  attribute->nla_len = sizeof(nlattr) + 1;  // still padded to the same 8 bytes
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));
}

TEST(InetDiagParse, RejectsAnEmptySkv6onlyPayload) {
  Reply reply = find_reply("tcp6 LISTEN :::6000");
  size_t offset = attribute_offset(reply, INET_DIAG_SKV6ONLY);
  // Turn the 8-byte SKV6ONLY slot into an empty SKV6ONLY plus an empty
  // attribute of an unknown type: both well-formed, the first too short.
  auto* attribute = reinterpret_cast<nlattr*>(reply.bytes.data() + offset);
  attribute->nla_len = sizeof(nlattr);
  auto* filler = reinterpret_cast<nlattr*>(reply.bytes.data() + offset + sizeof(nlattr));
  filler->nla_len = sizeof(nlattr);
  filler->nla_type = 1000;
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));
}

TEST(InetDiagParse, IgnoresUnknownAttributes) {
  Reply reply = find_reply("tcp6 LISTEN :::6000");
  reinterpret_cast<nlattr*>(reply.bytes.data() + attribute_offset(reply, INET_DIAG_SKV6ONLY))
      ->nla_type = 1000;
  auto record = parse_inet_diag_msg(reply.header(), reply.protocol);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->v6only, -1);
  EXPECT_EQ(record->local_port, 6000);
}

TEST(InetDiagParse, AcceptsAMessageWithoutAttributes) {
  Reply reply = find_reply("tcp TIME_WAIT");
  reply.header()->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg);
  auto record = parse_inet_diag_msg(reply.header(), reply.protocol);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, SockState::time_wait);
  EXPECT_EQ(record->timer, 3);
}

TEST(InetDiagParse, RejectsOtherFamiliesAndTypes) {
  Reply reply = find_reply("tcp LISTEN 127.0.0.1:5000");
  reply.diag()->idiag_family = AF_UNIX;
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));

  reply = find_reply("tcp LISTEN 127.0.0.1:5000");
  reply.header()->nlmsg_type = NLMSG_DONE;
  EXPECT_FALSE(parse_inet_diag_msg(reply.header(), reply.protocol));
  EXPECT_FALSE(parse_inet_diag_msg(nullptr, Protocol::tcp));
}

TEST(InetDiagParse, UnknownKernelStateBecomesUnknown) {
  Reply reply = find_reply("tcp LISTEN 127.0.0.1:5000");
  reply.diag()->idiag_state = 42;
  auto record = parse_inet_diag_msg(reply.header(), reply.protocol);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, SockState::unknown);
}

// Every truncation and every single-byte corruption of every fixture reply,
// each in a buffer of exactly nlmsg_len bytes: the parser must stay inside it
// (run with -DEPHPORT_SANITIZE=ON to have AddressSanitizer check).
TEST(InetDiagParse, NeverReadsPastTheMessage) {
  for (const Reply& original : fixture_replies()) {
    for (size_t length = MNL_NLMSG_HDRLEN; length <= original.bytes.size(); ++length) {
      std::vector<uint8_t> cut(original.bytes.begin(), original.bytes.begin() + length);
      reinterpret_cast<nlmsghdr*>(cut.data())->nlmsg_len = static_cast<uint32_t>(length);
      auto record =
          parse_inet_diag_msg(reinterpret_cast<const nlmsghdr*>(cut.data()), original.protocol);
      if (length < original.bytes.size()) {
        // Shorter copies parse only when they end exactly between attributes.
        if (record) {
          EXPECT_EQ(length % 4, 0u);
        }
      }
    }
    for (size_t position = MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg);
         position < original.bytes.size(); ++position) {
      for (uint8_t value : {0x00, 0x01, 0x7f, 0xff}) {
        std::vector<uint8_t> damaged = original.bytes;
        damaged[position] = value;
        parse_inet_diag_msg(reinterpret_cast<const nlmsghdr*>(damaged.data()), original.protocol);
      }
    }
  }
}

}  // namespace
}  // namespace ephport
