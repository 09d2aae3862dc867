#pragma once
// A set of ports 0..65535 as a fixed bitset (8 KiB). The analysis keeps one per
// address group, never one per socket.

#include <bitset>
#include <cstdint>

namespace ephport {

class PortSet {
 public:
  void insert(uint16_t port) { bits_.set(port); }
  bool contains(uint16_t port) const { return bits_.test(port); }
  uint32_t size() const { return static_cast<uint32_t>(bits_.count()); }
  PortSet& operator|=(const PortSet& other) {
    bits_ |= other.bits_;
    return *this;
  }
  PortSet& operator&=(const PortSet& other) {
    bits_ &= other.bits_;
    return *this;
  }
  // Ports of this set that are also in `other`.
  uint32_t count_in(const PortSet& other) const {
    return static_cast<uint32_t>((bits_ & other.bits_).count());
  }

 private:
  std::bitset<65536> bits_;
};

}  // namespace ephport
