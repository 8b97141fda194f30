/* query.c - query words and snippets; see query.h. Pure: no I/O, no globals, no
 * locale (the Unicode tables are in query_uni.c). Allocation through the project's
 * abort-on-OOM wrappers. */
#include "query.h"
#include "query_uni.h"
#include "util.h"
#include "valid.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- code points -------------------------------------------------------------- */

/* Decode text[0..len) into a new array of code points; bytes that are not UTF-8
 * become U+FFFD one byte each, so every input has a well-defined count. */
static uint32_t *decode(const char *text, size_t len, size_t *n)
{
    uint32_t *cps = xmalloc((len ? len : 1) * sizeof *cps);
    const unsigned char *u = (const unsigned char *)text;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t step = valid_utf8_decode(u, len, i, &cp);
        if (!step) {
            cp = 0xfffd;
            step = 1;
        }
        cps[k++] = cp;
        i += step;
    }
    *n = k;
    return cps;
}

static bool is_space(uint32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/* ---- grapheme clusters ---------------------------------------------------------
 * A simplified form of the extended grapheme cluster rules (UAX #29): enough that a
 * snippet cut or a highlighted range never separates a letter from its marks, an
 * emoji from its modifiers, variation selectors or ZWJ-joined parts, the two halves
 * of a flag, or the jamo of one Hangul syllable. */

enum { H_NONE, H_L, H_V, H_T, H_LV, H_LVT };

static int hangul(uint32_t cp)
{
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0xa960 && cp <= 0xa97c)) return H_L;
    if ((cp >= 0x1160 && cp <= 0x11a7) || (cp >= 0xd7b0 && cp <= 0xd7c6)) return H_V;
    if ((cp >= 0x11a8 && cp <= 0x11ff) || (cp >= 0xd7cb && cp <= 0xd7fb)) return H_T;
    if (cp >= 0xac00 && cp <= 0xd7a3) return (cp - 0xac00) % 28 ? H_LVT : H_LV;
    return H_NONE;
}

