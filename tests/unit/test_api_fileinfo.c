/* test_api_fileinfo.c - fcgi-api/fileinfo.c: which file names are accepted, the
 * Content-Type a download is served with, and Content-Disposition for hostile names
 * (the ASCII fallback never holds a quote, backslash, percent or control byte; the
 * RFC 5987 value decodes back to the name), plus the X-Sendfile answer http.c formats.
 * Table-driven; each failure names the table row's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileinfo.h"
#include "http.h"

static void test_names(void **state)
{
    static const struct {
        int line;
        const char *name;
        bool ok;
    } rows[] = {
        {__LINE__, "photo.jpg", true},
        {__LINE__, "보고서 최종.pdf", true},
        {__LINE__, "party 🎉.png", true},
        {__LINE__, "he said \"hi\" \\ back.txt", true},
        {__LINE__, "  spaces kept  ", true},
        {__LINE__, "...", true},
        {__LINE__, ".hidden", true},
        {__LINE__, "", false},
        {__LINE__, ".", false},
        {__LINE__, "..", false},
        {__LINE__, "../etc/passwd", false},
        {__LINE__, "a/b", false},
        {__LINE__, "/", false},
        {__LINE__, "a\rb", false},
        {__LINE__, "a\nb", false},
        {__LINE__, "a\tb", false},
        {__LINE__, "a\x7f", false},
        {__LINE__, "a\xc2\x85", false},  /* U+0085, C1 */
        {__LINE__, "a\xc2\x9f", false},  /* U+009F */
        {__LINE__, "a\xc2\xa0", true},   /* U+00A0 is not a control */
        {__LINE__, "a\xff", false},      /* not UTF-8 */
        {__LINE__, "a\xc0\xaf", false},  /* overlong '/' */
        {__LINE__, "\xed\xa0\x80", false}, /* a surrogate */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *why = NULL;
        chat_rc rc = fileinfo_name_check(rows[i].name, strlen(rows[i].name), &why);
        if ((rc == CHAT_OK) != rows[i].ok) fail_msg("row at line %d: %s (%s)", rows[i].line, chat_rc_name(rc), why ? why : "-");
    }
    /* 255 code points pass, 256 do not (4-byte characters: bytes do not matter) */
    char nm[256 * 4 + 1];
    for (int n = 254; n <= 256; n++) {
        size_t len = 0;
        for (int k = 0; k < n; k++) memcpy(nm + len, "\xf0\x9f\x98\x80", 4), len += 4;
        const char *why;
        chat_rc rc = fileinfo_name_check(nm, len, &why);
        if ((rc == CHAT_OK) != (n <= 255)) fail_msg("%d code points: %s", n, chat_rc_name(rc));
    }
}

