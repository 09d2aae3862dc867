#include "model/port_rules.h"

#include <fmt/format.h>

#include "model/linux_rules.h"
#include "util/error.h"

namespace ephport {

std::unique_ptr<PortRules> make_port_rules(const HostFacts& host, Protocol protocol) {
  switch (host.platform) {
    case Platform::linux_kernel:
      return std::make_unique<LinuxPortRules>(host, protocol);
    case Platform::windows:
      break;
  }
  throw InputError(
      fmt::format("{} snapshot: this build has no port rules for that platform (only linux)",
                  platform_name(host.platform)));
}

}  // namespace ephport
