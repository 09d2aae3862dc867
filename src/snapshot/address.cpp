#include "snapshot/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace ephport {

namespace {
constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

Address Address::from_v4(const uint8_t bytes[4]) {
  Address address;
  std::memcpy(address.bytes_.data(), bytes, 4);
  address.family_ = Family::v4;
  return address;
}

Address Address::from_v6(const uint8_t bytes[16]) {
  if (std::memcmp(bytes, kV4MappedPrefix, sizeof kV4MappedPrefix) == 0) {
    return from_v4(bytes + 12);
  }
  Address address;
  std::memcpy(address.bytes_.data(), bytes, 16);
  address.family_ = Family::v6;
  return address;
}

Address Address::any_v4() {
  Address address;
  address.family_ = Family::v4;
  return address;
}

Address Address::any_v6() {
  Address address;
  address.family_ = Family::v6;
  return address;
}

std::optional<Address> Address::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, text.data(), text.size());
  uint8_t raw[16] = {};
  if (inet_pton(AF_INET, buffer, raw) == 1) {
    return from_v4(raw);
  }
  if (inet_pton(AF_INET6, buffer, raw) == 1) {
    return from_v6(raw);
  }
  return std::nullopt;
}

bool Address::is_loopback() const {
  if (family_ == Family::v4) {
    return bytes_[0] == 127;
  }
  if (family_ == Family::v6) {
    for (size_t i = 0; i < 15; ++i) {
      if (bytes_[i] != 0) {
        return false;
      }
    }
    return bytes_[15] == 1;
  }
  return false;
}

std::string Address::str() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (family_ == Family::v4) {
    inet_ntop(AF_INET, bytes_.data(), buffer, sizeof buffer);
  } else if (family_ == Family::v6) {
    inet_ntop(AF_INET6, bytes_.data(), buffer, sizeof buffer);
  } else {
    return "-";
  }
  return buffer;
}

size_t AddressHash::operator()(const Address& address) const noexcept {
  // Hashed three times per socket: two 64-bit words and a multiply-xorshift
  // mix, not a byte loop.
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, address.bytes().data(), sizeof high);
  std::memcpy(&low, address.bytes().data() + sizeof high, sizeof low);
  uint64_t hash = (high ^ (low * 0x9E3779B97F4A7C15ULL)) + static_cast<uint8_t>(address.family());
  hash ^= hash >> 32;
  hash *= 0xD6E8FEB86659FD93ULL;
  hash ^= hash >> 32;
  return static_cast<size_t>(hash);
}

}  // namespace ephport