static void test_served_type(void **state)
{
    static const struct {
        int line;
        const char *mime, *served;
        bool image;
    } rows[] = {
        {__LINE__, "image/png", "image/png", true},
        {__LINE__, "image/jpeg", "image/jpeg", true},
        {__LINE__, "image/gif", "image/gif", true},
        {__LINE__, "image/webp", "image/webp", true},
        {__LINE__, "application/pdf", "application/pdf", false},
        {__LINE__, "text/plain", "text/plain", false},
        {__LINE__, "video/mp4", "video/mp4", false},
        {__LINE__, "audio/mpeg", "audio/mpeg", false},
        {__LINE__, "application/zip", "application/zip", false},
        {__LINE__, "text/html", "application/octet-stream", false},
        {__LINE__, "application/xhtml+xml", "application/octet-stream", false},
        {__LINE__, "image/svg+xml", "application/octet-stream", false},
        {__LINE__, "text/xml", "application/octet-stream", false},
        {__LINE__, "application/xml", "application/octet-stream", false},
        {__LINE__, "application/javascript", "application/octet-stream", false},
        {__LINE__, "text/javascript", "application/octet-stream", false},
        {__LINE__, "video/x-xml-thing", "application/octet-stream", false},
        {__LINE__, "audio/x;html", "application/octet-stream", false},
        {__LINE__, "image/x-icon", "application/octet-stream", false},
        {__LINE__, "image/bmp", "application/octet-stream", false},
        {__LINE__, "application/octet-stream", "application/octet-stream", false},
        {__LINE__, "", "application/octet-stream", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *got = fileinfo_served_type(rows[i].mime);
        if (strcmp(got, rows[i].served) != 0) fail_msg("row at line %d: %s served as %s", rows[i].line, rows[i].mime, got);
        if (fileinfo_is_image(rows[i].mime) != rows[i].image) fail_msg("row at line %d: is_image wrong", rows[i].line);
    }
}

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void test_disposition(void **state)
{
    static const struct {
        int line;
        bool inl;
        const char *name, *want; /* want: the whole header, or NULL to check only the rules */
    } rows[] = {
        {__LINE__, false, "report.pdf", "Content-Disposition: attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf\r\n"},
        {__LINE__, true, "a b.png", "Content-Disposition: inline; filename=\"a b.png\"; filename*=UTF-8''a%20b.png\r\n"},
        {__LINE__, false, "보고서.pdf", "Content-Disposition: attachment; filename=\"_________.pdf\"; filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf\r\n"},
        {__LINE__, false, "q\"uo\\te%.txt", "Content-Disposition: attachment; filename=\"q_uo_te_.txt\"; filename*=UTF-8''q%22uo%5Cte%25.txt\r\n"},
        {__LINE__, false, "semi;colon=x, y'z.txt", NULL},
        {__LINE__, false, "😀", NULL},
        {__LINE__, false, "a\r\nSet-Cookie: x=1", NULL}, /* never accepted, but still safe */
        {__LINE__, false, "../../etc/passwd", NULL},
        {__LINE__, false, "\x01\x7f\xff", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        buf out;
        buf_init(&out, 0);
        const char *name = rows[i].name;
        size_t nlen = strlen(name);
        fileinfo_disposition(&out, rows[i].inl, name, nlen);
        const char *h = buf_data(&out);
        if (rows[i].want && strcmp(h, rows[i].want) != 0) fail_msg("row at line %d: got %s", rows[i].line, h);
        /* one header line: CR LF only at its end */
        if (out.len < 2 || strcspn(h, "\r\n") != out.len - 2) fail_msg("row at line %d: a CR or LF inside", rows[i].line);
        /* the fallback: between the first pair of quotes, printable ASCII without " \ % */
        const char *q1 = strchr(h, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
        if (!q1 || !q2 || (size_t)(q2 - q1 - 1) != nlen) fail_msg("row at line %d: fallback shape", rows[i].line);
        for (const char *p = q1 + 1; p < q2; p++)
            if (*p < 0x20 || *p > 0x7e || *p == '\\' || *p == '%') fail_msg("row at line %d: fallback byte %02x", rows[i].line, (unsigned char)*p);
        /* filename* decodes back to the name, and holds only attr-chars and escapes */
        const char *star = strstr(h, "filename*=UTF-8''");
        if (!star) fail_msg("row at line %d: no filename*", rows[i].line);
        star += strlen("filename*=UTF-8''");
        char dec[4096];
        size_t d = 0;
        for (const char *p = star; *p != '\r'; p++) {
            if (*p == '%') {
                int hi = hexv(p[1]), lo = hexv(p[2]);
                if (hi < 0 || lo < 0) fail_msg("row at line %d: bad escape", rows[i].line);
                dec[d++] = (char)(hi * 16 + lo);
                p += 2;
            } else {
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~", *p))
                    fail_msg("row at line %d: %c unescaped", rows[i].line, *p);
                dec[d++] = *p;
            }
        }
        if (d != nlen || memcmp(dec, name, nlen) != 0) fail_msg("row at line %d: filename* does not decode to the name", rows[i].line);
        buf_free(&out);
    }
}

static void test_sendfile_answer(void **state)
{
    api_req req = {0};
    api_reply_sendfile(&req, "/srv/files dir/ab/abc", "Content-Type: image/png\r\n");
    buf out;
    buf_init(&out, 0);
    int status = api_http_format(&req, CHAT_OK, &out);
    assert_int_equal(status, 200);
    assert_string_equal(buf_data(&out), "Status: 200 OK\r\nX-Sendfile: /srv/files%20dir/ab/abc\r\nContent-Type: image/png\r\n"
                                        "X-Content-Type-Options: nosniff\r\n\r\n");
    buf_free(&out);
    api_req_clear(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_served_type),
        cmocka_unit_test(test_disposition),
        cmocka_unit_test(test_sendfile_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
