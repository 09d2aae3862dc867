#include "analyze/aggregator.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "model/port_rules.h"
#include "snapshot/port_set.h"

namespace ephport {

namespace {

using PidSet = std::unordered_set<uint32_t>;

// What the sockets of one address group hold.
struct Footprint {
  PortSet ports;      // every local port, any state, but those only in `expiring`
  PortSet listening;  // LISTEN ports
  PidSet pids;
  // Ports of timewait sockets expiring within the expiry window; allocated
  // with the first one (log mode only).
  std::unique_ptr<PortSet> expiring;
  StateCounts states_in_range{};  // its sockets on ports of E, by state
};

struct DestinationKey {
  Address local;
  Address remote;
  uint16_t remote_port = 0;
  bool operator==(const DestinationKey&) const = default;
};

struct DestinationKeyHash {
  size_t operator()(const DestinationKey& key) const noexcept {
    AddressHash hash;
    size_t value = hash(key.local);
    value = value * 1000003u ^ hash(key.remote);
    return value * 1000003u ^ key.remote_port;
  }
};

struct DestinationCount {
  uint32_t in_use = 0;
  uint32_t time_wait = 0;
  uint32_t blocking = 0;  // sockets blocking their 4-tuple on a port not in B
  uint32_t expiring = 0;  // of which timewait sockets expiring within the window
  uint32_t index = 0;     // order of first sight: the model's name for it
  // For the bounds of an estimate: blocking sockets on ports outside the
  // certain part of B (LISTEN, bound-only), and of those the ones whose
  // port connect() chose (IP_BIND_ADDRESS_NO_PORT), so never bind()'s.
  uint32_t blocking_outside_known = 0;
  uint32_t blocking_connect_chosen = 0;
};

// A connection the model may later judge bind()'s (PortRules::
// estimated_bind_owned(), only without the exact bind state): what to undo
// in its destination's counts then.
struct BindEstimateCandidate {
  uint16_t port = 0;
  bool blocking = false;
  DestinationCount* group = nullptr;  // node-based map: stable address
  bool expiring = false;
};

double percent(uint32_t used, uint32_t capacity) {
  return capacity == 0 ? 0.0 : 100.0 * used / capacity;
}

// free - taken, never below 0.
uint32_t less(uint32_t free, uint32_t taken) {
  return taken >= free ? 0 : free - taken;
}

// An interval of free ports.
struct Bounds {
  uint32_t min = 0;
  uint32_t max = 0;
};

}  // namespace

class Aggregator::ProtocolPass {
 public:
  ProtocolPass(Protocol protocol, const HostFacts& host, ProcessAttribution& attribution)
      : protocol_(protocol),
        host_(host),
        rules_(make_port_rules(host, protocol)),
        ephemeral_(rules_->ephemeral()),
        shares_ports_(rules_->shares_ports_between_destinations()),
        attribution_(attribution) {}

  void add(const SocketRecord& reported) {
    const SocketVerdict verdict = rules_->judge(reported, expiry_window_ms_);
    const SocketRecord& socket = *verdict.socket;
    ++sockets_;
    ++states_[static_cast<size_t>(socket.state)];
    if (socket.is_request()) {
      return;  // lives on its listener's port
    }
    const bool in_range = ephemeral_.contains(socket.local_port);
    attribution_.add(socket, verdict, in_range);
    const bool expiring = verdict.expiring;
    if (!socket.local.is_wildcard()) {
      record(exact_[socket.local], socket, in_range, expiring);
    }
    if (verdict.v6only_guessed) {
      record_guessed(verdict, socket, in_range, expiring);
    } else {
      for (size_t i = 0; i < kOverlapGroupCount; ++i) {
        if (verdict.groups[i]) {
          record(wildcard_groups_[i], socket, in_range, expiring);
        }
      }
    }
    if (!shares_ports_) {
      return;  // no per-destination budget to keep
    }
    if (verdict.holds_bind_state && in_range) {
      bind_owned_.insert(socket.local_port);
    }
    if (verdict.connection && in_range && !verdict.accepted_child) {
      auto [found, inserted] =
          destinations_.try_emplace({socket.local, socket.remote, socket.remote_port});
      DestinationCount& count = found->second;
      if (inserted) {
        count.index = static_cast<uint32_t>(destinations_.size() - 1);
      }
      ++count.in_use;
      if (socket.state == SockState::time_wait) {
        ++count.time_wait;
      }
      bool in_bind_state = bind_owned_.contains(socket.local_port);
      bool blocking = verdict.blocks_four_tuple && !in_bind_state;
      if (blocking) {
        ++count.blocking;
        count.expiring += expiring ? 1 : 0;
        ++count.blocking_outside_known;
        count.blocking_connect_chosen += socket.bind_address_no_port ? 1 : 0;
      }
      if (!exact_bind_state_) {
        if (!socket.bind_address_no_port) {
          bind_possible_.insert(socket.local_port);  // bind() may have chosen it
        }
        if (rules_->note_connection(count.index, socket, in_bind_state,
                                    static_cast<uint32_t>(estimate_candidates_.size()))) {
          estimate_candidates_.push_back({socket.local_port, blocking, &count, expiring});
        }
      }
    }
  }

