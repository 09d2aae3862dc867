#include "snapshot/owner_table.h"

#include <utility>

namespace ephport {

std::string_view owner_method_name(OwnerMethod method) {
  switch (method) {
    case OwnerMethod::bpf:
      return "bpf";
    case OwnerMethod::procfs:
      return "procfs";
    case OwnerMethod::capture:
      return "capture";
    case OwnerMethod::none:
      break;
  }
  return "";
}

std::optional<OwnerMethod> parse_owner_method(std::string_view name) {
  for (OwnerMethod method :
       {OwnerMethod::none, OwnerMethod::bpf, OwnerMethod::procfs, OwnerMethod::capture}) {
    if (owner_method_name(method) == name) {
      return method;
    }
  }
  return std::nullopt;
}

namespace {
size_t slot_of(uint64_t inode, size_t mask) {
  // Inodes are near-sequential: mix them so neighbours spread out.
  return static_cast<size_t>((inode * 0x9E3779B97F4A7C15ULL) >> 17) & mask;
}
}  // namespace

const OwnerTable::Slot* OwnerTable::find(uint64_t inode) const {
  if (slots_.empty() || inode == 0) {
    return nullptr;
  }
  const size_t mask = slots_.size() - 1;
  for (size_t index = slot_of(inode, mask);; index = (index + 1) & mask) {
    const Slot& slot = slots_[index];
    if (slot.inode == inode) {
      return &slot;
    }
    if (slot.inode == 0) {
      return nullptr;
    }
  }
}

void OwnerTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.inode != 0) {
      size_t index = slot_of(slot.inode, mask);
      while (slots_[index].inode != 0) {
        index = (index + 1) & mask;
      }
      slots_[index] = slot;
    }
  }
}

void OwnerTable::add(uint64_t inode, uint32_t pid) {
  if (inode == 0) {
    return;
  }
  if ((used_ + 1) * 2 > slots_.size()) {
    grow();  // keep the load under one half: short probes
  }
  const size_t mask = slots_.size() - 1;
  size_t index = slot_of(inode, mask);
  while (slots_[index].inode != 0 && slots_[index].inode != inode) {
    index = (index + 1) & mask;
  }
  Slot& slot = slots_[index];
  if (slot.inode == 0) {
    slot = {inode, pid, 0};
    ++used_;
    return;
  }
  if (slot.shared == 0) {
    if (slot.pid == pid) {
      return;  // a process holding the same socket in two fds
    }
    shared_.push_back({slot.pid, pid});
    slot.shared = static_cast<uint32_t>(shared_.size());
    return;
  }
  std::vector<uint32_t>& pids = shared_[slot.shared - 1];
  for (uint32_t known : pids) {
    if (known == pid) {
      return;
    }
  }
  pids.push_back(pid);
}

std::span<const uint32_t> OwnerTable::pids_of(uint64_t inode) const {
  const Slot* slot = find(inode);
  if (slot == nullptr) {
    return {};
  }
  if (slot->shared != 0) {
    return shared_[slot->shared - 1];
  }
  return {&slot->pid, 1};
}

}  // namespace ephport
