/* fileinfo.c - file names, served types and Content-Disposition; see fileinfo.h.
 *
 * The served type is an allow-list on purpose: a type missing from it costs a user a
 * download instead of an in-browser view, while a type wrongly on it (HTML, SVG,
 * XML, anything scriptable) would run a stranger's content on our origin. */
#include "fileinfo.h"
#include "api.h"
#include "util.h"
#include "valid.h"

#include <string.h>

chat_rc fileinfo_name_check(const char *name, size_t len, const char **why)
{
    if (len == 0) return *why = "is empty", CHAT_EINVALID;
    if (!valid_utf8(name, len)) return *why = "is not UTF-8", CHAT_EINVALID;
    size_t cps = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = valid_utf8_decode((const unsigned char *)name, len, i, &cp);
        if (n == 0) return *why = "is not UTF-8", CHAT_EINVALID;
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
            return *why = "holds a control character", CHAT_EINVALID;
        if (cp == '/') return *why = "holds a '/'", CHAT_EINVALID;
        i += n;
        cps++;
    }
    if (cps > API_FILE_NAME_MAX_CP) return *why = "is longer than 255 characters", CHAT_EINVALID;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return *why = "is not a file name", CHAT_EINVALID;
    return CHAT_OK;
}

static const char *const images[] = {"image/png", "image/jpeg", "image/gif", "image/webp"};

bool fileinfo_is_image(const char *mime)
{
    for (size_t i = 0; i < ARRAY_LEN(images); i++)
        if (strcmp(mime, images[i]) == 0) return true;
    return false;
}

const char *fileinfo_served_type(const char *mime)
{
    static const char *const exact[] = {
        "application/pdf", "text/plain", "text/csv", "application/zip", "application/gzip",
        "application/x-tar", "application/x-7z-compressed", "application/x-bzip2", "application/x-xz",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text", "application/msword", "application/vnd.ms-excel",
    };
    if (fileinfo_is_image(mime)) return mime;
    for (size_t i = 0; i < ARRAY_LEN(exact); i++)
        if (strcmp(mime, exact[i]) == 0) return mime;
    /* Audio and video players run no script; "+xml" types (say image/svg+xml) and
     * anything else with markup or script in its name stay out. */
    if ((strncmp(mime, "audio/", 6) == 0 || strncmp(mime, "video/", 6) == 0) && !strstr(mime, "xml") &&
        !strstr(mime, "html") && !strstr(mime, "script") && strspn(mime, "abcdefghijklmnopqrstuvwxyz0123456789/.+-") == strlen(mime))
        return mime;
    return "application/octet-stream";
}

/* RFC 5987 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
 * "_" / "`" / "|" / "~". */
static bool attr_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("!#$&+-.^_`|~", c));
}

void fileinfo_disposition(buf *out, bool inline_, const char *name, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_puts(out, inline_ ? "Content-Disposition: inline; filename=\"" : "Content-Disposition: attachment; filename=\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        buf_putc(out, c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' ? (char)c : '_');
    }
    buf_puts(out, "\"; filename*=UTF-8''");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (attr_char(c)) {
            buf_putc(out, (char)c);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[c >> 4]);
            buf_putc(out, hex[c & 15]);
        }
    }
    buf_puts(out, "\r\n");
}
