#include "collect/linux/inet_diag_parse.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace ephport {

namespace {

// What the attribute walk found, and how far it got.
struct AttributeScan {
  const char* end = nullptr;  // end of the last well-formed attribute
  bool malformed = false;
  int v6only = -1;
  bool bind_address_no_port = false;
};

int on_attribute(const nlattr* attribute, void* data) {
  auto* scan = static_cast<AttributeScan*>(data);
  // mnl_attr_parse() only hands over attributes that fit in the message.
  scan->end = reinterpret_cast<const char*>(attribute) + MNL_ALIGN(attribute->nla_len);
  const uint16_t payload_length = mnl_attr_get_payload_len(attribute);
  switch (mnl_attr_get_type(attribute)) {
    case INET_DIAG_SKV6ONLY:
      if (payload_length < sizeof(uint8_t)) {
        scan->malformed = true;
        return MNL_CB_ERROR;
      }
      scan->v6only = mnl_attr_get_u8(attribute) != 0 ? 1 : 0;
      break;
    case INET_DIAG_SOCKOPT: {
      // Two bytes of bit-fields; bind_address_no_port is the first field of
      // the second byte (bit 0 on x86). Copying into the struct lets the
      // compiler lay the bits out as the kernel did, whatever the endianness.
      if (payload_length < sizeof(inet_diag_sockopt)) {
        scan->malformed = true;
        return MNL_CB_ERROR;
      }
      inet_diag_sockopt options{};
      std::memcpy(&options, mnl_attr_get_payload(attribute), sizeof options);
      scan->bind_address_no_port = options.bind_address_no_port != 0;
      break;
    }
    default:
      break;  // other attributes, including ones newer than our headers
  }
  return MNL_CB_OK;
}

SockState to_state(uint8_t kernel_state) {
  return kernel_state < kSockStateCount ? static_cast<SockState>(kernel_state) : SockState::unknown;
}

}  // namespace

std::optional<SocketRecord> parse_inet_diag_msg(const nlmsghdr* message, Protocol protocol) {
  // TCPDIAG_GETSOCK: the reply type of the one-walk (AF_UNSPEC) TCP request.
  if (message == nullptr ||
      (message->nlmsg_type != SOCK_DIAG_BY_FAMILY && message->nlmsg_type != TCPDIAG_GETSOCK)) {
    return std::nullopt;
  }
  const uint32_t length = message->nlmsg_len;
  // An unpadded length would let libmnl read up to 3 bytes past the end when
  // it rounds the tail up; the kernel never sends one.
  if (length < MNL_NLMSG_HDRLEN + sizeof(inet_diag_msg) || length % MNL_ALIGNTO != 0) {
    return std::nullopt;
  }

  inet_diag_msg diag{};
  std::memcpy(&diag, mnl_nlmsg_get_payload(message), sizeof diag);
  SocketRecord record;
  record.protocol = protocol;
  if (diag.idiag_family == AF_INET) {
    record.family = Address::Family::v4;
    record.local = Address::from_v4(reinterpret_cast<const uint8_t*>(diag.id.idiag_src));
    record.remote = Address::from_v4(reinterpret_cast<const uint8_t*>(diag.id.idiag_dst));
  } else if (diag.idiag_family == AF_INET6) {
    record.family = Address::Family::v6;
    record.local = Address::from_v6(reinterpret_cast<const uint8_t*>(diag.id.idiag_src));
    record.remote = Address::from_v6(reinterpret_cast<const uint8_t*>(diag.id.idiag_dst));
  } else {
    return std::nullopt;
  }
  record.state = to_state(diag.idiag_state);
  record.local_port = ntohs(diag.id.idiag_sport);
  record.remote_port = ntohs(diag.id.idiag_dport);
  record.ifindex = diag.id.idiag_if;
  record.uid = diag.idiag_uid;
  record.inode = diag.idiag_inode;
  record.timer = diag.idiag_timer;
  record.expires_ms = diag.idiag_expires;

  AttributeScan scan;
  const char* attributes =
      static_cast<const char*>(mnl_nlmsg_get_payload_offset(message, sizeof(inet_diag_msg)));
  scan.end = attributes;
  int result = mnl_attr_parse(message, sizeof(inet_diag_msg), on_attribute, &scan);
  // mnl_attr_parse() stops quietly at the first attribute that does not fit;
  // a well-formed message is consumed to its last byte.
  const char* tail = reinterpret_cast<const char*>(message) + length;
  if (result == MNL_CB_ERROR || scan.malformed || scan.end != tail) {
    return std::nullopt;
  }
  record.v6only = static_cast<int8_t>(scan.v6only);
  record.bind_address_no_port = scan.bind_address_no_port;
  return record;
}

}  // namespace ephport
