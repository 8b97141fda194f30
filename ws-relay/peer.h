/* peer.h - the client's address as the relay reports it (logs, SockJS session
 * binding).
 *
 * Behind lighttpd every connection comes from 127.0.0.1, and lighttpd appends the
 * address it saw to X-Forwarded-For (after whatever the client sent in that header).
 * So: when the socket's peer is a loopback address, the LAST element of
 * X-Forwarded-For, if it is an IP address, is the client; everything before it was
 * written by the client and is ignored. Otherwise (or with no usable header) the
 * socket's peer is the client. The result is always a plain IPv4/IPv6 address or "-",
 * safe to print in a key=value log line.
 *
 * Deliberately not here: trusting any proxy other than one on loopback. */
#ifndef RELAY_PEER_H
#define RELAY_PEER_H

#include <stddef.h>

struct lws;

/* Pure: sock is the socket peer's address text, xff the X-Forwarded-For value (or
 * NULL). Writes the client address (or "-") into out (cap >= 2). */
void peer_pick(const char *sock, const char *xff, char *out, size_t cap);
/* The same for an lws connection whose request headers are still available. */
void peer_name(struct lws *wsi, char *out, size_t cap);

#endif
