#pragma once
// The bounded store behind the capture ring (packet_ring.h): the newest
// captured packets that fit in `max_bytes`, the oldest evicted first. Pure
// logic: no libpcap, no network, so it is unit-tested on its own.
//
// Packets are kept back to back in one byte ring allocated once, each as a
// 16-byte record header (the classic pcap record header: seconds,
// microseconds, captured length, length on the wire, in host order) followed
// by the captured bytes. So the held bytes are exactly the records of a pcap
// file of them (the file adds its 24-byte header), and memory use is
// `max_bytes` whatever the packet sizes: no allocation per packet.
//
// Thread-safe: one thread may push() while others take snapshot() or counts().

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace ephport {

struct PacketRecordHeader {
  uint32_t ts_sec = 0;
  uint32_t ts_usec = 0;
  uint32_t caplen = 0;       // bytes captured and kept
  uint32_t wire_length = 0;  // bytes the packet had on the wire
};
inline constexpr size_t kPacketRecordHeaderSize = 16;
static_assert(sizeof(PacketRecordHeader) == kPacketRecordHeaderSize);

struct PacketBufferCounts {
  uint64_t pushed = 0;   // every push()
  uint64_t evicted = 0;  // pushed out to stay within the bound (or never fitting)
  uint64_t held_packets = 0;
  uint64_t held_bytes = 0;  // record headers included
};

// A copy of the held packets, oldest first, in record layout.
class PacketSnapshot {
 public:
  uint64_t packets() const { return packets_; }
  size_t bytes() const { return records_.size(); }

  // Calls visit(const PacketRecordHeader&, const uint8_t* data) per packet,
  // oldest first; `data` has header.caplen bytes.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    size_t offset = 0;
    while (offset + kPacketRecordHeaderSize <= records_.size()) {
      PacketRecordHeader header;
      std::memcpy(&header, records_.data() + offset, kPacketRecordHeaderSize);
      visit(header, records_.data() + offset + kPacketRecordHeaderSize);
      offset += kPacketRecordHeaderSize + header.caplen;
    }
  }

 private:
  friend class PacketBuffer;
  std::vector<uint8_t> records_;
  uint64_t packets_ = 0;
};

class PacketBuffer {
 public:
  explicit PacketBuffer(size_t max_bytes);
  PacketBuffer(const PacketBuffer&) = delete;
  PacketBuffer& operator=(const PacketBuffer&) = delete;

  // Keeps a copy of the packet (`data` has header.caplen bytes), evicting the
  // oldest packets until its record fits. A record larger than max_bytes on
  // its own is not kept and counts as evicted.
  void push(const PacketRecordHeader& header, const uint8_t* data);

  PacketSnapshot snapshot() const;
  PacketBufferCounts counts() const;
  size_t max_bytes() const { return capacity_; }

 private:
  // Copies at a ring offset, wrapping past the end.
  void copy_in(size_t offset, const void* source, size_t length);
  void copy_out(size_t offset, void* target, size_t length) const;

  const size_t capacity_;
  // Not value-initialised: untouched pages of a large bound cost no memory.
  std::unique_ptr<uint8_t[]> ring_;
  mutable std::mutex mutex_;
  size_t head_ = 0;            // offset of the oldest record
  PacketBufferCounts counts_;  // held_bytes: the used part of the ring from head_
};

}  // namespace ephport
