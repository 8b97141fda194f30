/* fuzz_filename.c - libFuzzer target for the file-name rules and the download headers
 * (fcgi-api/fileinfo.c), fed with any bytes as a name (the API gets it percent-decoded
 * from ?name=).
 *
 * For each input: the check must not read outside it (ASan: the input is copied into
 * an exact-size heap block); an accepted name is valid UTF-8 of 1..255 code points
 * without controls or '/'; whatever the name, accepted or not, the Content-Disposition
 * line is one header line (CR LF only at its end), its quoted fallback has exactly one
 * byte per input byte, all printable ASCII without '"', '\' or '%', and filename*
 * holds only attr-chars and %XX escapes. The served type of the input (as a MIME
 * type) is never a markup or script type.
 *
 * Deliberately not here: percent-decoding the query (router.c, unit-tested). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileinfo.h"
#include "valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz_filename: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = malloc(size ? size : 1);
    if (!name) return 0;
    memcpy(name, data, size);
    const char *why = NULL;
    if (fileinfo_name_check(name, size, &why) == CHAT_OK) {
        CHECK(valid_utf8(name, size));
        size_t cps = valid_cp_count(name, size);
        CHECK(cps >= 1 && cps <= 255);
        CHECK(!memchr(name, '/', size));
        for (size_t i = 0; i < size; i++) CHECK((unsigned char)name[i] >= 0x20 && name[i] != 0x7f);
    } else {
        CHECK(why && *why);
    }
    buf out;
    buf_init(&out, 0);
    fileinfo_disposition(&out, size & 1, name, size);
    const char *h = buf_data(&out);
    CHECK(out.len >= 2 && h[out.len - 2] == '\r' && h[out.len - 1] == '\n');
    CHECK(strcspn(h, "\r\n") == out.len - 2);
    const char *q1 = memchr(h, '"', out.len);
    CHECK(q1);
    for (size_t i = 0; i < size; i++) {
        char c = q1[1 + i];
        CHECK(c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '%');
    }
    CHECK(q1[1 + size] == '"');
    const char *star = strstr(q1 + 1 + size, "filename*=UTF-8''");
    CHECK(star);
    for (const char *p = star + 17; *p != '\r'; p++)
        CHECK(*p == '%' || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~", *p));
    buf_free(&out);
    /* as a MIME type string (NUL-terminated copy) */
    char *mime = malloc(size + 1);
    if (mime) {
        memcpy(mime, data, size);
        mime[size] = '\0';
        const char *served = fileinfo_served_type(mime);
        CHECK(!strstr(served, "html") && !strstr(served, "xml") && !strstr(served, "script"));
        free(mime);
    }
    free(name);
    return 0;
}
