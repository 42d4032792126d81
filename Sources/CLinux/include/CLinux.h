// CLinux.h: the Linux headers Glibc's Swift module does not export.
// Swift imports these declarations directly; epoll_event keeps its packed layout (use the imported type).
#ifndef CLINUX_H
#define CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

// accept4(2) is a GNU extension: glibc declares it only under _GNU_SOURCE, and Swift's Glibc module is
// built without it. The function is in every glibc since 2.10; this line only makes it visible.
int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

#include <spawn.h>

// The same for posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the spawned child closes every
// descriptor from `from` up, so it inherits none the parent forgot to mark close-on-exec.
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

#include <sched.h>

// The same for sched_setaffinity (a GNU extension): `make bench` pins the server and the load
// generator to different CPUs, so that their placement is the same in every run.
int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);

#endif
