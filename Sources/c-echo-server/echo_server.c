// echo_server.c: the C reference for `make bench`: a minimal non-blocking epoll echo server.
//
// One thread, level-triggered epoll, one 64 KiB read buffer shared by every connection. It echoes
// bytes, so it echoes the workbook's frames unchanged without parsing them (it does not enforce
// --max-frame: it is a yardstick for speed, not a conforming server). A connection owns memory only
// while the kernel would not take all of its echo: then the rest waits in a malloc'd buffer, EPOLLOUT
// is armed, and reading from that peer stops until the buffer is sent. This is the shape of the
// Swift stages' TCPConnection, without the framing; read it beside chapter 3.
//
// Usage: c-echo-server [--host 127.0.0.1] [--port 7777]   (port 0 picks one; the ready line says which)
#define _GNU_SOURCE   // accept4
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

// What a connection still owes its peer: bytes the kernel's send buffer had no room for.
struct pending {
    size_t length;
    size_t sent;
    char bytes[];
};

static struct pending **pending_by_fd;   // indexed by fd; NULL for (almost) every connection
static int epoll_fd;

static void die(const char *what) {
    fprintf(stderr, "c-echo-server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void set_interest(int fd, uint32_t events) {
    struct epoll_event event = { .events = events, .data.fd = fd };
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event) < 0) die("epoll_ctl(MOD)");
}

static void close_connection(int fd) {
    free(pending_by_fd[fd]);
    pending_by_fd[fd] = NULL;
    close(fd);   // also removes fd from the epoll set: no other descriptor refers to this socket
}

// Sends bytes[0..<length] and keeps what the kernel did not take. Returns 0, or -1 if fd was closed.
static int send_or_keep(int fd, const char *bytes, size_t length) {
    ssize_t n = send(fd, bytes, length, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) { close_connection(fd); return -1; }
        n = 0;
    }
    if ((size_t)n == length) return 0;
    struct pending *rest = malloc(sizeof *rest + length - n);
    if (rest == NULL) die("malloc");
    rest->length = length - n;
    rest->sent = 0;
    memcpy(rest->bytes, bytes + n, rest->length);
    pending_by_fd[fd] = rest;
    set_interest(fd, EPOLLOUT);   // stop reading this peer until it takes what we owe it
    return 0;
}

static void on_writable(int fd) {
    struct pending *rest = pending_by_fd[fd];
    ssize_t n = send(fd, rest->bytes + rest->sent, rest->length - rest->sent, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) close_connection(fd);
        return;
    }
    rest->sent += (size_t)n;
    if (rest->sent < rest->length) return;
    free(rest);
    pending_by_fd[fd] = NULL;
    set_interest(fd, EPOLLIN);
}

static void on_readable(int fd, char *buffer, size_t capacity) {
    ssize_t n = read(fd, buffer, capacity);
    if (n > 0) { send_or_keep(fd, buffer, (size_t)n); return; }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close_connection(fd);   // 0: the peer closed; < 0: reset or another error
}

static void on_acceptable(int listener, rlim_t max_fds) {
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            // EMFILE with a full backlog would wake us forever; the Swift stages shed the connection
            // with a spare fd (chapter 3). The reference only needs to survive the benchmarks.
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) perror("c-echo-server: accept4");
            return;
        }
        if ((rlim_t)fd >= max_fds) { close(fd); continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) die("epoll_ctl(ADD)");
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 7777;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) host = argv[++i];
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
        else { fprintf(stderr, "c-echo-server: unknown flag %s (usage: c-echo-server [--host H] [--port P])\n", argv[i]); return 2; }
    }
    signal(SIGPIPE, SIG_IGN);

    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0) die("getrlimit");
    pending_by_fd = calloc(limit.rlim_cur, sizeof *pending_by_fd);
    if (pending_by_fd == NULL) die("calloc");

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0) die("socket");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) { fprintf(stderr, "c-echo-server: bad --host %s\n", host); return 2; }
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) die("bind");
    if (listen(listener, SOMAXCONN) < 0) die("listen");
    socklen_t length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &length);

    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) die("epoll_create1");
    struct epoll_event event = { .events = EPOLLIN, .data.fd = listener };
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event) < 0) die("epoll_ctl(ADD listener)");

    printf("listening on %s:%d\n", host, ntohs(address.sin_port));
    fflush(stdout);   // into a pipe, stdout is block-buffered: the ready line must leave now

    static char buffer[64 * 1024];
    struct epoll_event events[256];
    for (;;) {
        int count = epoll_wait(epoll_fd, events, 256, -1);
        if (count < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        for (int i = 0; i < count; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) on_acceptable(listener, limit.rlim_cur);
            else if (pending_by_fd[fd] != NULL) on_writable(fd);
            else on_readable(fd, buffer, sizeof buffer);
        }
    }
}