  void set_expiry_window_ms(uint32_t window_ms) { expiry_window_ms_ = window_ms; }

  void add_configured_addresses(const std::vector<Address>& addresses) {
    configured_ = addresses;
    std::sort(configured_->begin(), configured_->end());
  }

  // The allocator's own bind state (read by BPF): every port it holds in
  // bind() state.
  void use_exact_bind_state(const PortSet& bind_owned) {
    exact_bind_state_ = true;
    PortSet owned = bind_owned;
    owned &= ephemeral_;
    bind_owned_ |= owned;
  }

  ProtocolAnalysis finish(size_t top) {
    // B's bounds: what is certainly in it (LISTEN, bound-only: the sockets
    // collected first) and, when estimated, that plus every port a
    // connection may have taken by bind().
    const uint32_t known_bind_owned = bind_owned_.count_in(ephemeral_);
    if (!exact_bind_state_) {
      apply_bind_state_estimate();
    }
    ProtocolAnalysis result;
    result.protocol = protocol_;
    result.range = host_.range(protocol_);
    result.capacity = ephemeral_.size();
    result.capacity_guaranteed = rules_->guaranteed_capacity();
    result.bind_owned_ports = bind_owned_.count_in(ephemeral_);
    result.bind_owned_ports_min = exact_bind_state_ ? result.bind_owned_ports : known_bind_owned;
    PortSet most_bind_owned = bind_owned_;
    most_bind_owned |= bind_possible_;
    result.bind_owned_ports_max =
        exact_bind_state_ ? result.bind_owned_ports : most_bind_owned.count_in(ephemeral_);
    result.sockets = sockets_;
    result.states = states_;
    uint32_t free_new_destination = result.capacity - result.bind_owned_ports;
    const Bounds new_destination_bounds{result.capacity - result.bind_owned_ports_max,
                                        result.capacity - result.bind_owned_ports_min};

    std::vector<Address> addresses;
    addresses.reserve(exact_.size());
    for (const auto& [address, group] : exact_) {
      addresses.push_back(address);
    }
    // Configured addresses without a socket of their own get a row too.
    for (const Address& address : configured_.value_or(std::vector<Address>{})) {
      if (!exact_.contains(address)) {
        addresses.push_back(address);
      }
    }
    std::sort(addresses.begin(), addresses.end());
    for (const Address& address : addresses) {
      AddressRow row =
          address_row(address, result.capacity, free_new_destination, new_destination_bounds);
      row.own_sockets = exact_.contains(address);
      if (configured_) {
        row.configured = std::binary_search(configured_->begin(), configured_->end(), address);
      }
      result.addresses.push_back(row);
    }
    result.addresses.push_back(address_row(Address::any_v4(), result.capacity, free_new_destination,
                                           new_destination_bounds));
    result.addresses.push_back(address_row(Address::any_v6(), result.capacity, free_new_destination,
                                           new_destination_bounds));

    result.destination_count = destinations_.size();
    result.least_connect_free_min = shares_ports_ ? new_destination_bounds.min : 0;
    std::vector<DestinationRow> rows;
    rows.reserve(destinations_.size());
    for (const auto& [key, count] : destinations_) {
      DestinationRow row;
      row.local_address = key.local;
      row.remote_address = key.remote;
      row.remote_port = key.remote_port;
      row.in_use = count.in_use;
      row.time_wait = count.time_wait;
      row.time_wait_expiring = count.expiring;
      row.connect_free = less(free_new_destination, count.blocking);
      row.usage_percent = percent(result.capacity - row.connect_free, result.capacity);
      if (exact_bind_state_) {
        row.connect_free_min = row.connect_free_max = row.connect_free;
      } else {
        // At best B is only what is known, and each blocking socket blocks
        // one port of its own; at worst B holds every port bind() may have
        // taken, and only the sockets whose port connect() chose add theirs.
        row.connect_free_max = less(new_destination_bounds.max, count.blocking_outside_known);
        row.connect_free_min = less(new_destination_bounds.min, count.blocking_connect_chosen);
      }
      result.least_connect_free_min = std::min(result.least_connect_free_min, row.connect_free_min);
      rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end(), [](const DestinationRow& a, const DestinationRow& b) {
      if (a.connect_free != b.connect_free) {
        return a.connect_free < b.connect_free;
      }
      if (a.in_use != b.in_use) {
        return a.in_use > b.in_use;
      }
      return std::tie(a.local_address, a.remote_address, a.remote_port) <
             std::tie(b.local_address, b.remote_address, b.remote_port);
    });
    // Rows are worst first, so the first row seen for an address is its worst.
    std::unordered_map<Address, size_t, AddressHash> row_of_address;
    for (size_t i = 0; i < result.addresses.size(); ++i) {
      row_of_address.emplace(result.addresses[i].address, i);
    }
    for (const DestinationRow& row : rows) {
      auto found = row_of_address.find(row.local_address);
      if (found != row_of_address.end()) {
        AddressRow& address = result.addresses[found->second];
        if (!address.worst_destination) {
          address.worst_destination = row;
        }
      }
    }
    set_pressure(result, rows);
    if (top != 0 && rows.size() > top) {
      rows.resize(top);
    }
    result.destinations = std::move(rows);
    return result;
  }

