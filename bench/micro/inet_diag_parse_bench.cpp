// Decoding sock_diag messages (src/collect/linux/inet_diag_parse.h), on the
// real Linux 6.18 replies of tests/fixtures/sock_diag/dump.bin.

#include <benchmark/benchmark.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "collect/linux/inet_diag_parse.h"

namespace {

struct Reply {
  const nlmsghdr* message;
  ephport::Protocol protocol;
};

// The fixture's bytes and the socket messages in it, each with the protocol
// of the request before it.
class Fixture {
 public:
  Fixture() {
    std::ifstream in(EPHPORT_SOCK_DIAG_FIXTURE, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty()) {
      throw std::runtime_error("cannot read " EPHPORT_SOCK_DIAG_FIXTURE);
    }
    // Whole nlmsghdr words, so every message is aligned as the kernel sends it.
    words_.resize((bytes.size() + sizeof(uint32_t) - 1) / sizeof(uint32_t));
    std::memcpy(words_.data(), bytes.data(), bytes.size());
    int remaining = static_cast<int>(bytes.size());
    ephport::Protocol protocol = ephport::Protocol::tcp;
    for (auto* message = reinterpret_cast<const nlmsghdr*>(words_.data());
         NLMSG_OK(message, remaining); message = NLMSG_NEXT(message, remaining)) {
      if (message->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
        continue;  // NLMSG_DONE
      }
      if ((message->nlmsg_flags & NLM_F_REQUEST) != 0) {
        const auto* request = static_cast<const inet_diag_req_v2*>(NLMSG_DATA(message));
        protocol = request->sdiag_protocol == IPPROTO_UDP ? ephport::Protocol::udp
                                                          : ephport::Protocol::tcp;
        continue;
      }
      replies_.push_back({message, protocol});
    }
  }

  const std::vector<Reply>& replies() const { return replies_; }

  // The first TCP reply of `family` in `state`.
  const nlmsghdr* find(uint8_t family, uint8_t state) const {
    for (const Reply& reply : replies_) {
      const auto* diag = static_cast<const inet_diag_msg*>(NLMSG_DATA(reply.message));
      if (reply.protocol == ephport::Protocol::tcp && diag->idiag_family == family &&
          diag->idiag_state == state) {
        return reply.message;
      }
    }
    throw std::runtime_error("fixture lacks the message asked for");
  }

 private:
  std::vector<uint32_t> words_;
  std::vector<Reply> replies_;
};

const Fixture& fixture() {
  static const Fixture instance;
  return instance;
}

void parse_one(benchmark::State& state, uint8_t family) {
  const nlmsghdr* message = fixture().find(family, 1 /* ESTABLISHED */);
  state.SetLabel(std::to_string(message->nlmsg_len) + " bytes");
  for (auto _ : state) {
    std::optional<ephport::SocketRecord> record =
        ephport::parse_inet_diag_msg(message, ephport::Protocol::tcp);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseInetDiagMsgV4(benchmark::State& state) {
  parse_one(state, AF_INET);
}
void BM_ParseInetDiagMsgV6(benchmark::State& state) {
  parse_one(state, AF_INET6);
}

// Every reply of the fixture (27 sockets of all kinds), in dump order.
void BM_ParseInetDiagFixture(benchmark::State& state) {
  const std::vector<Reply>& replies = fixture().replies();
  for (auto _ : state) {
    for (const Reply& reply : replies) {
      std::optional<ephport::SocketRecord> record =
          ephport::parse_inet_diag_msg(reply.message, reply.protocol);
      benchmark::DoNotOptimize(record);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(replies.size()));
}

}  // namespace

BENCHMARK(BM_ParseInetDiagMsgV4);
BENCHMARK(BM_ParseInetDiagMsgV6);
BENCHMARK(BM_ParseInetDiagFixture);
