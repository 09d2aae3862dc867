// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bpf_iter/tcp program: walks every TCP socket of the reading process's
 * network namespace (the kernel walks the netns of whoever called
 * bpf_iter_create()) and keeps what sock_diag cannot show, in its global
 * data: which ports have their bind bucket in bind() state, so that connect()
 * skips them for every destination (linux-port-rules.md, rule 2), and how
 * many sockets use SO_REUSEADDR, SO_REUSEPORT and IP_LOCAL_PORT_RANGE; and
 * the IPV6_V6ONLY of IPv6 sockets, which sock_diag reports only for LISTEN
 * and CLOSE ones (rule 7): connected clients, accepted children, TIME_WAIT.
 * A bpf_iter/udp program (at the end) reads UDP's V6ONLY the same way.
 *
 * Listening and established sockets are full sockets (bpf_skc_to_tcp_sock);
 * TIME_WAIT and orphaned FIN_WAIT2 are timewait sockets
 * (bpf_skc_to_tcp_timewait_sock); request sockets are skipped, they live on
 * their listener's port. Bound-only sockets are in no hash this iterator
 * walks. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TCP_NEW_SYN_RECV 12
#define AF_INET6 10

/* Walk state: the result itself, kept here rather than copied out socket by
 * socket (a 56-byte record each, copied to and folded by user space). User
 * space zeroes it through the skeleton's mapping before each walk and reads
 * it once the walk's read() returns 0 (bind_state_reader.cpp): one walk at a
 * time per loaded object. The program writes nothing to the seq_file, so no
 * socket is shown twice: a record that did not fit in the seq_file buffer
 * would be, after its counts were taken. */
__u64 bind_ports[65536 / 64]; /* bit p % 64 of word p / 64: port p in bind() state */
__u64 sockets_walked;         /* full and timewait sockets, request sockets not */
__u64 reuseaddr_sockets;      /* skc_reuse != 0: SO_REUSEADDR (1) or forced (2) */
__u64 reuseport_sockets;      /* skc_reuseport: SO_REUSEPORT */
__u64 port_range_sockets;     /* full sockets with an IP_LOCAL_PORT_RANGE */
/* V6ONLY (skc_ipv6only, which is tw_ipv6only for a timewait socket) of the
 * IPv6 sockets on a real (not v4-mapped) address: bit p of v6only_ports when
 * one such socket on port p has it set, of dual_stack_ports when one has it
 * clear. */
__u64 v6only_ports[65536 / 64];
__u64 dual_stack_ports[65536 / 64];
/* The same for UDP (dump_udp_v6only): sock_diag reports no SKV6ONLY for a
 * connected UDP socket (state ESTABLISHED). */
__u64 udp_v6only_ports[65536 / 64];
__u64 udp_dual_stack_ports[65536 / 64];

/* Fields that only recent kernels have, as local flavours: this file builds
 * against any vmlinux.h, and CO-RE reports at load time whether the running
 * kernel has them. */
struct inet_sock___port_range { /* 6.8 and later: one u32, lo | hi << 16 */
  __u32 local_port_range;
} __attribute__((preserve_access_index));

struct inet_sock___port_range_pair { /* 6.3 to 6.7: { u16 lo; u16 hi; } */
  struct {
    __u16 lo;
    __u16 hi;
  } local_port_range;
} __attribute__((preserve_access_index));

/* IP_LOCAL_PORT_RANGE of a full socket as lo | hi << 16, 0 when unset (or
 * when the kernel predates it). */
static __always_inline __u32 read_port_range(struct tcp_sock *tp) {
  struct inet_sock___port_range *inet = (void *)tp;
  struct inet_sock___port_range_pair *inet_pair = (void *)tp;

  if (bpf_core_field_exists(inet->local_port_range)) return inet->local_port_range;
  if (bpf_core_field_exists(inet_pair->local_port_range))
    return inet_pair->local_port_range.lo | (__u32)inet_pair->local_port_range.hi << 16;
  return 0;
}

/* IPv6 on a real address: which of the two port bitmaps the socket's port
 * joins. Listeners too (sock_diag reports their V6ONLY, /proc/net does not;
 * their children inherit it). A v4-mapped socket is IPv4 to the allocator,
 * and never V6ONLY. */
static __always_inline void note_v6only(struct sock_common *skc, __u64 *v6only, __u64 *dual) {
  __u16 port = skc->skc_num;
  __u64 bit = 1ULL << (port % 64);

  if (skc->skc_family != AF_INET6) return;
  if (skc->skc_v6_rcv_saddr.in6_u.u6_addr32[0] == 0 &&
      skc->skc_v6_rcv_saddr.in6_u.u6_addr32[1] == 0 &&
      skc->skc_v6_rcv_saddr.in6_u.u6_addr32[2] == bpf_htonl(0x0000ffff))
    return;
  if (BPF_CORE_READ_BITFIELD(skc, skc_ipv6only))
    v6only[port / 64] |= bit;
  else
    dual[port / 64] |= bit;
}

/* Direct loads through the BTF-typed pointers rather than
 * bpf_probe_read_kernel() (BPF_CORE_READ): this runs for every TCP socket,
 * and the helper calls took about a quarter of the walk's CPU time. CO-RE
 * relocates them all the same (vmlinux.h types are preserve_access_index),
 * and the verifier makes loads through pointers read from the socket
 * fault-safe (a NULL bucket would read as fastreuse 0: hence the test). */
SEC("iter/tcp")
int dump_bind_state(struct bpf_iter__tcp *ctx) {
  struct sock_common *skc = ctx->sk_common;
  struct inet_bind_bucket *tb;
  struct tcp_timewait_sock *ttw;
  struct tcp_sock *tp;
  __u16 port;
  __u64 bit;

  if (!skc) return 0; /* the final call, after the last socket */
  if (skc->skc_state == TCP_NEW_SYN_RECV) return 0;
  note_v6only(skc, v6only_ports, dual_stack_ports);

  tp = bpf_skc_to_tcp_sock(skc);
  if (tp) {
    tb = tp->inet_conn.icsk_bind_hash;
    if (read_port_range(tp)) port_range_sockets++;
  } else {
    ttw = bpf_skc_to_tcp_timewait_sock(skc);
    if (!ttw) return 0;
    tb = ttw->tw_sk.tw_tb;
  }
  sockets_walked++;
  if (BPF_CORE_READ_BITFIELD(skc, skc_reuse)) reuseaddr_sockets++;
  if (BPF_CORE_READ_BITFIELD(skc, skc_reuseport)) reuseport_sockets++;

  /* A socket being torn down may already have left its bucket: no state
   * then. A port already marked needs no look at its bucket, which is a
   * cache miss of its own (an accepted child shares its listener's). */
  if (!tb) return 0;
  port = skc->skc_num;
  bit = 1ULL << (port % 64);
  if (bind_ports[port / 64] & bit) return 0;
  if (tb->fastreuse >= 0 || tb->fastreuseport >= 0) bind_ports[port / 64] |= bit;
  return 0;
}

/* bpf_iter/udp: the V6ONLY of every UDP socket of the netns, into the UDP
 * bitmaps; nothing else (UDP has no bind buckets). Walked after the TCP
 * program, by the same read_bind_state(). */
SEC("iter/udp")
int dump_udp_v6only(struct bpf_iter__udp *ctx) {
  struct udp_sock *udp = ctx->udp_sk;

  if (!udp) return 0;
  note_v6only(&udp->inet.sk.__sk_common, udp_v6only_ports, udp_dual_stack_ports);
  return 0;
}
