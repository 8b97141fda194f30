/* archive_api.h - chat-api's handle on the message archive (archive/archive.h): opened
 * on first use in each process, closed after any failure and opened again by a later
 * request (at most one attempt a second), so an archive that was down or not there
 * yet starts working without a restart. The callers answer 503 when there is none.
 *
 * One handle per process (chat-api serves one request at a time). Errors are logged
 * here, without the URL (it may hold a password) and without the user's words. */
#ifndef CHAT_API_ARCHIVE_H
#define CHAT_API_ARCHIVE_H

#include "archive.h"

/* Remember the ARCHIVE_URL to open (the string must outlive the process's use). */
void api_archive_init(const char *url);

/* The open handle, or NULL (logged) when the archive cannot be opened now. */
archive *api_archive(void);

/* The last call on the handle failed: log archive_error() with what, and close it. */
void api_archive_failed(const char *what);

/* Close the handle (at exit). */
void api_archive_shutdown(void);

#endif
