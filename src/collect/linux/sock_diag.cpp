#include "collect/linux/sock_diag.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "collect/linux/inet_diag_parse.h"

namespace ephport {

namespace {

// Kernel TCP state bits (include/net/tcp_states.h); our uapi headers predate
// TCPF_BOUND_INACTIVE (Linux 6.8), older kernels ignore the bit.
constexpr uint32_t kListenBit = 1u << static_cast<int>(SockState::listen);
constexpr uint32_t kBoundInactiveBit = 1u << static_cast<int>(SockState::bound_inactive);
constexpr uint32_t kAllStates = 0xffffffffu;

// A dump datagram is at most 32 KiB (the kernel caps its dump skbs there).
constexpr size_t kReceiveBufferSize = size_t{64} * 1024;
constexpr int kSocketReceiveBuffer = 4 * 1024 * 1024;

struct DumpSpec {
  uint8_t family;  // AF_UNSPEC: both families in one walk (TCP only)
  Protocol protocol;
  uint32_t states;
};

std::string_view family_name(uint8_t family) {
  if (family == AF_UNSPEC) {
    return "IPv4 and IPv6";
  }
  return family == AF_INET6 ? "IPv6" : "IPv4";
}

uint8_t ip_protocol(Protocol protocol) {
  return protocol == Protocol::tcp ? IPPROTO_TCP : IPPROTO_UDP;
}

std::string dump_name(const DumpSpec& spec) {
  return fmt::format("{}, {}", protocol_name(spec.protocol), family_name(spec.family));
}

std::string error_text(int error_number, Protocol protocol) {
  std::string text = std::strerror(error_number);
  if (error_number == EINTR) {
    return "interrupted by a concurrent change (NLM_F_DUMP_INTR)";
  }
  if (error_number == ENOENT) {
    text += protocol == Protocol::tcp ? " (is the tcp_diag kernel module available?)"
                                      : " (is the udp_diag kernel module available?)";
  }
  return text;
}

struct MnlSocketCloser {
  void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
};

// What the per-message callback needs, and what it reports back: libmnl is
// C, so exceptions must not cross it; they are parked here and rethrown.
struct DumpContext {
  Protocol protocol;
  const SocketVisitor* visit;
  std::exception_ptr exception;
  bool malformed = false;
  bool delivered = false;  // at least one record reached the visitor
};

int on_message(const nlmsghdr* message, void* data) {
  auto* context = static_cast<DumpContext*>(data);
  std::optional<SocketRecord> record = parse_inet_diag_msg(message, context->protocol);
  if (!record) {
    context->malformed = true;
    return MNL_CB_ERROR;
  }
  try {
    context->delivered = true;
    (*context->visit)(*record);
  } catch (...) {
    context->exception = std::current_exception();
    return MNL_CB_ERROR;
  }
  return MNL_CB_OK;
}

class SockDiagSocket {
 public:
  explicit SockDiagSocket(const SockDiagRecorder& record)
      : record_(record), buffer_(kReceiveBufferSize) {
    socket_.reset(mnl_socket_open(NETLINK_SOCK_DIAG));
    if (!socket_) {
      throw_open_error("cannot open a netlink sock_diag socket");
    }
    if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
      throw_open_error("cannot bind the netlink sock_diag socket");
    }
    // Best effort: a dump is paced by our reads, a large buffer only helps.
    int size = kSocketReceiveBuffer;
    setsockopt(mnl_socket_get_fd(socket_.get()), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    port_id_ = mnl_socket_get_portid(socket_.get());
  }

  // Streams one dump to `visit`. Returns false if the kernel refused it
  // because the family is not supported (IPv6 disabled).
  bool dump(const DumpSpec& spec, const SocketVisitor& visit) {
    const uint32_t sequence = ++sequence_;
    send_request(spec, sequence);
    DumpContext context{spec.protocol, &visit, nullptr, false};
    for (;;) {
      ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
      if (received < 0) {
        if (errno == EINTR) {
          continue;
        }
        throw_dump_error(spec, errno);
      }
      if (received == 0) {
        throw_dump_error(spec, ENODATA);  // netlink never ends a dump this way
      }
      if (record_) {
        record_(std::span<const uint8_t>(buffer_.data(), static_cast<size_t>(received)));
      }
      int result = mnl_cb_run(buffer_.data(), static_cast<size_t>(received), sequence, port_id_,
                              on_message, &context);
      if (context.exception) {
        std::rethrow_exception(context.exception);
      }
      if (context.malformed) {
        throw SockDiagError(
            fmt::format("netlink sock_diag dump ({}) failed: malformed reply", dump_name(spec)),
            EBADMSG, false);
      }
      if (result == MNL_CB_STOP) {
        return true;
      }
      if (result == MNL_CB_ERROR) {
        const int error_number = errno;
        if (spec.family == AF_INET6 && (error_number == ENOENT || error_number == EAFNOSUPPORT)) {
          return false;
        }
        if (spec.family == AF_UNSPEC && !context.delivered &&
            (error_number == EINVAL || error_number == ENOENT || error_number == EOPNOTSUPP)) {
          return false;  // the caller falls back to per-family requests
        }
        throw_dump_error(spec, error_number);
      }
    }
  }

