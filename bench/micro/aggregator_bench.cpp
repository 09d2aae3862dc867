// Aggregator::add (src/analyze/aggregator.h) on a synthetic stream shaped
// like bench/population: listeners and bound-only sockets first (the
// collector ordering contract), then established pairs from 64 source
// addresses to 4 IPv4 and 4 IPv6 listeners, and TIME_WAIT sockets, in a
// fixed pseudo-random order (the kernel dumps its established hash in hash
// order, unrelated to addresses or inode numbers).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "analyze/aggregator.h"
#include "snapshot/owner_table.h"

namespace {

using ephport::Address;
using ephport::SocketRecord;
using ephport::SockState;

constexpr int kSources = 64;
constexpr int kListeners = 4;

Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t bytes[4] = {a, b, c, d};
  return Address::from_v4(bytes);
}

Address v6_loopback() {
  uint8_t bytes[16] = {};
  bytes[15] = 1;
  return Address::from_v6(bytes);
}

ephport::HostFacts host_facts() {
  ephport::HostFacts host;
  host.computer = "bench";
  host.set_range({1024, 65535});
  return host;
}

SocketRecord record(bool ipv6, SockState state, const Address& local, uint16_t local_port,
                    const Address& remote, uint16_t remote_port, uint64_t inode) {
  SocketRecord socket;
  socket.family = ipv6 ? Address::Family::v6 : Address::Family::v4;
  socket.state = state;
  socket.local = local;
  socket.local_port = local_port;
  socket.remote = remote;
  socket.remote_port = remote_port;
  socket.inode = inode;
  socket.v6only = ipv6 ? 1 : -1;
  return socket;
}

// About `count` records: a quarter of the pairs IPv6, 2 % TIME_WAIT, 0.1 %
// bound-only. Inodes count up from 1000 (0 for TIME_WAIT, as the kernel says).
std::vector<SocketRecord> population(int64_t count) {
  std::vector<SocketRecord> stream;
  stream.reserve(static_cast<size_t>(count));
  const Address loopback4 = v4(127, 0, 0, 1);
  const Address loopback6 = v6_loopback();
  const Address any4 = Address::any_v4();
  const Address any6 = Address::any_v6();
  uint64_t inode = 1000;
  for (int i = 0; i < kListeners; ++i) {
    stream.push_back(record(false, SockState::listen, loopback4, 1001 + i, any4, 0, inode++));
    stream.push_back(record(true, SockState::listen, loopback6, 1101 + i, any6, 0, inode++));
  }
  const int64_t bound_only = count / 1000;
  for (int64_t i = 0; i < bound_only; ++i) {
    stream.push_back(record(false, SockState::close, loopback4,
                            static_cast<uint16_t>(20000 + i % 40000), any4, 0, inode++));
  }
  const int64_t time_wait = count / 50;
  const int64_t pairs = (count - static_cast<int64_t>(stream.size()) - time_wait) / 2;
  auto port_of = [](int64_t n) { return static_cast<uint16_t>(1024 + (n * 7919) % 64512); };
  for (int64_t i = 0; i < pairs; ++i) {
    const bool ipv6 = i < pairs / 4;
    const int source = static_cast<int>(i % kSources);
    const uint16_t listener_port =
        static_cast<uint16_t>((ipv6 ? 1101 : 1001) + (i / kSources) % kListeners);
    const Address client = ipv6 ? loopback6 : v4(127, 1, 0, static_cast<uint8_t>(source + 1));
    const Address server = ipv6 ? loopback6 : loopback4;
    const uint16_t port = port_of(i);
    stream.push_back(
        record(ipv6, SockState::established, client, port, server, listener_port, inode++));
    stream.push_back(
        record(ipv6, SockState::established, server, listener_port, client, port, inode++));
  }
  for (int64_t i = 0; i < time_wait; ++i) {
    const int source = static_cast<int>(i % kSources);
    stream.push_back(record(false, SockState::time_wait,
                            v4(127, 1, 0, static_cast<uint8_t>(source + 1)), port_of(pairs + i),
                            loopback4, 1001, 0));
  }
  const auto first_connection = stream.begin() + kListeners * 2 + bound_only;
  std::shuffle(first_connection, stream.end(), std::mt19937_64(42));
  return stream;
}

// Every socket with an inode held by one of 16 processes.
ephport::OwnerTable owners_of(const std::vector<SocketRecord>& stream) {
  ephport::OwnerTable owners;
  for (const SocketRecord& socket : stream) {
    if (socket.inode != 0) {
      owners.add(socket.inode, static_cast<uint32_t>(4000 + socket.inode % 16));
    }
  }
  return owners;
}

void add_all(benchmark::State& state, bool with_owners, bool finish) {
  const std::vector<SocketRecord> stream = population(state.range(0));
  const ephport::HostFacts host = host_facts();
  const ephport::OwnerTable owners = with_owners ? owners_of(stream) : ephport::OwnerTable();
  for (auto _ : state) {
    const ephport::OwnerScan scan{ephport::OwnerMethod::procfs, 16, 0};
    ephport::Aggregator aggregator(host, with_owners ? &scan : nullptr);
    for (const SocketRecord& socket : stream) {
      if (with_owners) {
        SocketRecord owned = socket;  // the join the Linux collector makes
        owned.pids = owners.pids_of(socket.inode);
        aggregator.add(owned);
      } else {
        aggregator.add(socket);
      }
    }
    if (finish) {
      ephport::Analysis analysis = aggregator.finish(0);
      benchmark::DoNotOptimize(analysis);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(stream.size()));
}

// Aggregator construction + one add() per socket.
void BM_AggregatorAdd(benchmark::State& state) {
  add_all(state, false, false);
}
// The same with process attribution (an OwnerTable lookup per socket).
void BM_AggregatorAddOwners(benchmark::State& state) {
  add_all(state, true, false);
}
// The same plus finish(): the whole analysis without the dump.
void BM_AggregatorAddFinish(benchmark::State& state) {
  add_all(state, false, true);
}

// Building the inode -> pid table, without reading /proc: what
// scan_proc_owners() spends per socket fd besides the readlink() calls.
void BM_OwnerTableAdd(benchmark::State& state) {
  const int64_t count = state.range(0);
  for (auto _ : state) {
    ephport::OwnerTable owners;
    for (int64_t i = 0; i < count; ++i) {
      owners.add(static_cast<uint64_t>(1000 + i), 4000);
    }
    benchmark::DoNotOptimize(owners);
  }
  state.SetItemsProcessed(state.iterations() * count);
}

}  // namespace

BENCHMARK(BM_AggregatorAdd)->Arg(10000)->Arg(100000)->Arg(300000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AggregatorAddOwners)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(300000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AggregatorAddFinish)->Arg(10000)->Arg(300000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OwnerTableAdd)->Arg(10000)->Arg(300000)->Unit(benchmark::kMillisecond);
