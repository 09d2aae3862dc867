// raw_dump: the yardstick of docs/performance.md. One NETLINK_SOCK_DIAG dump
// of every TCP socket of the current network namespace, counting the
// messages and doing nothing else: no decoding, no allocation per socket,
// a plain recv() loop into one big buffer.
//
//   raw_dump [--states all|1-12] [--walk family|unspec|unspec-v2] [--udp]
//            [--check-order]
//
//   --states all   idiag_states = 0xffffffff, bit 13 (bound-only sockets,
//                  Linux 6.8+) included: what ephport has to read (default)
//   --states 1-12  the classic states only (no walk of the bind table)
//   --walk family  SOCK_DIAG_BY_FAMILY, AF_INET then AF_INET6 (default)
//   --walk unspec  one walk for both families: the legacy TCPDIAG_GETSOCK
//                  request (struct inet_diag_req), which the kernel turns
//                  into an AF_UNSPEC dump
//   --walk unspec-v2  SOCK_DIAG_BY_FAMILY with AF_UNSPEC (shows whether the
//                  kernel accepts it; it has no handler for family 0)
//   --check-order  also check the collector ordering contract (collector.h):
//                  count TCP LISTEN and bound-only (CLOSE) sockets that arrive
//                  after any other TCP socket; prints "out_of_order N" too
//   --udp          also dump UDP (AF_INET then AF_INET6 whatever the walk:
//                  the legacy request exists for TCP only), as ephport does
//
// Prints "messages N", where N is the number of socket messages (and the
// --check-order line); exits 1 with a message on stderr if a dump fails.

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

constexpr size_t kBufferSize = 1 << 20;  // a dump datagram is at most 32 KiB
constexpr int kSocketBuffer = 8 << 20;
// Bounds the receive loop: far more datagrams than any dump produces
// (a datagram holds at least one socket).
constexpr uint64_t kMaxDatagrams = uint64_t{1} << 32;

enum class Walk { family, unspec, unspec_v2 };

struct Options {
  uint32_t states = 0xffffffffu;
  Walk walk = Walk::family;
  bool udp = false;
  bool check_order = false;
};

// --check-order: whether a TCP socket other than LISTEN/bound-only was seen,
// and how many LISTEN/bound-only ones came after it.
struct OrderCheck {
  bool other_seen = false;
  uint64_t out_of_order = 0;

  void see(const nlmsghdr* message) {
    if (message->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
      return;
    }
    const auto* diag = static_cast<const inet_diag_msg*>(NLMSG_DATA(message));
    const bool bound = diag->idiag_state == 10 /* LISTEN */ || diag->idiag_state == 7 /* CLOSE */;
    if (!bound) {
      other_seen = true;
    } else if (other_seen) {
      ++out_of_order;
    }
  }
};

alignas(nlmsghdr) unsigned char buffer[kBufferSize];