 private:
  void send_request(const DumpSpec& spec, uint32_t sequence) {
    alignas(nlmsghdr) uint8_t request[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(inet_diag_req))] = {};
    nlmsghdr* header = mnl_nlmsg_put_header(request);
    header->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    header->nlmsg_seq = sequence;
    if (spec.family == AF_UNSPEC) {
      // SOCK_DIAG_BY_FAMILY has no AF_UNSPEC handler; the older TCPDIAG_GETSOCK
      // request picks the handler by protocol and walks every table once for
      // both families (inet_diag_dump_icsk(): listeners, bound-only, then
      // established), which also keeps the collector's ordering contract.
      header->nlmsg_type = TCPDIAG_GETSOCK;
      auto* body =
          static_cast<inet_diag_req*>(mnl_nlmsg_put_extra_header(header, sizeof(inet_diag_req)));
      body->idiag_family = AF_UNSPEC;
      body->idiag_states = spec.states;
    } else {
      header->nlmsg_type = SOCK_DIAG_BY_FAMILY;
      auto* body = static_cast<inet_diag_req_v2*>(
          mnl_nlmsg_put_extra_header(header, sizeof(inet_diag_req_v2)));
      body->sdiag_family = spec.family;
      body->sdiag_protocol = ip_protocol(spec.protocol);
      body->idiag_states = spec.states;
      body->idiag_ext = 0;  // no extensions: SKV6ONLY and SOCKOPT come anyway
    }
    if (record_) {
      record_(std::span<const uint8_t>(request, header->nlmsg_len));
    }
    if (mnl_socket_sendto(socket_.get(), header, header->nlmsg_len) < 0) {
      throw_dump_error(spec, errno);
    }
  }

  [[noreturn]] static void throw_open_error(std::string_view what) {
    const int error_number = errno;
    throw SockDiagError(fmt::format("{}: {}", what, std::strerror(error_number)), error_number,
                        true);
  }

  [[noreturn]] static void throw_dump_error(const DumpSpec& spec, int error_number) {
    throw SockDiagError(fmt::format("netlink sock_diag dump ({}) failed: {}", dump_name(spec),
                                    error_text(error_number, spec.protocol)),
                        error_number, false);
  }

  std::unique_ptr<mnl_socket, MnlSocketCloser> socket_;
  const SockDiagRecorder& record_;
  std::vector<uint8_t> buffer_;
  uint32_t port_id_ = 0;
  uint32_t sequence_ = 0;
};

}  // namespace

void dump_sock_diag(const SockDiagOptions& options, const SocketVisitor& visit) {
  if (!options.tcp && !options.udp) {
    return;
  }
  SockDiagSocket socket(options.record);
  std::vector<DumpSpec> dumps;
  if (options.tcp && !socket.dump({AF_UNSPEC, Protocol::tcp, kAllStates}, visit)) {
    // No one-walk request here: IPv6 holders first, then all of IPv4 (its
    // walk emits listeners and bound-only sockets first), then the rest of
    // IPv6: three walks, still in contract order.
    const uint32_t bound = kListenBit | kBoundInactiveBit;
    dumps.push_back({AF_INET6, Protocol::tcp, bound});
    dumps.push_back({AF_INET, Protocol::tcp, kAllStates});
    dumps.push_back({AF_INET6, Protocol::tcp, kAllStates & ~bound});
  }
  if (options.udp) {
    dumps.push_back({AF_INET, Protocol::udp, kAllStates});
    dumps.push_back({AF_INET6, Protocol::udp, kAllStates});
  }
  bool ipv6_supported = true;
  for (const DumpSpec& spec : dumps) {
    if (spec.family == AF_INET6 && !ipv6_supported) {
      continue;
    }
    if (!socket.dump(spec, visit)) {
      ipv6_supported = false;
    }
  }
}

void replay_sock_diag(std::span<const uint8_t> recording, const SocketVisitor& visit) {
  std::optional<Protocol> protocol;
  const auto* message = reinterpret_cast<const nlmsghdr*>(recording.data());
  int remaining = static_cast<int>(recording.size());
  if (recording.size() > static_cast<size_t>(INT32_MAX)) {
    throw InputError("sock_diag recording too large");
  }
  size_t index = 0;
  for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining), ++index) {
    if (message->nlmsg_type == NLMSG_DONE || message->nlmsg_type == NLMSG_ERROR) {
      continue;
    }
    if (message->nlmsg_type != SOCK_DIAG_BY_FAMILY && message->nlmsg_type != TCPDIAG_GETSOCK) {
      throw InputError(
          fmt::format("sock_diag recording: message {} has type {}", index, message->nlmsg_type));
    }
    if ((message->nlmsg_flags & NLM_F_REQUEST) != 0 && message->nlmsg_type == TCPDIAG_GETSOCK) {
      protocol = Protocol::tcp;  // the one-walk TCP request
      continue;
    }
    if ((message->nlmsg_flags & NLM_F_REQUEST) != 0) {
      if (message->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(inet_diag_req_v2)) {
        throw InputError(fmt::format("sock_diag recording: request {} is too short", index));
      }
      inet_diag_req_v2 request{};
      std::memcpy(&request, mnl_nlmsg_get_payload(message), sizeof request);
      if (request.sdiag_protocol == IPPROTO_TCP) {
        protocol = Protocol::tcp;
      } else if (request.sdiag_protocol == IPPROTO_UDP) {
        protocol = Protocol::udp;
      } else {
        throw InputError(fmt::format("sock_diag recording: request {} is for protocol {}", index,
                                     request.sdiag_protocol));
      }
      continue;
    }
    if (!protocol) {
      throw InputError("sock_diag recording: a reply comes before any request");
    }
    std::optional<SocketRecord> record = parse_inet_diag_msg(message, *protocol);
    if (!record) {
      throw InputError(fmt::format("sock_diag recording: message {} is malformed", index));
    }
    visit(*record);
  }
  if (remaining != 0) {
    throw InputError(fmt::format("sock_diag recording: cut short in message {}", index));
  }
}

bool sock_diag_unavailable(int error_number) {
  switch (error_number) {
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
    case ENOENT:
    case EACCES:
    case EPERM:
    case EOPNOTSUPP:
      return true;
    default:
      return false;
  }
}

}  // namespace ephport
