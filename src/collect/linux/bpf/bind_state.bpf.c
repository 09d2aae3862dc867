// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* bpf_iter/tcp program: one bind_state_record per TCP socket of the reading
 * process's network namespace (the kernel walks the netns of whoever called
 * bpf_iter_create()). It reports what sock_diag cannot show: whether the
 * socket's bind bucket is in bind() state, so that connect() skips the port
 * for every destination (linux-port-rules.md, rule 2), plus SO_REUSEADDR,
 * SO_REUSEPORT and IP_LOCAL_PORT_RANGE.
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

#include "bind_state_record.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define TCP_NEW_SYN_RECV 12

/* Fields that only recent kernels have, as local flavours: this file builds
 * against any vmlinux.h, and CO-RE reports at load time whether the running
 * kernel has them. */
struct inet_timewait_sock___connect_bind { /* 6.18: d57f4b874946 */
  unsigned int tw_connect_bind : 1;
} __attribute__((preserve_access_index));

struct inet_sock___port_range { /* 6.8 and later: one u32, lo | hi << 16 */
  __u32 local_port_range;
} __attribute__((preserve_access_index));

struct inet_sock___port_range_pair { /* 6.3 to 6.7: { u16 lo; u16 hi; } */
  struct {
    __u16 lo;
    __u16 hi;
  } local_port_range;
} __attribute__((preserve_access_index));

static __always_inline void read_addresses(struct sock_common *skc, struct bind_state_record *r) {
  if (r->family == AF_INET) {
    __be32 local = BPF_CORE_READ(skc, skc_rcv_saddr);
    __be32 remote = BPF_CORE_READ(skc, skc_daddr);
    __builtin_memcpy(r->local_addr, &local, sizeof(local));
    __builtin_memcpy(r->remote_addr, &remote, sizeof(remote));
  } else if (r->family == AF_INET6 && bpf_core_field_exists(skc->skc_v6_rcv_saddr)) {
    bpf_core_read(r->local_addr, sizeof(r->local_addr), &skc->skc_v6_rcv_saddr);
    bpf_core_read(r->remote_addr, sizeof(r->remote_addr), &skc->skc_v6_daddr);
  }
}

/* sk_userlocks, IP_LOCAL_PORT_RANGE and the bucket of a full socket. */
static __always_inline struct inet_bind_bucket *read_full_socket(struct tcp_sock *tp,
                                                                 struct bind_state_record *r) {
  struct sock *sk = (struct sock *)tp;
  struct inet_sock___port_range *inet = (void *)tp;
  struct inet_sock___port_range_pair *inet_pair = (void *)tp;

  r->userlocks = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks);
  if (bpf_core_field_exists(struct inet_timewait_sock___connect_bind, tw_connect_bind)) {
    r->flags |= BSR_CONNECT_BIND_KNOWN;
    if (r->userlocks & BSR_SOCK_CONNECT_BIND) r->flags |= BSR_CONNECT_BIND;
  }
  if (bpf_core_field_exists(inet->local_port_range)) {
    r->flags |= BSR_PORT_RANGE_KNOWN;
    r->local_port_range = BPF_CORE_READ(inet, local_port_range);
  } else if (bpf_core_field_exists(inet_pair->local_port_range)) {
    r->flags |= BSR_PORT_RANGE_KNOWN;
    bpf_core_read(&r->local_port_range, sizeof(r->local_port_range),
                  &inet_pair->local_port_range);
  }
  return BPF_CORE_READ(tp, inet_conn.icsk_bind_hash);
}

/* tw_substate, tw_connect_bind and the bucket of a timewait socket. */
static __always_inline struct inet_bind_bucket *read_timewait_socket(
    struct tcp_timewait_sock *ttw, struct bind_state_record *r) {
  struct inet_timewait_sock___connect_bind *tw = (void *)&ttw->tw_sk;

  r->flags |= BSR_TIME_WAIT;
  r->state = BPF_CORE_READ(ttw, tw_sk.tw_substate);
  if (bpf_core_field_exists(tw->tw_connect_bind)) {
    r->flags |= BSR_CONNECT_BIND_KNOWN;
    if (BPF_CORE_READ_BITFIELD_PROBED(tw, tw_connect_bind)) r->flags |= BSR_CONNECT_BIND;
  }
  return BPF_CORE_READ(ttw, tw_sk.tw_tb);
}

SEC("iter/tcp")
int dump_bind_state(struct bpf_iter__tcp *ctx) {
  struct sock_common *skc = ctx->sk_common;
  struct seq_file *seq = ctx->meta->seq;
  struct bind_state_record r = {};
  struct inet_bind_bucket *tb = NULL;
  struct tcp_timewait_sock *ttw;
  struct tcp_sock *tp;

  if (!skc) return 0; /* the final call, after the last socket */
  r.state = BPF_CORE_READ(skc, skc_state);
  if (r.state == TCP_NEW_SYN_RECV) return 0;
  r.family = BPF_CORE_READ(skc, skc_family);
  r.local_port = BPF_CORE_READ(skc, skc_num);
  r.remote_port = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
  r.bound_dev_if = BPF_CORE_READ(skc, skc_bound_dev_if);
  r.reuse = BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuse);
  r.reuseport = BPF_CORE_READ_BITFIELD_PROBED(skc, skc_reuseport);
  read_addresses(skc, &r);

  tp = bpf_skc_to_tcp_sock(skc);
  if (tp) {
    tb = read_full_socket(tp, &r);
  } else {
    ttw = bpf_skc_to_tcp_timewait_sock(skc);
    if (!ttw) return 0;
    tb = read_timewait_socket(ttw, &r);
  }
  /* A socket being torn down may already have left its bucket: no state
   * then, rather than reading fastreuse 0 from a NULL pointer. */
  if (tb) {
    r.fastreuse = BPF_CORE_READ(tb, fastreuse);
    r.fastreuseport = BPF_CORE_READ(tb, fastreuseport);
    r.flags |= BSR_BUCKET;
    if (r.fastreuse >= 0 || r.fastreuseport >= 0) r.flags |= BSR_BIND_STATE;
  }
  bpf_seq_write(seq, &r, sizeof(r));
  return 0;
}
