/* One record per TCP socket, written by bind_state.bpf.c with bpf_seq_write()
 * and read back by bind_state_reader.cpp: the only layout both sides share.
 * Plain C, fixed size, no padding. The includer provides the __u8.. types
 * (vmlinux.h on the BPF side, <linux/types.h> on the C++ side). */
#ifndef EPHPORT_BIND_STATE_RECORD_H
#define EPHPORT_BIND_STATE_RECORD_H

/* flags */
#define BSR_TIME_WAIT 0x01          /* a timewait socket (state = tw_substate) */
#define BSR_BUCKET 0x02             /* the bind bucket was readable: fastreuse* are valid */
#define BSR_BIND_STATE 0x04         /* bucket fastreuse >= 0 || fastreuseport >= 0 */
#define BSR_CONNECT_BIND_KNOWN 0x08 /* kernel has SOCK_CONNECT_BIND / tw_connect_bind (>= 6.18) */
#define BSR_CONNECT_BIND 0x10       /* the socket's port came from connect() (>= 6.18) */
#define BSR_PORT_RANGE_KNOWN 0x20   /* kernel has inet_sock.local_port_range (>= 6.3) */

#define BSR_SOCK_CONNECT_BIND 0x10 /* SOCK_CONNECT_BIND in sk_userlocks (>= 6.18) */

struct bind_state_record {
  __u8 local_addr[16]; /* IPv4: first 4 bytes, rest zero; network order */
  __u8 remote_addr[16];
  __s32 bound_dev_if;     /* SO_BINDTODEVICE ifindex, 0 = none */
  __u32 local_port_range; /* IP_LOCAL_PORT_RANGE: lo | hi << 16, 0 = unset */
  __u16 family;           /* AF_INET or AF_INET6 */
  __u16 local_port;       /* host order */
  __u16 remote_port;      /* host order */
  __u8 state;             /* TCP_* (TIME_WAIT sockets: their substate, 5 or 6) */
  __u8 userlocks;         /* sk_userlocks (full sockets only) */
  __s8 fastreuse;         /* bind bucket, valid with BSR_BUCKET */
  __s8 fastreuseport;
  __u8 reuse;     /* skc_reuse: SO_REUSEADDR (1), forced (2) */
  __u8 reuseport; /* skc_reuseport: SO_REUSEPORT */
  __u8 flags;     /* BSR_* */
  __u8 pad[3];
};

#endif
