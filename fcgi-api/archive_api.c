/* archive_api.c - the per-process archive handle of chat-api; see archive_api.h. */
#include "archive_api.h"
#include "log.h"
#include "util.h"

#include <stddef.h>
#include <string.h>

#define REOPEN_MS 1000 /* after a failed open, the next attempt waits this long */

static const char *archive_url;
static archive *handle;
static int64_t retry_at;

void api_archive_init(const char *url)
{
    archive_url = url;
}

archive *api_archive(void)
{
    if (handle) return handle;
    int64_t now = mono_ms();
    if (!archive_url || now < retry_at) return NULL;
    char err[256] = "";
    handle = archive_open(archive_url, err, sizeof err);
    if (!handle) {
        retry_at = now + REOPEN_MS;
        log_warn("archive", "op=open error=%s", log_q(0, err));
        return NULL;
    }
    retry_at = 0;
    log_info("archive", "op=open kind=%s", strncmp(archive_url, "postgres", 8) == 0 ? "postgresql" : "sqlite");
    return handle;
}

void api_archive_failed(const char *what)
{
    if (!handle) return;
    log_warn("archive", "op=%s error=%s", what, log_q(0, archive_error(handle)));
    archive_close(handle);
    handle = NULL;
}

void api_archive_shutdown(void)
{
    archive_close(handle);
    handle = NULL;
}
