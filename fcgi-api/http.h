/* http.h - the HTTP side of a request: reading and checking the body, and writing
 * the response. The one place that turns a chat_rc into an HTTP status, an error
 * slug and a default message.
 *
 * The pure parts (length and media-type checks, the status mapping, formatting a
 * whole response into a buffer) take no FastCGI types, so unit tests reach them;
 * api_http_read_body() and api_http_send() are the only functions touching libfcgi. */
#ifndef CHAT_API_HTTP_H
#define CHAT_API_HTTP_H

#include <fcgiapp.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "buf.h"

/* Check a CONTENT_LENGTH value (NULL or "" = none) against max before any byte is
 * read. CHAT_OK with *len (0 when none), CHAT_ETOOLARGE over max, CHAT_EMALFORMED
 * when it is not a plain decimal number. */
chat_rc api_http_check_length(const char *content_length, size_t max, size_t *len);

/* Is this Content-Type JSON? "application/json" in any case, optionally followed by
 * "; charset=utf-8" (any case, optionally quoted). Other parameters or charsets: no. */
bool api_http_is_json(const char *content_type);

/* The HTTP status for rc (200 for CHAT_OK; 500 for codes that are not errors a client
 * can cause) and the error slug ("not-found", ...; NULL for CHAT_OK). */
int api_http_status(chat_rc rc);
const char *api_http_slug(chat_rc rc);

/* For API_BODY routes: check length (413 before reading), content type (415), read
 * at most API_BODY_MAX bytes, parse one JSON object (400) into req->body. For
 * API_FILE routes: check the length against FILE_MAX (413) and leave the body to the
 * handler (api_body_read). For other routes only the length is checked; the body is
 * ignored. */
chat_rc api_http_read_body(FCGX_Request *fr, api_req *req, unsigned route_flags);

/* Read and drop what is left of the request body (API_FILE routes: the handler may
 * stop early, and lighttpd must be able to hand over the whole body it holds). */
void api_http_drain(FCGX_Request *fr);

/* Format the complete FastCGI response (headers and body) for outcome rc into out:
 * req->status/req->out on CHAT_OK, else the JSON error for rc with req->err (or the
 * default message), plus Allow / WWW-Authenticate / Retry-After where they apply.
 * Returns the HTTP status written. */
int api_http_format(const api_req *req, chat_rc rc, buf *out);

/* Format and write the response to fr->out. Returns the HTTP status sent. */
int api_http_send(FCGX_Request *fr, const api_req *req, chat_rc rc);

#endif
