#include "collect/linux/local_addresses.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "util/error.h"

namespace ephport {

namespace {

constexpr size_t kReceiveBufferSize = size_t{32} * 1024;

// The attributes of one ifaddrmsg that matter here.
struct AddressAttributes {
  const nlattr* address = nullptr;
  const nlattr* local = nullptr;
  const nlattr* flags = nullptr;
  bool malformed = false;
};

int on_attribute(const nlattr* attribute, void* data) {
  auto* found = static_cast<AddressAttributes*>(data);
  switch (mnl_attr_get_type(attribute)) {
    case IFA_ADDRESS:
      found->address = attribute;
      break;
    case IFA_LOCAL:
      found->local = attribute;
      break;
    case IFA_FLAGS:
      if (mnl_attr_validate(attribute, MNL_TYPE_U32) < 0) {
        found->malformed = true;
        return MNL_CB_ERROR;
      }
      found->flags = attribute;
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

std::optional<Address> address_of(const nlattr* attribute, uint8_t family) {
  const size_t size = family == AF_INET ? 4 : 16;
  if (attribute == nullptr || mnl_attr_get_payload_len(attribute) != size) {
    return std::nullopt;
  }
  const auto* bytes = static_cast<const uint8_t*>(mnl_attr_get_payload(attribute));
  return family == AF_INET ? Address::from_v4(bytes) : Address::from_v6(bytes);
}

// Where replies come from: bad bytes in a recording are bad input (exit
// 2), from the kernel a runtime failure (exit 1).
struct ReplySource {
  std::string what;
  bool recording = false;
  [[noreturn]] void fail(const std::string& message) const {
    if (recording) {
      throw InputError(what + ": " + message);
    }
    throw RuntimeError(what + ": " + message);
  }
};

// Walks the messages of reply datagrams, adding the bindable addresses to
// `out`. Returns true at NLMSG_DONE.
bool decode_replies(std::span<const uint8_t> bytes, std::vector<Address>& out,
                    const ReplySource& source) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    source.fail("too large");
  }
  const auto* message = reinterpret_cast<const nlmsghdr*>(bytes.data());
  int remaining = static_cast<int>(bytes.size());
  size_t index = 0;
  for (; mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining), ++index) {
    if (message->nlmsg_type == NLMSG_DONE) {
      return true;
    }
    if (message->nlmsg_type == NLMSG_ERROR) {
      if (message->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(nlmsgerr)) {
        source.fail(fmt::format("message {} is a short error", index));
      }
      const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
      source.fail(fmt::format("failed: {}", std::strerror(-error->error)));
    }
    if (message->nlmsg_type != RTM_NEWADDR) {
      source.fail(fmt::format("message {} has type {}", index, message->nlmsg_type));
    }
    std::optional<InterfaceAddress> address = parse_address_message(message);
    if (!address) {
      source.fail(fmt::format("message {} is malformed", index));
    }
    if (bindable(*address)) {
      out.push_back(address->address);
    }
  }
  if (remaining != 0) {
    source.fail(fmt::format("cut short in message {}", index));
  }
  return false;
}

void sort_unique(std::vector<Address>& addresses) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
}

struct MnlSocketCloser {
  void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
};

[[noreturn]] void throw_errno(const char* what) {
  throw RuntimeError(fmt::format("rtnetlink address dump: {}: {}", what, std::strerror(errno)));
}

}  // namespace

std::optional<InterfaceAddress> parse_address_message(const nlmsghdr* message) {
  if (message->nlmsg_type != RTM_NEWADDR ||
      message->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(ifaddrmsg))) {
    return std::nullopt;
  }
  const auto* header = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message));
  if (header->ifa_family != AF_INET && header->ifa_family != AF_INET6) {
    return std::nullopt;
  }
  AddressAttributes attributes;
  if (mnl_attr_parse(message, sizeof(ifaddrmsg), on_attribute, &attributes) != MNL_CB_OK ||
      attributes.malformed) {
    return std::nullopt;
  }
  // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on a
  // point-to-point link, and the only one IPv6 usually sends.
  std::optional<Address> address = address_of(
      attributes.local != nullptr ? attributes.local : attributes.address, header->ifa_family);
  if (!address) {
    return std::nullopt;
  }
  InterfaceAddress result;
  result.address = *address;
  result.interface_index = header->ifa_index;
  result.prefix_length = header->ifa_prefixlen;
  result.scope = header->ifa_scope;
  result.flags =
      attributes.flags != nullptr ? mnl_attr_get_u32(attributes.flags) : header->ifa_flags;
  return result;
}

bool bindable(const InterfaceAddress& address) {
  if (address.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) {
    return false;
  }
  const auto& bytes = address.address.bytes();
  const bool v6_link_local =
      address.address.is_v6() && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  return !v6_link_local && !address.address.is_wildcard();
}

std::vector<Address> local_addresses_from_dump(std::span<const uint8_t> replies) {
  std::vector<Address> addresses;
  decode_replies(replies, addresses, {"rtnetlink address recording", true});
  sort_unique(addresses);
  return addresses;
}

std::vector<Address> read_local_addresses() {
  std::unique_ptr<mnl_socket, MnlSocketCloser> socket(mnl_socket_open(NETLINK_ROUTE));
  if (!socket) {
    throw_errno("cannot open a netlink route socket");
  }
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    throw_errno("cannot bind the netlink route socket");
  }
  alignas(nlmsghdr) uint8_t request[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(ifaddrmsg))] = {};
  nlmsghdr* header = mnl_nlmsg_put_header(request);
  header->nlmsg_type = RTM_GETADDR;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header->nlmsg_seq = 1;
  auto* body = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifaddrmsg)));
  body->ifa_family = AF_UNSPEC;
  if (mnl_socket_sendto(socket.get(), header, header->nlmsg_len) < 0) {
    throw_errno("cannot send the request");
  }
  std::vector<Address> addresses;
  std::vector<uint8_t> buffer(kReceiveBufferSize);
  for (;;) {
    ssize_t received = mnl_socket_recvfrom(socket.get(), buffer.data(), buffer.size());
    if (received < 0 && errno == EINTR) {
      continue;
    }
    if (received < 0) {
      throw_errno("cannot read the reply");
    }
    if (received == 0) {
      throw RuntimeError("rtnetlink address dump: the reply ended before NLMSG_DONE");
    }
    if (decode_replies(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(received)),
                       addresses, {"rtnetlink address dump", false})) {
      break;
    }
  }
  sort_unique(addresses);
  return addresses;
}

}  // namespace ephport