static bool is_extend(uint32_t cp)
{
    return query_uni_is_mark(cp) || cp == 0x200c || cp == 0x200d || (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
           (cp >= 0xe0020 && cp <= 0xe007f);
}

static bool is_ri(uint32_t cp)
{
    return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/* Is there a cluster boundary between cps[i - 1] and cps[i]? */
static bool cluster_break(const uint32_t *cps, size_t n, size_t i)
{
    if (i == 0 || i >= n) return true;
    uint32_t a = cps[i - 1], b = cps[i];
    if (a == '\r' && b == '\n') return false;
    if (is_control(a) || is_control(b)) return true;
    if (is_extend(b) || a == 0x200d) return false;
    int ha = hangul(a), hb = hangul(b);
    if (ha == H_L && (hb == H_L || hb == H_V || hb == H_LV || hb == H_LVT)) return false;
    if ((ha == H_LV || ha == H_V) && (hb == H_V || hb == H_T)) return false;
    if ((ha == H_LVT || ha == H_T) && hb == H_T) return false;
    if (is_ri(a) && is_ri(b)) {
        size_t run = 0;
        for (size_t k = i; k > 0 && is_ri(cps[k - 1]); k--) run++;
        return run % 2 == 0;
    }
    return true;
}

static size_t cluster_end(const uint32_t *cps, size_t n, size_t i)
{
    while (i < n && !cluster_break(cps, n, i)) i++;
    return i;
}

static size_t cluster_start(const uint32_t *cps, size_t n, size_t i)
{
    while (i > 0 && i < n && !cluster_break(cps, n, i)) i--;
    return i;
}

/* ---- words ---------------------------------------------------------------------- */

/* The word starting at cps[i] (a letter or number) ends before the returned index. */
static size_t word_end(const uint32_t *cps, size_t n, size_t i)
{
    while (i < n && (query_uni_is_word(cps[i]) || query_uni_is_mark(cps[i]))) i++;
    return i;
}

const char *query_rc_message(query_rc rc)
{
    switch (rc) {
    case QUERY_OK: return "ok";
    case QUERY_EMPTY: return "q must not be empty";
    case QUERY_TOO_LONG: return "q must be at most 200 characters";
    case QUERY_NOT_UTF8: return "q must be UTF-8 text";
    case QUERY_NO_WORD: return "q has no word to search for (letters or digits)";
    case QUERY_TOO_MANY: return "q has more than 32 different words";
    }
    return "q is invalid";
}

void query_free(query *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->n; i++) {
        free(q->w[i].text);
        free(q->w[i].folded);
    }
    memset(q, 0, sizeof *q);
}

/* Is a[0..na) a prefix of b[0..nb)? */
static bool cp_prefix(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    return na <= nb && memcmp(a, b, na * sizeof *a) == 0;
}

query_rc query_parse(const char *s, size_t len, query *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0) return QUERY_EMPTY;
    if (!valid_utf8(s, len)) return QUERY_NOT_UTF8;
    if (valid_cp_count(s, len) > QUERY_MAX_CP) return QUERY_TOO_LONG;

    size_t n;
    uint32_t *cps = decode(s, len, &n);
    /* Byte offset of each code point, to copy words out as typed. */
    size_t *at = xmalloc((n + 1) * sizeof *at);
    for (size_t i = 0, b = 0; i < n; i++) {
        at[i] = b;
        char tmp[4];
        b += valid_utf8_encode(cps[i], tmp);
        at[i + 1] = b;
    }

    /* At most QUERY_MAX_CP / 2 + 1 raw words fit in 200 code points. */
    struct { size_t s, e; bool keep; } raw[QUERY_MAX_CP / 2 + 2];
    size_t nraw = 0;
    for (size_t i = 0; i < n;) {
        if (!query_uni_is_word(cps[i])) {
            i++;
            continue;
        }
        size_t e = word_end(cps, n, i);
        raw[nraw].s = i;
        raw[nraw].e = e;
        raw[nraw].keep = true;
        nraw++;
        i = e;
    }
    for (size_t i = 0; i < n; i++) cps[i] = query_uni_lower(cps[i]);

    /* Drop a word that is a prefix of another kept word (the first of equal ones stays). */
    size_t nkeep = nraw;
    for (size_t i = 0; i < nraw; i++) {
        for (size_t j = 0; j < nraw && raw[i].keep; j++) {
            if (i == j || !raw[j].keep) continue;
            size_t li = raw[i].e - raw[i].s, lj = raw[j].e - raw[j].s;
            if (!cp_prefix(cps + raw[i].s, li, cps + raw[j].s, lj)) continue;
            if (li < lj || j < i) {
                raw[i].keep = false;
                nkeep--;
            }
        }
    }
    query_rc rc = QUERY_OK;
    if (nkeep == 0) rc = QUERY_NO_WORD;
    else if (nkeep > QUERY_MAX_WORDS) rc = QUERY_TOO_MANY;
    for (size_t i = 0; rc == QUERY_OK && i < nraw; i++) {
        if (!raw[i].keep) continue;
        query_word *w = &out->w[out->n];
        size_t l = raw[i].e - raw[i].s;
        w->text = xstrndup(s + at[raw[i].s], at[raw[i].e] - at[raw[i].s]);
        w->folded = xmalloc(l * sizeof *w->folded);
        memcpy(w->folded, cps + raw[i].s, l * sizeof *w->folded);
        w->nfolded = l;
        out->texts[out->n] = w->text;
        out->n++;
    }
    free(at);
    free(cps);
    return rc;
}

/* ---- snippets ------------------------------------------------------------------- */

typedef struct match {
    size_t s, e; /* code points of the text, [s, e) */
    size_t word; /* index of the query word */
} match;

/* Every match in cps[0..n), in text order, disjoint: at each word start the longest
 * query word that is a prefix of the word, extended to the end of its cluster. */
static match *find_matches(const query *q, const uint32_t *cps, size_t n, size_t *nm)
{
    size_t cap = 16, k = 0;
    match *m = xmalloc(cap * sizeof *m);
    for (size_t i = 0; i < n;) {
        if (!query_uni_is_word(cps[i])) {
            i++;
            continue;
        }
        size_t e = word_end(cps, n, i), best = 0, bestw = 0;
        for (size_t w = 0; w < q->n; w++) {
            const query_word *qw = &q->w[w];
            if (qw->nfolded > e - i || qw->nfolded <= best) continue;
            size_t j = 0;
            while (j < qw->nfolded && query_uni_lower(cps[i + j]) == qw->folded[j]) j++;
            if (j == qw->nfolded) {
                best = j;
                bestw = w;
            }
        }
        if (best && (k == 0 || m[k - 1].e <= i)) {
            if (k == cap) m = xrealloc(m, (cap *= 2) * sizeof *m);
            m[k].s = i;
            m[k].e = cluster_end(cps, n, i + best);
            m[k].word = bestw;
            k++;
        }
        i = e;
    }
    *nm = k;
    return m;
}

