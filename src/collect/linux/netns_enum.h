#pragma once
// Every network namespace of the host (`--netns all`): the distinct
// namespaces of the processes under <proc_root>, plus every `ip netns` name,
// each with who lives in it (container, pod, systemd unit, from the cgroups
// of its processes).
//
// Namespaces are told apart by the text of their /proc/PID/ns/net link,
// "net:[INODE]": the nsfs inode, unique on the host (nsfs is one
// superblock). readlink() works on the kernel's magic links and on the
// plain symlinks of a fixture tree alike. The parsers are pure: they take
// text, so tests feed them fixture lines.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/host_facts.h"

namespace ephport {

// "net:[4026531840]" -> 4026531840; anything else -> nullopt.
std::optional<uint64_t> parse_netns_link(std::string_view link);

// Who a process is, from the content of /proc/PID/cgroup (v1 or v2). Empty
// fields when nothing is recognised.
struct CgroupIdentity {
  std::string runtime;    // "docker", "containerd", "cri-o", "podman", "lxc", "" if unknown
  std::string container;  // container id (an lxc container's name)
  std::string pod;        // Kubernetes pod UID, with dashes
  std::string unit;       // innermost systemd `.service`
  bool operator==(const CgroupIdentity&) const = default;
};
CgroupIdentity parse_cgroup_identity(std::string_view cgroup_file);

struct NetnsEnumeration {
  std::vector<NetnsIdentity> namespaces;  // ordered by inode
  // Processes whose ns/net link was refused (other users' without root):
  // a namespace used only by them is missing.
  uint64_t processes_unreadable = 0;
};

// Lists the namespaces of <proc_root>/*/ns/net and <run_netns_dir>/* (the
// `ip netns` names, normally /run/netns). A namespace's identity is what
// every one of its processes whose cgroup could be read agrees on: a pod's
// containers share the pod, not a container id; the host namespace, full
// of different services, gets none. Processes and names that vanish while
// listing are skipped; a /run/netns file that is no namespace (left behind,
// unmounted) is skipped. Throws RuntimeError if <proc_root> cannot be read.
NetnsEnumeration enumerate_netns(const std::string& proc_root,
                                 const std::string& run_netns_dir = "/run/netns");

}  // namespace ephport
