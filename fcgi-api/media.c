/* media.c - libmagic and libvips behind media.h.
 *
 * Decompression bombs: a PNG of 30000 x 30000 pixels of one colour is a few hundred
 * KiB on disk and 3.6 GB decoded. The header (which costs nothing to read) is checked
 * against FILE_PIXELS_MAX before any pixel is decoded, and only the loader matching
 * the type libmagic found may read the file (vips would otherwise pick a loader by
 * sniffing, and could reach its ImageMagick or SVG loaders). vips_thumbnail then
 * decodes sequentially and shrinks while loading where the format allows (JPEG). */
#include "media.h"
#include "log.h"

#include <magic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <vips/vips.h>

static magic_t magic;
static bool vips_up;

int media_init(void)
{
    magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
    if (!magic || magic_load(magic, NULL) != 0) {
        log_error("start", "problem=\"libmagic cannot load its database\" detail=%s",
                  log_q(0, magic ? magic_error(magic) : "magic_open failed"));
        return -1;
    }
    /* libmagic reads up to this much of a file (its default is 7 MiB): the types we
     * care about are decided by their first bytes, and the buffer is per call. */
    size_t bytes_max = 1 << 20;
    magic_setparam(magic, MAGIC_PARAM_BYTES_MAX, &bytes_max);
    if (VIPS_INIT("chat-api") != 0) {
        log_error("start", "problem=\"libvips did not start\" detail=%s", log_q(0, vips_error_buffer()));
        return -1;
    }
    vips_up = true;
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_block_untrusted_set(TRUE);
    return 0;
}

void media_free(void)
{
    if (magic) magic_close(magic);
    magic = NULL;
    if (vips_up) vips_shutdown();
    vips_up = false;
}

void media_type(const char *path, char *mime)
{
    const char *t = magic ? magic_file(magic, path) : NULL;
    snprintf(mime, MEDIA_MIME_MAX, "%s", t && *t && strlen(t) < MEDIA_MIME_MAX ? t : "application/octet-stream");
}

/* Does the loader vips would use for path (NULL: none) belong to image type mime? */
static bool loader_fits(const char *loader, const char *mime)
{
    static const struct { const char *mime, *tag; } fit[] = {
        {"image/png", "png"}, {"image/jpeg", "jpeg"}, {"image/gif", "gif"}, {"image/webp", "webp"}};
    if (!loader) return false;
    for (size_t i = 0; i < sizeof fit / sizeof fit[0]; i++)
        if (strcmp(mime, fit[i].mime) == 0) return strcasestr(loader, fit[i].tag) != NULL;
    return false;
}

void media_image_probe(const char *path, const char *mime, long long pixels_max, const char *thumb_path,
                       media_image *img)
{
    memset(img, 0, sizeof *img);
    VipsImage *head = NULL, *thumb = NULL;
    if (!vips_up) {
        img->why = "libvips did not start";
        goto done;
    }
    if (!loader_fits(vips_foreign_find_load(path), mime)) {
        img->why = "no loader for its type";
        goto done;
    }
    /* Header only: nothing is decoded until pixels are asked for. */
    head = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!head) {
        img->why = "unreadable header";
        goto done;
    }
    int w = vips_image_get_width(head), h = vips_image_get_height(head);
    int orientation = 1;
    if (vips_image_get_typeof(head, VIPS_META_ORIENTATION)) vips_image_get_int(head, VIPS_META_ORIENTATION, &orientation);
    img->width = orientation >= 5 && orientation <= 8 ? h : w;
    img->height = orientation >= 5 && orientation <= 8 ? w : h;
    if (w <= 0 || h <= 0 || (long long)w * h > pixels_max) {
        img->why = "too many pixels";
        goto done;
    }
    if (!thumb_path) goto done;
    if (vips_thumbnail(path, &thumb, MEDIA_THUMB_MAX, "height", MEDIA_THUMB_MAX, "size", VIPS_SIZE_DOWN,
                       "fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0) {
        img->why = "does not decode";
        goto done;
    }
    bool alpha = vips_image_hasalpha(thumb);
    int rc = alpha ? vips_pngsave(thumb, thumb_path, "strip", TRUE, NULL)
                   : vips_jpegsave(thumb, thumb_path, "Q", 82, "strip", TRUE, NULL);
    if (rc != 0) {
        unlink(thumb_path);
        img->why = "thumbnail not written";
        goto done;
    }
    img->thumb = true;
    img->thumb_type = alpha ? "image/png" : "image/jpeg";
done:
    if (!vips_up) return;
    if (!img->thumb && vips_error_buffer()[0])
        log_info("thumbnail", "result=none why=%s detail=%s", log_q(0, img->why), log_q(1, vips_error_buffer()));
    else if (!img->thumb)
        log_info("thumbnail", "result=none why=%s", log_q(0, img->why ? img->why : "not asked"));
    vips_error_clear();
    if (thumb) g_object_unref(thumb);
    if (head) g_object_unref(head);
}