 private:
  static void record(Footprint& footprint, const SocketRecord& socket, bool in_range,
                     bool expiring) {
    if (in_range) {
      ++footprint.states_in_range[static_cast<size_t>(socket.state)];
    }
    if (expiring) {
      if (!footprint.expiring) {
        footprint.expiring = std::make_unique<PortSet>();
      }
      footprint.expiring->insert(socket.local_port);
    } else {
      footprint.ports.insert(socket.local_port);
    }
    if (socket.state == SockState::listen) {
      footprint.listening.insert(socket.local_port);
    }
    footprint.pids.insert(socket.pids.begin(), socket.pids.end());
  }

  // A socket whose V6ONLY the model guessed: its groups by the guess, and
  // its port beside the groups it would take with either V6ONLY.
  void record_guessed(const SocketVerdict& verdict, const SocketRecord& socket, bool in_range,
                      bool expiring) {
    if (!guessed_) {
      guessed_ = std::make_unique<GuessedV6Only>();
    }
    for (size_t i = 0; i < kOverlapGroupCount; ++i) {
      if (verdict.groups[i]) {
        record(guessed_->groups[i], socket, in_range, expiring);
      }
    }
    // Few distinct pairs of masks exist (IPv6 clients, children, UDP): a
    // linear search.
    auto same_masks = [&](const GuessedPorts& entry) {
      return entry.by_guess == verdict.groups && entry.by_other == verdict.groups_other_v6only;
    };
    auto found = std::find_if(guessed_->ports.begin(), guessed_->ports.end(), same_masks);
    if (found == guessed_->ports.end()) {
      found = guessed_->ports.insert(found, {verdict.groups, verdict.groups_other_v6only, {}});
    }
    found->ports.insert(socket.local_port);
  }

  static bool overlaps(const OverlapMask& groups, const OverlapMask& mask) {
    for (size_t i = 0; i < kOverlapGroupCount; ++i) {
      if (groups[i] && mask[i]) {
        return true;
      }
    }
    return false;
  }

  // Without the exact bind state: the ports the model judges bind()'s join
  // B, and their connections stop counting against their destination.
  void apply_bind_state_estimate() {
    for (uint32_t tag : rules_->estimated_bind_owned(bind_owned_)) {
      const BindEstimateCandidate& candidate = estimate_candidates_[tag];
      bind_owned_.insert(candidate.port);
      if (candidate.blocking) {
        --candidate.group->blocking;  // its port now counts once, in B
        candidate.group->expiring -= candidate.expiring ? 1 : 0;
      }
    }
    estimate_candidates_.clear();
  }

