/* loopback.h - is a client address loopback? The check behind "metrics answer loopback
 * clients only".
 *
 * It looks only at an address the server itself got from the kernel (the socket's
 * peer, or lighttpd's REMOTE_ADDR, which lighttpd fills from its socket): never at
 * X-Forwarded-For or any other header a client can write. Loopback means 127.0.0.0/8,
 * ::1, and IPv4-mapped ::ffff:127.0.0.0/104; a unix-domain peer is local too.
 * Everything else, unparsable text included, is not. */
#ifndef CHAT_LOOPBACK_H
#define CHAT_LOOPBACK_H

#include <stdbool.h>
#include <sys/socket.h>

bool loopback_sockaddr(const struct sockaddr *sa, socklen_t len);
/* The same for a numeric address as text ("127.0.0.1", "::1"); NULL or "" is false. */
bool loopback_text(const char *addr);
/* The peer of connected socket fd (getpeername); false when it cannot be read. */
bool loopback_fd(int fd);

#endif
