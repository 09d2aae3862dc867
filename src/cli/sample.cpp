#include "cli/sample.h"

#include <charconv>
#include <optional>

#include "analyze/aggregator.h"
#include "collect/import/capture_file.h"
#include "collect/owners.h"
#include "util/error.h"

namespace ephport {

Analysis take_sample(const SampleOptions& options, CaptureWriter* save) {
  HostFacts host = read_host_facts(options.collect.proc_root);
  host.netns = options.netns;
  host.source = options.collect.source == Source::procfs ? "procfs" : "netlink";
  if (options.range) {
    host.range = *options.range;
  }
  std::optional<OwnerTable> owners;
  if (options.owners) {
    owners = OwnerTable::scan(options.collect.proc_root);
  }
  Aggregator aggregator(host, owners ? &*owners : nullptr);
  if (save != nullptr) {
    save->write_host(host, owners ? &*owners : nullptr);
  }
  std::string source = collect_sockets(options.collect, [&](const SocketRecord& socket) {
    aggregator.add(socket);
    if (save != nullptr) {
      save->add(socket);
    }
  });
  Analysis analysis = aggregator.finish(options.top);
  analysis.host.source = source;
  analysis.has_tcp = options.collect.tcp;
  analysis.has_udp = options.collect.udp;
  return analysis;
}

Analysis analyze_capture(const std::string& path, const SampleOptions& options) {
  std::optional<Aggregator> aggregator;
  CaptureOwners owners;
  read_capture(
      path,
      [&](const HostFacts& recorded) {
        HostFacts host = recorded;
        if (options.range) {
          host.range = *options.range;
        }
        aggregator.emplace(host, owners.resolved ? &owners.table : nullptr);
      },
      [&](const SocketRecord& socket) {
        if ((socket.protocol == Protocol::tcp && options.collect.tcp) ||
            (socket.protocol == Protocol::udp && options.collect.udp)) {
          aggregator->add(socket);
        }
      },
      &owners);
  Analysis analysis = aggregator->finish(options.top);
  analysis.has_tcp = options.collect.tcp;
  analysis.has_udp = options.collect.udp;
  return analysis;
}

PortRange parse_port_range(const std::string& text, const std::string& what) {
  auto dash = text.find('-');
  auto number = [&](std::string_view part) -> std::optional<uint32_t> {
    uint32_t value = 0;
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (error != std::errc() || end != part.data() + part.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    return value;
  };
  if (dash != std::string::npos) {
    std::string_view all(text);
    auto first = number(all.substr(0, dash));
    auto last = number(all.substr(dash + 1));
    if (first && last && *first <= *last) {
      return {static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
    }
  }
  throw InputError(what + ": '" + text +
                   "' is not a port range; expected FIRST-LAST with 1 <= FIRST <= LAST <= 65535");
}

}  // namespace ephport
