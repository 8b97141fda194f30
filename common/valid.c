/* valid.c - UTF-8 and field validation; see valid.h. Pure functions over byte
 * ranges: no allocation, no locale. */
#include "valid.h"

#include <string.h>

size_t valid_utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t valid_utf8_decode(const unsigned char *s, size_t len, size_t i, unsigned *cp)
{
    unsigned c = s[i];
    if (c < 0x80) { *cp = c; return 1; }
    size_t n;
    unsigned min;
    if ((c & 0xe0) == 0xc0) { n = 2; *cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { n = 3; *cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { n = 4; *cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (i + n > len) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xc0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i + k] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return 0;
    return n;
}

bool valid_utf8(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = valid_utf8_decode(u, len, i, &cp);
        if (!n || cp == 0) return false;
        i += n;
    }
    return true;
}

size_t valid_cp_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) n++;
    return n;
}

static bool is_space(unsigned cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

size_t valid_trim(const char *s, size_t len, const char **start)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t b = 0, e = len;
    while (b < e) {
        unsigned cp;
        size_t n = valid_utf8_decode(u, e, b, &cp);
        if (!n || !is_space(cp)) break;
        b += n;
    }
    while (e > b) {
        size_t k = e - 1; /* back up to the lead byte of the last code point */
        while (k > b && (u[k] & 0xc0) == 0x80) k--;
        unsigned cp;
        size_t n = valid_utf8_decode(u, e, k, &cp);
        if (!n || k + n != e || !is_space(cp)) break;
        e = k;
    }
    *start = s + b;
    return e - b;
}

bool valid_forbidden_in_name(unsigned cp)
{
    return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x00ad || cp == 0x034f || cp == 0x115f ||
           cp == 0x1160 || cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x180b && cp <= 0x180f) ||
           cp == 0x200b || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x206a && cp <= 0x206f) ||
           cp == 0x3164 || cp == 0xfeff || cp == 0xffa0 || (cp >= 0xfff9 && cp <= 0xfffb) ||
           (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Shows nothing on its own: white space, joiners, variation selectors, combining
 * marks (they only decorate the character before them), braille blank. */
static bool invisible_alone(unsigned cp)
{
    return is_space(cp) || cp == 0x200c || cp == 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f) ||
           (cp >= 0xe0100 && cp <= 0xe01ef) || (cp >= 0x0300 && cp <= 0x036f) ||
           (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
           (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0x2800;
}

chat_rc valid_text(const char *s, size_t len, size_t min_cp, size_t max_cp, int flags,
                   const char **out, size_t *out_len, const char **why)
{
    const char *dummy;
    if (!why) why = &dummy;
    if (!valid_utf8(s, len)) {
        *why = "is not valid UTF-8";
        return CHAT_EINVALID;
    }
    const char *t;
    size_t tn = valid_trim(s, len, &t);
    const unsigned char *u = (const unsigned char *)t;
    bool visible = false;
    for (size_t i = 0; i < tn;) {
        unsigned cp;
        size_t n = valid_utf8_decode(u, tn, i, &cp);
        bool ctl = cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
        if (ctl && (flags & VALID_ALLOW_NEWLINES) && (cp == '\n' || cp == '\r' || cp == '\t')) ctl = false;
        if (ctl) {
            *why = "contains control characters";
            return CHAT_EINVALID;
        }
        if ((flags & VALID_NAME) && valid_forbidden_in_name(cp)) {
            *why = "contains bidirectional or invisible formatting characters";
            return CHAT_EINVALID;
        }
        if (!invisible_alone(cp)) visible = true;
        i += n;
    }
    if ((flags & VALID_NAME) && tn > 0 && !visible) {
        *why = "has no visible character";
        return CHAT_EINVALID;
    }
    size_t cps = valid_cp_count(t, tn);
    if (cps < min_cp) {
        *why = tn == 0 ? "is empty" : "is too short";
        return CHAT_EINVALID;
    }
    if (cps > max_cp) {
        *why = "is too long";
        return CHAT_EINVALID;
    }
    *out = t;
    *out_len = tn;
    return CHAT_OK;
}

chat_rc valid_email(const char *s, size_t len)
{
    if (len == 0 || len > 254) return CHAT_EINVALID;
    const char *at = memchr(s, '@', len);
    if (!at || at == s || memchr(at + 1, '@', len - (size_t)(at - s) - 1)) return CHAT_EINVALID;
    size_t local = (size_t)(at - s), dlen = len - local - 1;
    if (local > 64) return CHAT_EINVALID;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
            c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\')
            return CHAT_EINVALID;
    }
    if (s[0] == '.' || s[local - 1] == '.') return CHAT_EINVALID;
    const char *d = at + 1;
    if (dlen < 3 || !memchr(d, '.', dlen)) return CHAT_EINVALID;
    size_t label = 0;
    for (size_t i = 0; i < dlen; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-') return CHAT_EINVALID;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (label == 0 && c == '-') || ++label > 63) return CHAT_EINVALID;
    }
    if (label == 0 || d[dlen - 1] == '-') return CHAT_EINVALID;
    return CHAT_OK;
}

void valid_email_lower(const char *s, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[len] = '\0';
}

bool valid_id(const char *s, size_t len)
{
    if (!s || len == 0 || len > 64) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}
