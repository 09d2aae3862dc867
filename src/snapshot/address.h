#pragma once
// An IPv4 or IPv6 address as a value. v4-mapped IPv6 addresses (::ffff:a.b.c.d)
// are normalised to IPv4 on construction, because the kernel hands such
// sockets to the IPv4 code and they compete for the same 4-tuples.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ephport {

class Address {
 public:
  enum class Family : uint8_t { none = 0, v4 = 4, v6 = 6 };

  Address() = default;
  // From network-order bytes as the kernel reports them.
  static Address from_v4(const uint8_t bytes[4]);
  static Address from_v6(const uint8_t bytes[16]);  // normalises v4-mapped
  static Address any_v4();
  static Address any_v6();
  // Parses dotted quad or RFC 4291 text (optionally in brackets); nullopt if invalid.
  static std::optional<Address> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::v4; }
  bool is_v6() const { return family_ == Family::v6; }
  // 0.0.0.0 or ::. Inline: asked several times for every socket.
  bool is_wildcard() const {
    return family_ != Family::none && bytes_ == std::array<uint8_t, 16>{};
  }
  bool is_loopback() const;                                        // 127/8 or ::1
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }  // v4 in bytes 0..3

  std::string str() const;  // 127.0.0.1, ::1 (no brackets)

  // clang-tidy 14 misreads a defaulted <=> as a literal 0 comparison.
  auto operator<=>(const Address&) const = default;  // NOLINT(modernize-use-nullptr)
  bool operator==(const Address&) const = default;

 private:
  // Family first: ordering puts IPv4 before IPv6.
  Family family_ = Family::none;
  std::array<uint8_t, 16> bytes_{};
};

struct AddressHash {
  size_t operator()(const Address& address) const noexcept;
};

}  // namespace ephport
