// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* iter/task_file program: one socket_owner_record per socket file descriptor
 * of every process of the reader's pid namespace (the kernel walks the pid
 * namespace of whoever called bpf_iter_create()): the inode -> pid pairs that
 * /proc/PID/fd shows as "socket:[N]" links, without a readdir() per process
 * and a readlink() per descriptor.
 *
 * The kernel runs the program for every open file of every task, in task id
 * order, one task's files after another. It skips a thread that shares its
 * leader's file table (task_seq_get_next() with skip_if_dup_files), so a
 * process's table is walked once. A thread with a table of its own (after
 * unshare(CLONE_FILES)) is walked too, its sockets reported under its
 * process's id; /proc/PID/fd shows only the leader's table.
 *
 * Pids: task->tgid is the id in the initial pid namespace. The reader sees
 * the id at its own namespace's level, numbers[level].nr of the process's
 * struct pid, where level is that of the reading task (current: read() runs
 * the program), whose namespace is the one the iterator walks. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "socket_owner_record.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT 0170000
#define S_IFSOCK 0140000

/* Walk state, reset at the walk's first file (seq_num 0). It outlives one run
 * of the program because a task's files come one after another: the process
 * id is computed once per task. A file shown again (its record did not fit in
 * the seq_file buffer, so the next read() starts with it) belongs to the same
 * task, so nothing is counted twice. One walk at a time per loaded program. */
__u32 walk_tid;         /* the task whose files are being walked (global tid) */
__u32 walk_pid;         /* its process id at the reader's level; 0: not visible */
__u32 processes_walked; /* thread group leaders walked; user space reads it after EOF */

/* The process (thread group) id of `task` as the reader's pid namespace
 * numbers it, or 0. */
static __always_inline __u32 process_id(struct task_struct *task) {
  struct task_struct *reader = bpf_get_current_task_btf();
  unsigned int level = reader->thread_pid->level;
  struct pid *pid = task->group_leader->thread_pid;
  struct upid upid = {};

  /* An exiting task may have dropped its pid already; a pid numbered only
   * above the reader's level is not visible there (the walk never yields one). */
  if (!pid || level > pid->level) return 0;
  /* numbers[] is indexed by level: a variable offset, so a probe read. */
  bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);
  return upid.nr;
}

SEC("iter/task_file")
int dump_socket_owners(struct bpf_iter__task_file *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  struct file *file = ctx->file;
  struct socket_owner_record r = {};
  struct inode *inode;

  if (!task || !file) return 0; /* the final call, after the last file */
  if (ctx->meta->seq_num == 0) {
    walk_tid = 0;
    processes_walked = 0;
  }
  if (task->pid != walk_tid) {
    walk_tid = task->pid;
    walk_pid = process_id(task);
    if (task == task->group_leader) processes_walked++;
  }
  /* Direct loads through the BTF-typed pointers rather than
   * bpf_probe_read_kernel(): this runs for every open file of the system,
   * and CO-RE relocates them all the same (vmlinux.h types are
   * preserve_access_index). */
  inode = file->f_inode;
  if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK || !walk_pid) return 0;
  r.inode = inode->i_ino;
  r.pid = walk_pid;
  bpf_seq_write(seq, &r, sizeof(r));
  return 0;
}
