/* listen.c -- parse listen= values and open listening sockets. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "master/listen.h"

int listen_parse(const char *listen, const char *proto,
                 struct listen_spec *spec, struct buf *err)
{
    const char *colon;

    memset(spec, 0, sizeof(*spec));
    buf_reset(err);
    if (!proto || !strcmp(proto, "tcp"))
        spec->family = AF_UNSPEC;
    else if (!strcmp(proto, "tcp4"))
        spec->family = AF_INET;
    else if (!strcmp(proto, "tcp6"))
        spec->family = AF_INET6;
    else if (!strncmp(proto, "udp", 3)) {
        buf_printf(err, "proto=%s is not supported (stream services only)",
                   proto);
        return -1;
    } else {
        buf_printf(err, "unknown proto=%s (expected tcp, tcp4 or tcp6)",
                   proto);
        return -1;
    }

    if (!listen || !*listen) {
        buf_printf(err, "listen= is empty");
        return -1;
    }
    if (listen[0] == '/') {
        if (strlen(listen) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            buf_printf(err, "UNIX socket path %s is too long", listen);
            return -1;
        }
        spec->is_unix = 1;
        spec->path = xstrdup(listen);
        return 0;
    }

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close == listen + 1 || close[1] != ':' || !close[2]) {
            buf_printf(err, "bad listen=%s (expected [address]:port)",
                       listen);
            return -1;
        }
        spec->host = xstrndup(listen + 1, close - listen - 1);
        spec->port = xstrdup(close + 2);
        if (spec->family == AF_UNSPEC)
            spec->family = AF_INET6;
        return 0;
    }

    colon = strrchr(listen, ':');
    if (colon) {
        if (colon == listen || !colon[1] ||
            memchr(listen, ':', colon - listen)) {
            buf_printf(err, "bad listen=%s (expected host:port; write IPv6 "
                            "addresses in brackets)",
                       listen);
            listen_spec_fini(spec);
            return -1;
        }
        spec->host = xstrndup(listen, colon - listen);
        spec->port = xstrdup(colon + 1);
    } else {
        spec->port = xstrdup(listen);
    }
    return 0;
}

void listen_spec_fini(struct listen_spec *spec)
{
    xfree(spec->path);
    xfree(spec->host);
    xfree(spec->port);
}

static char *describe(const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    struct buf b = BUF_INITIALIZER;

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        buf_printf(&b, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        buf_printf(&b, "%s:%u", host, ntohs(s4->sin_port));
    }
    return buf_release(&b);
}

static int open_unix(const struct listen_spec *spec, int backlog,
                     struct listen_socket **socksp, struct buf *err)
{
    struct sockaddr_un sun;
    struct stat sb;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, spec->path);

    /* A socket left by an earlier run would make bind() fail; only a
     * socket is removed, never a file that happens to have the name. */
    if (lstat(spec->path, &sb) == 0 && S_ISSOCK(sb.st_mode))
        unlink(spec->path);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        buf_printf(err, "socket(AF_UNIX): %s", strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        buf_printf(err, "can't bind %s: %s", spec->path, strerror(errno));
        close(fd);
        return -1;
    }
    /* Clients of any user (Postfix's lmtp, for one) must reach it. */
    chmod(spec->path, 0777);
    if (listen(fd, backlog) < 0) {
        buf_printf(err, "can't listen on %s: %s", spec->path, strerror(errno));
        close(fd);
        return -1;
    }
    *socksp = xzmalloc(sizeof(**socksp));
    (*socksp)->fd = fd;
    (*socksp)->desc = xstrdup(spec->path);
    return 1;
}

static int open_inet(const struct addrinfo *ai, int backlog, struct buf *err)
{
    int on = 1;
    int fd;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) {
        int e = errno;
        buf_printf(err, "socket: %s", strerror(e));
        errno = e; /* the caller skips families the host lacks */
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ai->ai_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) {
        buf_printf(err, "setsockopt(IPV6_V6ONLY): %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        char *d = describe(ai->ai_addr);
        buf_printf(err, "can't bind %s: %s", d, strerror(errno));
        free(d);
        close(fd);
        return -1;
    }
    if (listen(fd, backlog) < 0) {
        buf_printf(err, "listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int listen_open(const struct listen_spec *spec, int backlog,
                struct listen_socket **socksp, struct buf *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct listen_socket *socks = NULL;
    struct buf why = BUF_INITIALIZER;
    int n = 0, r;

    buf_reset(err);
    *socksp = NULL;
    if (spec->is_unix)
        return open_unix(spec, backlog, socksp, err);

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = spec->family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    r = getaddrinfo(spec->host, spec->port, &hints, &res);
    if (r) {
        buf_printf(err, "can't resolve %s%s%s: %s",
                   spec->host ? spec->host : "", spec->host ? ":" : "",
                   spec->port, gai_strerror(r));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int fd;

        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        buf_reset(&why);
        fd = open_inet(ai, backlog, &why);
        if (fd < 0) {
            /* A host without IPv6 still serves IPv4 on "port" alone. */
            if (errno == EAFNOSUPPORT && spec->family == AF_UNSPEC)
                continue;
            buf_setcstr(err, buf_cstring(&why));
            listen_close(socks, n);
            socks = NULL;
            n = 0;
            break;
        }
        socks = xrealloc(socks, (n + 1) * sizeof(*socks));
        socks[n].fd = fd;
        socks[n].desc = describe(ai->ai_addr);
        n++;
    }
    freeaddrinfo(res);
    buf_free(&why);
    if (!n) {
        if (!err->len)
            buf_printf(err, "no usable address for %s", spec->port);
        return -1;
    }
    *socksp = socks;
    return n;
}

void listen_close(struct listen_socket *socks, int n)
{
    for (int i = 0; i < n; i++) {
        close(socks[i].fd);
        free(socks[i].desc);
    }
    free(socks);
}