  AddressRow address_row(const Address& address, uint32_t capacity, uint32_t free_new_destination,
                         const Bounds& new_destination) const {
    bool has_exact = false;
    OverlapMask mask = rules_->overlap_groups_for_bind(address, has_exact);
    PortSet used;
    PortSet listening;
    PidSet pids;
    std::unique_ptr<PortSet> expiring;
    // A socket sits in at most one of the groups merged here (its exact
    // address, or the one wildcard group of its kind), so adding the
    // groups' counts counts each socket once.
    StateCounts states{};
    auto merge = [&](const Footprint& footprint) {
      for (size_t i = 0; i < states.size(); ++i) {
        states[i] += footprint.states_in_range[i];
      }
      used |= footprint.ports;
      listening |= footprint.listening;
      pids.insert(footprint.pids.begin(), footprint.pids.end());
      if (footprint.expiring) {
        if (!expiring) {
          expiring = std::make_unique<PortSet>();
        }
        *expiring |= *footprint.expiring;
      }
    };
    if (has_exact) {
      auto found = exact_.find(address);
      if (found != exact_.end()) {
        merge(found->second);
      }
    }
    for (size_t i = 0; i < kOverlapGroupCount; ++i) {
      if (mask[i]) {
        merge(wildcard_groups_[i]);
      }
    }
    // Held whatever the guessed V6ONLY (bind_free_max's ports), and perhaps
    // (bind_free_min's): the sockets whose V6ONLY is known, and the guessed
    // ones that overlap the address with both values, or with one.
    std::optional<PortSet> held_surely;
    std::optional<PortSet> held_perhaps;
    if (guessed_) {
      held_surely = used;
      if (expiring) {
        *held_surely |= *expiring;
      }
      held_perhaps = *held_surely;
      for (size_t i = 0; i < kOverlapGroupCount; ++i) {
        if (mask[i]) {
          merge(guessed_->groups[i]);
        }
      }
      for (const GuessedPorts& entry : guessed_->ports) {
        const bool by_guess = overlaps(entry.by_guess, mask);
        const bool by_other = overlaps(entry.by_other, mask);
        if (by_guess && by_other) {
          *held_surely |= entry.ports;
        }
        if (by_guess || by_other) {
          *held_perhaps |= entry.ports;
        }
      }
    }
    AddressRow row;
    if (expiring) {
      // Ports that only expiring timewait sockets hold free themselves.
      PortSet also_held = *expiring;
      also_held &= used;
      row.time_wait_expiring = expiring->count_in(ephemeral_) - also_held.count_in(ephemeral_);
      used |= *expiring;
    }
    row.address = address;
    row.wildcard = address.is_wildcard();
    row.ports_in_use = used.count_in(ephemeral_);
    row.bind_free = capacity - row.ports_in_use;
    row.bind_free_min =
        held_perhaps ? capacity - held_perhaps->count_in(ephemeral_) : row.bind_free;
    row.bind_free_max = held_surely ? capacity - held_surely->count_in(ephemeral_) : row.bind_free;
    row.usage_percent = percent(row.ports_in_use, capacity);
    row.listening_ports = listening.size();
    row.pids = static_cast<uint32_t>(pids.size());
    row.connect_free_new_destination = shares_ports_ ? free_new_destination : 0;
    row.connect_free_new_destination_min = shares_ports_ ? new_destination.min : 0;
    row.connect_free_new_destination_max = shares_ports_ ? new_destination.max : 0;
    row.states = states;
    for (uint32_t count : states) {
      row.sockets += count;
    }
    return row;
  }

  // The pressure is the worst usage over every row; it names the most
  // specific row at it: the worst destination, else the first specific
  // address, else a wildcard (which counts the ports of every address).
  // `rows`: every destination, worst first.
  void set_pressure(ProtocolAnalysis& result, const std::vector<DestinationRow>& rows) const {
    auto destination_source = [](const DestinationRow& row) {
      return PressureSource{true, row.local_address, row.remote_address, row.remote_port};
    };
    std::optional<PressureSource> source;
    double pressure = 0;
    if (!rows.empty() && rows.front().usage_percent > 0) {
      pressure = rows.front().usage_percent;
      source = destination_source(rows.front());
    }
    for (int wildcards = 0; wildcards < 2; ++wildcards) {
      for (const AddressRow& address : result.addresses) {
        if (address.wildcard == (wildcards == 1) && address.usage_percent > pressure) {
          pressure = address.usage_percent;
          source = PressureSource{false, address.address, Address(), 0};
        }
      }
    }
    result.pressure_percent = pressure;
    result.pressure_source = source;
    // The worst case: a destination at its connect_free_min may go further.
    result.pressure_percent_max = pressure;
    result.pressure_source_max = source;
    for (const DestinationRow& row : rows) {
      double worst = percent(result.capacity - row.connect_free_min, result.capacity);
      if (worst > result.pressure_percent_max ||
          (worst == result.pressure_percent_max && worst > 0 &&
           !(result.pressure_source_max && result.pressure_source_max->destination))) {
        result.pressure_percent_max = worst;
        result.pressure_source_max = destination_source(row);
      }
    }
    // And an address at its bind_free_min (V6ONLY guessed), specific first.
    for (int wildcards = 0; wildcards < 2; ++wildcards) {
      for (const AddressRow& address : result.addresses) {
        double worst = percent(result.capacity - address.bind_free_min, result.capacity);
        if (address.wildcard == (wildcards == 1) && worst > result.pressure_percent_max) {
          result.pressure_percent_max = worst;
          result.pressure_source_max = PressureSource{false, address.address, Address(), 0};
        }
      }
    }
  }