int usage() {
  std::fprintf(stderr,
               "usage: raw_dump [--states all|1-12] [--walk family|unspec|unspec-v2] "
               "[--udp] [--check-order]\n");
  return 2;
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value = i + 1 < argc ? std::string_view(argv[i + 1]) : std::string_view();
    if (arg == "--udp") {
      options.udp = true;
    } else if (arg == "--check-order") {
      options.check_order = true;
    } else if (arg == "--states" && (value == "all" || value == "1-12")) {
      options.states = value == "all" ? 0xffffffffu : 0x1ffeu;
      ++i;
    } else if (arg == "--walk" &&
               (value == "family" || value == "unspec" || value == "unspec-v2")) {
      options.walk = value == "family"   ? Walk::family
                     : value == "unspec" ? Walk::unspec
                                         : Walk::unspec_v2;
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

// Sends one dump request; the message type decides the request layout.
bool send_request(int fd, uint16_t type, uint8_t family, uint8_t protocol, uint32_t states,
                  uint32_t sequence) {
  struct {
    nlmsghdr header;
    union {
      inet_diag_req_v2 v2;
      inet_diag_req legacy;
    } body;
  } request{};
  const bool legacy = type != SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_len =
      NLMSG_LENGTH(legacy ? sizeof(request.body.legacy) : sizeof(request.body.v2));
  request.header.nlmsg_type = type;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = sequence;
  if (legacy) {
    request.body.legacy.idiag_family = family;
    request.body.legacy.idiag_states = states;
  } else {
    request.body.v2.sdiag_family = family;
    request.body.v2.sdiag_protocol = protocol;
    request.body.v2.idiag_states = states;
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  return sendto(fd, &request, request.header.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                sizeof kernel) >= 0;
}

// Receives one dump to its NLMSG_DONE; adds the socket messages to `count`.
// Returns 0 or the errno of a failed dump.
int receive_dump(int fd, uint32_t sequence, uint64_t& count, OrderCheck* order) {
  for (uint64_t datagram = 0; datagram < kMaxDatagrams; ++datagram) {
    ssize_t received = recv(fd, buffer, sizeof buffer, 0);
    if (received < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    int remaining = static_cast<int>(received);
    for (auto* message = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(message, remaining);
         message = NLMSG_NEXT(message, remaining)) {
      if (message->nlmsg_seq != sequence) {
        continue;
      }
      if (message->nlmsg_type == NLMSG_DONE) {
        return 0;
      }
      if (message->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(message));
        return error->error == 0 ? 0 : -error->error;
      }
      ++count;
      if (order != nullptr) {
        order->see(message);
      }
    }
  }
  return EOVERFLOW;
}

struct Dump {
  uint16_t type;
  uint8_t family;
  uint8_t protocol;
  const char* name;
  uint32_t states;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    return usage();
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    std::fprintf(stderr, "raw_dump: netlink socket: %s\n", std::strerror(errno));
    return 1;
  }
  // Root may exceed net.core.rmem_max; a big queue lets the kernel fill more
  // datagrams per wake-up. Best effort either way.
  int size = kSocketBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }

  Dump dumps[4];
  size_t dump_count = 0;
  const uint32_t states = options.states;
  const int protocols = options.udp ? 2 : 1;
  for (int p = 0; p < protocols; ++p) {
    const uint8_t protocol = p == 0 ? IPPROTO_TCP : IPPROTO_UDP;
    const char* name = p == 0 ? "tcp" : "udp";
    if (options.walk == Walk::unspec && p == 0) {
      dumps[dump_count++] = {TCPDIAG_GETSOCK, AF_UNSPEC, protocol, name, states};
    } else if (options.walk == Walk::unspec_v2) {
      dumps[dump_count++] = {SOCK_DIAG_BY_FAMILY, AF_UNSPEC, protocol, name, states};
    } else {  // per family; also UDP with --walk unspec: no legacy request for UDP
      dumps[dump_count++] = {SOCK_DIAG_BY_FAMILY, AF_INET, protocol, name, states};
      dumps[dump_count++] = {SOCK_DIAG_BY_FAMILY, AF_INET6, protocol, name, states};
    }
  }

  uint64_t count = 0;
  OrderCheck order;
  for (size_t i = 0; i < dump_count; ++i) {
    const Dump& dump = dumps[i];
    const uint32_t sequence = static_cast<uint32_t>(i + 1);
    int error = 0;
    if (!send_request(fd, dump.type, dump.family, dump.protocol, dump.states, sequence)) {
      error = errno;
    } else {
      error = receive_dump(fd, sequence, count,
                           options.check_order && dump.protocol == IPPROTO_TCP ? &order : nullptr);
    }
    if (error != 0) {
      std::fprintf(stderr, "raw_dump: %s dump (type %u, family %u) failed: %s\n", dump.name,
                   dump.type, dump.family, std::strerror(error));
      close(fd);
      return 1;
    }
  }
  close(fd);
  std::printf("messages %llu\n", static_cast<unsigned long long>(count));
  if (options.check_order) {
    std::printf("out_of_order %llu\n", static_cast<unsigned long long>(order.out_of_order));
  }
  return 0;
}
