/* metrics.h - the API's request counters, shared by every chat-api process, and
 * GET /api/metrics.
 *
 * lighttpd runs several chat-api processes and any of them may answer a scrape, so
 * the counters live in one shared file mapped by all of them: a small header and
 * AM_SLOTS slots. Each process claims a slot (compare-and-swap of the owner pid; a
 * slot whose owner is dead is taken over with its counts, so totals never go back)
 * and only ever writes its own slot, with relaxed atomic adds: no lock, no syscall
 * per request. A scrape adds up every slot. The file sits next to the FastCGI socket
 * (its path, less lighttpd's per-process "-N", + ".metrics"), which is what all
 * processes of one fastcgi.server share;
 * API_METRICS_FILE names another. When neither is known (say --socket :PORT) the
 * counters are this process's own, and the start log line says so.
 *
 * Deliberately not here: the exposition format (common/prom.h), routing. */
#ifndef CHAT_API_METRICS_H
#define CHAT_API_METRICS_H

#include <stdint.h>

#include "api.h"

/* Map (creating as needed) the shared counters. path NULL or "": derive it from the
 * FastCGI listening socket fd. Logs what it chose. 0, or -1 when it fell back to
 * per-process counters. */
int am_init(const char *path, int listen_fd);
/* Unmap (at exit). */
void am_free(void);

/* Count one finished request: route index (api_routes() order; any value past the
 * table for "no route"), HTTP status, microseconds from accept to response. */
void am_count(size_t route, int status, int64_t us);

/* The handler for GET /api/metrics (loopback peers only: REMOTE_ADDR as lighttpd
 * saw the socket). */
chat_rc api_metrics(api_req *req);

#endif
