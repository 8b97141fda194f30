/* fileinfo.h - the pure rules about an uploaded file's name and type: which names
 * are accepted, the Content-Type and Content-Disposition a download is sent with.
 *
 * No I/O, no Redis, no libmagic: the type given here was already decided from the
 * content (media.c). Unit-tested directly (tests/unit/test_api_fileinfo.c). */
#ifndef CHAT_API_FILEINFO_H
#define CHAT_API_FILEINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "result.h"

/* A file name: valid UTF-8, 1..API_FILE_NAME_MAX_CP code points, no control
 * characters (C0, DEL, C1), no '/', and not "." or "..". Not trimmed: the name is
 * kept as given. CHAT_OK, or CHAT_EINVALID with *why ("is empty", ...). */
chat_rc fileinfo_name_check(const char *name, size_t len, const char **why);

/* Is mime one of the images that get a thumbnail and are shown inline (PNG, JPEG,
 * GIF, WebP)? */
bool fileinfo_is_image(const char *mime);

/* The Content-Type a download of a file of type mime is sent with: the type itself
 * for a short list of types a browser shows or saves without running anything
 * (images above, PDF, plain text, audio, video, archives), else
 * "application/octet-stream" (HTML, SVG, XML, JavaScript and everything unknown). */
const char *fileinfo_served_type(const char *mime);

/* Append "Content-Disposition: inline|attachment; filename=\"...\";
 * filename*=UTF-8''...\r\n" for name (any bytes) to out: the quoted ASCII fallback
 * has every byte outside printable ASCII, and '"', '\\', '%', replaced by '_';
 * filename* (RFC 5987) percent-encodes everything but attr-chars. */
void fileinfo_disposition(buf *out, bool inline_, const char *name, size_t len);

#endif