/* Choose the window [*ws, *we) of width code points (n > width) holding the most
 * distinct query words, then the most matches, then the earliest. Each candidate
 * starts a quarter width before one match; both window edges only move forward as
 * the candidate advances, so the matches inside are a sliding range [lo, hi). */
static void best_window(const match *m, size_t nm, size_t n, size_t width, size_t *ws, size_t *we)
{
    size_t ctx = width / 4, maxs = n - width;
    size_t count[QUERY_MAX_WORDS] = {0}, distinct = 0, lo = 0, hi = 0;
    size_t best_d = 0, best_n = 0, best_s = 0;
    for (size_t i = 0; i < nm; i++) {
        size_t s = m[i].s > ctx ? m[i].s - ctx : 0;
        if (s > maxs) s = maxs;
        size_t e = s + width;
        while (hi < nm && m[hi].e <= e) {
            if (count[m[hi].word]++ == 0) distinct++;
            hi++;
        }
        while (lo < hi && m[lo].s < s) {
            if (--count[m[lo].word] == 0) distinct--;
            lo++;
        }
        if (distinct > best_d || (distinct == best_d && hi - lo > best_n)) {
            best_d = distinct;
            best_n = hi - lo;
            best_s = s;
        }
    }
    *ws = best_s;
    *we = best_s + width;
}

#define SNAP_CP 12 /* how far a window edge moves to reach a space */

void query_snippet_build(const query *q, const char *text, size_t len, size_t width, query_snippet *out)
{
    memset(out, 0, sizeof *out);
    if (width == 0) width = QUERY_SNIPPET_CP;
    size_t n, nm;
    uint32_t *cps = decode(text, len, &n);
    match *m = find_matches(q, cps, n, &nm);

    size_t s = 0, e = n;
    if (n > width) {
        best_window(m, nm, n, width, &s, &e);
        /* The matches the window was chosen for stay inside it while its edges move. */
        size_t first = e, last = s;
        for (size_t i = 0; i < nm; i++)
            if (m[i].s >= s && m[i].e <= e) {
                if (first == e) first = m[i].s;
                last = m[i].e;
            }
        if (s > 0) s = cluster_start(cps, n, s);
        if (s > 0 && !is_space(cps[s - 1]) && !is_space(cps[s]))
            for (size_t k = s; k < first && k < s + SNAP_CP; k++)
                if (is_space(cps[k]) && cluster_break(cps, n, k + 1)) {
                    s = k + 1;
                    break;
                }
        if (e < n) e = cluster_end(cps, n, e);
        if (e < n && !is_space(cps[e]) && !is_space(cps[e - 1]))
            for (size_t k = e; k > last && k > s && k + SNAP_CP > e; k--)
                if (is_space(cps[k - 1]) && cluster_break(cps, n, k - 1)) {
                    e = k - 1;
                    break;
                }
        while (s > 0 && s < e && is_space(cps[s]) && cluster_break(cps, n, s + 1)) s++;
        while (e < n && e > s && is_space(cps[e - 1]) && cluster_break(cps, n, e - 1)) e--;
    }

    /* Text: "…" + cps[s..e) + "…", controls as spaces. */
    bool pre = s > 0, post = e < n;
    char *t = xmalloc((e - s) * 4 + 7);
    size_t b = 0, ncp = 0;
    if (pre) b += valid_utf8_encode(0x2026, t + b), ncp++;
    for (size_t i = s; i < e; i++, ncp++) b += valid_utf8_encode(is_control(cps[i]) ? ' ' : cps[i], t + b);
    if (post) b += valid_utf8_encode(0x2026, t + b), ncp++;
    t[b] = '\0';
    out->text = t;
    out->len = b;
    out->ncp = ncp;

    size_t nr = 0;
    for (size_t i = 0; i < nm; i++)
        if (m[i].s >= s && m[i].e <= e) nr++;
    out->ranges = xmalloc((nr ? nr : 1) * sizeof *out->ranges);
    for (size_t i = 0; i < nm; i++)
        if (m[i].s >= s && m[i].e <= e) {
            out->ranges[out->n][0] = m[i].s - s + pre;
            out->ranges[out->n][1] = m[i].e - s + pre;
            out->n++;
        }
    free(m);
    free(cps);
}

void query_snippet_free(query_snippet *s)
{
    if (!s) return;
    free(s->text);
    free(s->ranges);
    memset(s, 0, sizeof *s);
}
