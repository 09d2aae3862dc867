#include "collect/linux/sysctl.h"

#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "collect/collector.h"
#include "collect/linux/proc_file.h"
#include "snapshot/port_range_parse.h"
#include "util/error.h"
#include "util/parse_number.h"
#include "util/strings.h"

namespace ephport {

namespace {

std::string sysctl_path(const std::string& proc_root, std::string_view name) {
  return fmt::format("{}/sys/{}", proc_root, name);
}

// Applies `parse` to the file's content; a file the host cannot do without,
// so a parse error is fatal, naming the file.
template <typename Parse>
auto parse_file(const std::string& path, const std::string& content, Parse parse) {
  auto result = parse(content);
  if (!result.ok()) {
    throw RuntimeError(fmt::format("unexpected content in {}: {}", path, result.error().message));
  }
  return std::move(result).value();
}

int read_int(const std::string& proc_root, std::string_view name) {
  const std::string path = sysctl_path(proc_root, name);
  return parse_file(path, read_proc_file(path), parse_sysctl_int);
}

std::optional<int> read_optional_int(const std::string& proc_root, std::string_view name) {
  const std::string path = sysctl_path(proc_root, name);
  std::optional<std::string> content = read_proc_file_if_exists(path);
  if (!content) {
    return std::nullopt;
  }
  return parse_file(path, *content, parse_sysctl_int);
}

// The UTS hostname; <proc_root>/sys/kernel/hostname first, so fixture trees
// carry their own.
std::string read_hostname(const std::string& proc_root) {
  std::optional<std::string> content =
      read_proc_file_if_exists(sysctl_path(proc_root, "kernel/hostname"));
  if (content && !trim(*content).empty()) {
    return std::string(trim(*content));
  }
  utsname names{};
  if (uname(&names) == 0) {
    return names.nodename;
  }
  return "";
}

}  // namespace

Result<PortRange> parse_port_range(std::string_view content) {
  return parse_blank_separated_port_range(content);
}

Result<std::vector<PortRange>> parse_port_list(std::string_view content) {
  std::vector<PortRange> ranges;
  std::string_view text = trim(content);
  if (text.empty()) {
    return ranges;
  }
  for (;;) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    if (item.empty()) {
      return Error{"empty element in port list"};
    }
    size_t dash = item.find('-');
    Result<uint16_t> first = parse_port_number(trim(item.substr(0, dash)), 0);
    if (!first.ok()) {
      return first.error();
    }
    PortRange range{first.value(), first.value()};
    if (dash != std::string_view::npos) {
      Result<uint16_t> last = parse_port_number(trim(item.substr(dash + 1)), 0);
      if (!last.ok()) {
        return last.error();
      }
      range.last = last.value();
      if (range.first > range.last) {
        return Error{fmt::format("range {} ends before it starts", item)};
      }
    }
    ranges.push_back(range);
    if (comma == std::string_view::npos) {
      return ranges;
    }
    text = text.substr(comma + 1);
  }
}

Result<int> parse_sysctl_int(std::string_view content) {
  Result<int64_t> number = parse_integer_in_range(trim(content), INT32_MIN, INT32_MAX, "number");
  if (!number.ok()) {
    return number.error();
  }
  return static_cast<int>(number.value());
}

HostFacts read_host_facts(const std::string& proc_root) {
  HostFacts facts;
  facts.computer = read_hostname(proc_root);
  facts.time = std::chrono::system_clock::now();

  const std::string range_path = sysctl_path(proc_root, "net/ipv4/ip_local_port_range");
  facts.platform = Platform::linux_kernel;
  facts.set_range(parse_file(range_path, read_proc_file(range_path), parse_port_range));
  const std::string reserved_path = sysctl_path(proc_root, "net/ipv4/ip_local_reserved_ports");
  facts.set_reserved(parse_file(reserved_path, read_proc_file(reserved_path), parse_port_list));

  LinuxSysctls& sysctls = facts.linux_sysctls;
  sysctls.tcp_tw_reuse = read_int(proc_root, "net/ipv4/tcp_tw_reuse");
  sysctls.tcp_tw_reuse_delay_ms = read_optional_int(proc_root, "net/ipv4/tcp_tw_reuse_delay");
  sysctls.tcp_timestamps = read_int(proc_root, "net/ipv4/tcp_timestamps");
  sysctls.tcp_fin_timeout = read_int(proc_root, "net/ipv4/tcp_fin_timeout");
  // Added in Linux 5.4; before it, the behaviour of 0.
  sysctls.ip_autobind_reuse =
      read_optional_int(proc_root, "net/ipv4/ip_autobind_reuse").value_or(0);
  // Absent when IPv6 is disabled: no IPv6 socket can exist to be v6only.
  sysctls.bindv6only = read_optional_int(proc_root, "net/ipv6/bindv6only").value_or(0);
  return facts;
}

}  // namespace ephport

namespace ephport {

std::vector<std::pair<std::string, std::string>> read_evidence_sysctls(
    const std::string& proc_root) {
  static constexpr const char* kNames[] = {
      "net.ipv4.ip_local_port_range",
      "net.ipv4.ip_local_reserved_ports",
      "net.ipv4.ip_autobind_reuse",
      "net.ipv4.tcp_tw_reuse",
      "net.ipv4.tcp_tw_reuse_delay",
      "net.ipv4.tcp_timestamps",
      "net.ipv4.tcp_fin_timeout",
      "net.ipv4.tcp_max_tw_buckets",
      "net.ipv4.tcp_max_orphans",
      "net.ipv4.tcp_orphan_retries",
      "net.ipv4.tcp_syn_retries",
      "net.ipv4.tcp_max_syn_backlog",
      "net.ipv6.bindv6only",
      "net.core.somaxconn",
      "net.netfilter.nf_conntrack_max",
      "net.netfilter.nf_conntrack_count",
      "fs.file-max",
      "fs.file-nr",
      "fs.nr_open",
  };
  std::vector<std::pair<std::string, std::string>> values;
  for (const char* name : kNames) {
    std::string relative = name;
    std::replace(relative.begin(), relative.end(), '.', '/');  // net.ipv4.x -> net/ipv4/x
    std::string path = proc_root;
    path.append("/sys/").append(relative);
    std::optional<std::string> content;
    try {
      content = read_proc_file_if_exists(path);
    } catch (const RuntimeError&) {
      continue;  // unreadable here (a sandbox); evidence is best effort
    }
    if (content) {
      while (!content->empty() && (content->back() == '\n' || content->back() == ' ')) {
        content->pop_back();
      }
      values.emplace_back(name, *content);
    }
  }
  return values;
}

}  // namespace ephport
