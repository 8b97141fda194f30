/* command.h - what each STOMP command does (command.c): the dispatch function that
 * main.c hands to sess_init(), so the session engine never names this module.
 *
 * Deliberately not here: parsing, queues, closing (session.h). */
#ifndef RELAY_COMMAND_H
#define RELAY_COMMAND_H

#include "session.h"

/* Run one parsed frame f of session s (CONNECT, SEND, SUBSCRIBE, ...). Commands that
 * need Redis go through the session's store and pause its input until answered. */
void cmd_dispatch(sess *s, const stomp_frame *f);

#endif
