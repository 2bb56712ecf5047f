/* listen.h -- the listening sockets of master's services.
 *
 * A cyrus.conf listen= value is one of
 *     /path/to/socket       a UNIX-domain socket
 *     port                  every address (IPv4 and IPv6)
 *     host:port             host is a name or an IPv4 address
 *     [v6addr]:port         a bracketed IPv6 address
 * where port is a number or a name from /etc/services.  proto= narrows
 * the address families: tcp (both), tcp4, tcp6.
 *
 * listen_open() creates every socket the value resolves to: stream,
 * non-blocking, close-on-exec, SO_REUSEADDR, IPV6_V6ONLY on IPv6 (so the
 * IPv4 and IPv6 sockets of one port coexist); a stale UNIX socket is
 * unlinked first and the new one made mode 0777, as Cyrus does.
 */
#ifndef MASTER_LISTEN_H
#define MASTER_LISTEN_H

#include "lib/buf.h"

struct listen_spec {
    int is_unix;
    char *path;     /* UNIX socket path */
    char *host;     /* NULL for every address */
    char *port;     /* number or service name */
    int family;     /* AF_UNSPEC, AF_INET or AF_INET6 (from proto=) */
};

struct listen_socket {
    int fd;
    char *desc;     /* "127.0.0.1:143", "[::]:143", "/run/lmtp" */
};

/* Parse a listen= value and a proto= value (NULL means tcp).  Returns 0,
 * or -1 with the reason in *err. */
int listen_parse(const char *listen, const char *proto,
                 struct listen_spec *spec, struct buf *err);
/* Free the strings of a spec. */
void listen_spec_fini(struct listen_spec *spec);

/* Open, bind and listen every socket of `spec`.  Fills a new array in
 * *socksp and returns how many (at least 1), or -1 with the reason in
 * *err and nothing left open. */
int listen_open(const struct listen_spec *spec, int backlog,
                struct listen_socket **socksp, struct buf *err);
/* Close `n` sockets and free the array. */
void listen_close(struct listen_socket *socks, int n);

#endif
