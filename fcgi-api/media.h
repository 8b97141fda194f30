/* media.h - what an uploaded file is, from its bytes: the MIME type (libmagic) and,
 * for images, the size and a thumbnail (libvips).
 *
 * The client's Content-Type and the file name are never consulted. Both libraries
 * are set up once per process (media_init) and torn down at exit (media_free).
 * Deliberately not here: where files live (blobs.c), what is served how
 * (fileinfo.c). */
#ifndef CHAT_API_MEDIA_H
#define CHAT_API_MEDIA_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define MEDIA_THUMB_MAX 400 /* thumbnails fit in 400 x 400 */
#define MEDIA_MIME_MAX 128

/* Open libmagic's default database and start libvips (one worker thread, no
 * operation cache, untrusted loaders such as ImageMagick blocked). 0, or -1 with
 * the problem logged. */
int media_init(void);
void media_free(void);

/* The MIME type of the file at path (libmagic, MAGIC_MIME_TYPE) into
 * mime[MEDIA_MIME_MAX]; "application/octet-stream" when libmagic cannot tell. */
void media_type(const char *path, char *mime);

typedef struct media_image {
    int width, height;      /* as shown (EXIF orientation applied); 0 when unreadable */
    bool thumb;             /* a thumbnail was written */
    const char *thumb_type; /* "image/jpeg" or "image/png" (with alpha) */
    const char *why;        /* when !thumb: why not (for the log) */
} media_image;

/* For an image file of type mime (fileinfo_is_image): read its header with the
 * loader for exactly that type; when width x height is at most pixels_max, write a
 * thumbnail of at most MEDIA_THUMB_MAX x MEDIA_THUMB_MAX, without metadata (EXIF,
 * GPS, ICC), to thumb_path. An image over the limit is never decoded: it keeps its
 * width and height, but gets no thumbnail (img->thumb false, why "too many
 * pixels"). Any decoding failure is the same: no thumbnail, never an error. */
void media_image_probe(const char *path, const char *mime, long long pixels_max, const char *thumb_path,
                       media_image *img);

#endif
