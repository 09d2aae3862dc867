#include "evidence/packet_buffer.h"

#include <algorithm>

namespace ephport {

PacketBuffer::PacketBuffer(size_t max_bytes)
    : capacity_(max_bytes),
      ring_(max_bytes == 0 ? nullptr : std::make_unique_for_overwrite<uint8_t[]>(max_bytes)) {}

void PacketBuffer::copy_in(size_t offset, const void* source, size_t length) {
  if (length == 0) {
    return;  // `source` may be null for an empty packet
  }
  const size_t first = std::min(length, capacity_ - offset);
  std::memcpy(ring_.get() + offset, source, first);
  std::memcpy(ring_.get(), static_cast<const uint8_t*>(source) + first, length - first);
}

void PacketBuffer::copy_out(size_t offset, void* target, size_t length) const {
  const size_t first = std::min(length, capacity_ - offset);
  std::memcpy(target, ring_.get() + offset, first);
  std::memcpy(static_cast<uint8_t*>(target) + first, ring_.get(), length - first);
}

void PacketBuffer::push(const PacketRecordHeader& header, const uint8_t* data) {
  const size_t record = kPacketRecordHeaderSize + header.caplen;
  std::lock_guard lock(mutex_);
  ++counts_.pushed;
  if (record > capacity_) {
    ++counts_.evicted;
    return;
  }
  while (counts_.held_bytes + record > capacity_) {
    PacketRecordHeader oldest;
    copy_out(head_, &oldest, kPacketRecordHeaderSize);
    const size_t oldest_record = kPacketRecordHeaderSize + oldest.caplen;
    head_ = (head_ + oldest_record) % capacity_;
    counts_.held_bytes -= oldest_record;
    --counts_.held_packets;
    ++counts_.evicted;
  }
  const size_t tail = (head_ + counts_.held_bytes) % capacity_;
  copy_in(tail, &header, kPacketRecordHeaderSize);
  copy_in((tail + kPacketRecordHeaderSize) % capacity_, data, header.caplen);
  counts_.held_bytes += record;
  ++counts_.held_packets;
}

PacketSnapshot PacketBuffer::snapshot() const {
  PacketSnapshot snapshot;
  std::lock_guard lock(mutex_);
  snapshot.records_.resize(counts_.held_bytes);
  if (counts_.held_bytes != 0) {
    copy_out(head_, snapshot.records_.data(), counts_.held_bytes);
  }
  snapshot.packets_ = counts_.held_packets;
  return snapshot;
}

PacketBufferCounts PacketBuffer::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace ephport
