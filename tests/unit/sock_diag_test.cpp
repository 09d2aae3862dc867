// replay_sock_diag() on the recorded dump, and what it refuses.

#include "collect/linux/sock_diag.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>

#include <cerrno>
#include <vector>

#include "collect_fixtures.h"

namespace ephport {
namespace {

std::vector<uint8_t> recording() {
  return testing::read_binary(testing::fixture_path("sock_diag/dump.bin"));
}

std::vector<SocketRecord> replay(const std::vector<uint8_t>& bytes) {
  std::vector<SocketRecord> records;
  replay_sock_diag(bytes, [&](const SocketRecord& record) { records.push_back(record); });
  return records;
}

TEST(SockDiag, ReplayDeliversEveryRecordedSocket) {
  std::vector<SocketRecord> records = replay(recording());
  ASSERT_EQ(records.size(), 27u);
  size_t udp = 0;
  for (const SocketRecord& record : records) {
    udp += record.protocol == Protocol::udp ? 1 : 0;
  }
  EXPECT_EQ(udp, 5u);  // the protocol comes from each dump's request
}

// The collector.h contract, on what the kernel really sent for our requests.
TEST(SockDiag, RecordedDumpKeepsListenAndBoundOnlyFirst) {
  bool other_tcp_seen = false;
  size_t bound = 0;
  for (const SocketRecord& record : replay(recording())) {
    if (record.protocol != Protocol::tcp) {
      continue;
    }
    if (record.state == SockState::listen || record.is_bound_only()) {
      EXPECT_FALSE(other_tcp_seen) << testing::describe(record);
      ++bound;
    } else {
      other_tcp_seen = true;
    }
  }
  EXPECT_EQ(bound, 8u);  // 4 listeners, 4 bound-only
  EXPECT_TRUE(other_tcp_seen);
}

TEST(SockDiag, ReplayRefusesARecordingCutShort) {
  std::vector<uint8_t> bytes = recording();
  bytes.resize(bytes.size() - 10);
  EXPECT_THROW(replay(bytes), InputError);
}

TEST(SockDiag, ReplayRefusesAReplyBeforeAnyRequest) {
  std::vector<uint8_t> bytes = recording();
  const auto* request = reinterpret_cast<const nlmsghdr*>(bytes.data());
  bytes.erase(bytes.begin(), bytes.begin() + request->nlmsg_len);
  EXPECT_EQ(testing::error_text<InputError>([&] { replay(bytes); }),
            "sock_diag recording: a reply comes before any request");
}

TEST(SockDiag, ReplayRefusesAMalformedReply) {
  std::vector<uint8_t> bytes = recording();
  const auto* request = reinterpret_cast<const nlmsghdr*>(bytes.data());
  auto* reply = reinterpret_cast<nlmsghdr*>(bytes.data() + request->nlmsg_len);
  // Make the reply's first attribute claim more room than the message has.
  auto* attribute =
      reinterpret_cast<nlattr*>(reinterpret_cast<uint8_t*>(reply) + MNL_NLMSG_HDRLEN + 72);
  attribute->nla_len = 0xfff0;
  EXPECT_THROW(replay(bytes), InputError);
}

TEST(SockDiag, ReplayOfNothingIsNothing) {
  EXPECT_TRUE(replay({}).empty());
}

TEST(SockDiag, UnavailableErrorsAreTheOnesWorthAFallback) {
  for (int error : {EPROTONOSUPPORT, EAFNOSUPPORT, ENOENT, EACCES, EPERM, EOPNOTSUPP}) {
    EXPECT_TRUE(sock_diag_unavailable(error)) << error;
  }
  for (int error : {0, ENOBUFS, ENOMEM, EINTR, EBADMSG, EINVAL}) {
    EXPECT_FALSE(sock_diag_unavailable(error)) << error;
  }
}

}  // namespace
}  // namespace ephport