  Protocol protocol_;
  const HostFacts& host_;
  std::unique_ptr<PortRules> rules_;
  const PortSet& ephemeral_;  // E
  bool shares_ports_;         // each destination has its own budget
  ProcessAttribution& attribution_;
  PortSet bind_owned_;  // B (TCP only)
  bool exact_bind_state_ = false;
  uint32_t expiry_window_ms_ = 0;                   // 0: count no expiring timewait sockets
  std::optional<std::vector<Address>> configured_;  // sorted; empty when not read
  std::vector<BindEstimateCandidate> estimate_candidates_;
  PortSet bind_possible_;  // ports of connections bind() may have chosen (estimate only)
  std::unordered_map<Address, Footprint, AddressHash> exact_;
  std::array<Footprint, kOverlapGroupCount> wildcard_groups_;
  // Sockets whose V6ONLY the model guessed (IPv6, not reported, no BPF);
  // allocated with the first one.
  struct GuessedPorts {
    OverlapMask by_guess{};  // the groups of these sockets by the guess
    OverlapMask by_other{};  // and with the other V6ONLY
    PortSet ports;
  };
  struct GuessedV6Only {
    std::array<Footprint, kOverlapGroupCount> groups;  // by the guess
    std::vector<GuessedPorts> ports;                   // by their two masks
  };
  std::unique_ptr<GuessedV6Only> guessed_;
  std::unordered_map<DestinationKey, DestinationCount, DestinationKeyHash> destinations_;
  uint64_t sockets_ = 0;
  StateCounts states_{};
};

Aggregator::Aggregator(const HostFacts& host, const OwnerScan* owners)
    : host_(host),
      owners_(owners != nullptr ? std::optional<OwnerScan>(*owners) : std::nullopt),
      attribution_(owners != nullptr),
      tcp_(std::make_unique<ProtocolPass>(Protocol::tcp, host_, attribution_)),
      udp_(std::make_unique<ProtocolPass>(Protocol::udp, host_, attribution_)) {}

Aggregator::~Aggregator() = default;

void Aggregator::use_exact_bind_state(const PortSet& bind_owned) {
  tcp_->use_exact_bind_state(bind_owned);
  bind_state_exact_ = true;
}

void Aggregator::set_expiry_window_ms(uint32_t window_ms) {
  expiry_window_ms_ = window_ms;
  tcp_->set_expiry_window_ms(window_ms);
}

void Aggregator::add_configured_addresses(const std::vector<Address>& addresses) {
  tcp_->add_configured_addresses(addresses);
  udp_->add_configured_addresses(addresses);
}

void Aggregator::add(const SocketRecord& socket) {
  (socket.protocol == Protocol::tcp ? *tcp_ : *udp_).add(socket);
}

Analysis Aggregator::finish(size_t top) {
  Analysis analysis;
  analysis.host = host_;
  analysis.tcp = tcp_->finish(top);
  analysis.udp = udp_->finish(top);
  analysis.tcp.unowned = attribution_.finish_unowned(top);
  analysis.bind_state = bind_state_exact_ ? BindState::exact : BindState::estimated;
  analysis.expiry_window_ms = expiry_window_ms_;
  if (owners_) {
    analysis.owners.resolved = true;
    analysis.owners.method = owners_->method;
    analysis.owners.processes_scanned = owners_->processes_scanned;
    analysis.owners.processes_unreadable = owners_->processes_unreadable;
    analysis.owners.sockets_unattributed = attribution_.unattributed();
    // An unreadable process matters only if a socket here lost its owner:
    // with --netns all (one scan for the host) or as non-root, most
    // unreadable processes hold no socket of this namespace.
    analysis.owners.complete =
        owners_->processes_unreadable == 0 || analysis.owners.sockets_unattributed == 0;
    analysis.processes = attribution_.finish_processes();
  }
  return analysis;
}

}  // namespace ephport
