// CLinux.h: the Linux headers Glibc's Swift module does not export.
// Swift imports these declarations directly; epoll_event keeps its packed layout (use the imported type).
#ifndef CLINUX_H
#define CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>

#endif
