/* One record per socket file descriptor, written by socket_owners.bpf.c with
 * bpf_seq_write() and read back by socket_owners_reader.cpp: the only layout
 * both sides share. Plain C, fixed size, no padding. The includer provides
 * the __u32/__u64 types (vmlinux.h on the BPF side, <linux/types.h> on the
 * C++ side). */
#ifndef EPHPORT_SOCKET_OWNER_RECORD_H
#define EPHPORT_SOCKET_OWNER_RECORD_H

struct socket_owner_record {
  __u64 inode; /* the socket's inode number: N of "socket:[N]" in /proc/PID/fd */
  __u32 pid;   /* the process (thread group) id in the reader's pid namespace */
  __u32 pad;   /* zero; keeps the size a multiple of the inode's alignment */
};

#endif
