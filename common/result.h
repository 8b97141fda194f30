/* result.h - the one set of result codes used across the project.
 *
 * Every function that can fail for a reason a client should hear about returns a
 * chat_rc. CHAT_AGAIN ("need more bytes") is not an error: incremental parsers return it
 * when their input ends mid-item. The FastCGI layer maps codes to HTTP status in
 * exactly one place (fcgi-api/http.c); the relay maps them to STOMP ERROR `message`
 * headers in exactly one place. This file does neither mapping. */
#ifndef CHAT_RESULT_H
#define CHAT_RESULT_H

typedef enum chat_rc {
    CHAT_OK = 0,
    CHAT_AGAIN,      /* incomplete input, feed more */
    CHAT_EMALFORMED, /* syntactically broken input        HTTP 400 / STOMP protocol */
    CHAT_EUNAUTH,    /* no or bad credentials             401 / unauthorized */
    CHAT_EFORBIDDEN, /* authenticated but not allowed     403 / forbidden */
    CHAT_ENOTFOUND,  /* no such thing                     404 / not-found */
    CHAT_EMETHOD,    /* method not allowed on resource    405 */
    CHAT_ECONFLICT,  /* already exists                    409 */
    CHAT_ETOOLARGE,  /* over a size limit                 413 / too-large */
    CHAT_EMEDIA,     /* not JSON                          415 */
    CHAT_EINVALID,   /* well-formed but a field is wrong  422 / invalid */
    CHAT_ERATE,      /* rate limited                      429 / rate-limited */
    CHAT_EUNAVAIL,   /* Redis (or another backend) down   503 / unavailable */
    CHAT_EPROTOCOL,  /* protocol state violation          400 / protocol */
    CHAT_EINTERNAL   /* a bug or an impossible state      500 */
} chat_rc;

/* Short lowercase slug for logs ("ok", "again", "malformed", ...). Never NULL. */
const char *chat_rc_name(chat_rc rc);

#endif
