/* query.h - what search does with text, without any I/O: the query string the user
 * typed -> the words to look for, and a message text -> a snippet around the best
 * match with the matched spans marked in code points.
 *
 * Words. A word is a run of letters and numbers (Unicode general categories L*, N*)
 * together with the combining marks (M*) that follow them; everything else separates
 * words: spaces, punctuation, symbols and emoji, and also every piece of query syntax
 * of the back ends (quotes, `*`, `-`, `:`, parentheses, backslashes). So `OR`, `NEAR`
 * and `AND` are ordinary words, and `"a" OR -b*` is the three words `a`, `OR`, `b`.
 * This is the common ground of the two indexes: SQLite FTS5's unicode61 tokenizer and
 * PostgreSQL's default parser both split at all of these characters and keep letters,
 * digits and combining marks together (docs/ARCHIVE.md has the few differences).
 *
 * Matching. A query word matches a word of the text when, lowercased code point by
 * code point (the simple Unicode mapping), it is a prefix of it: `채팅` matches
 * `채팅방에서`, `hello` matches `Hello,`. No Unicode normalisation: a precomposed `é`
 * and `e` + U+0301 are different words, as they are in both indexes.
 *
 * Deliberately not here: opening or querying a back end, JSON, HTTP. */
#ifndef CHAT_QUERY_H
#define CHAT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define QUERY_MAX_CP 200    /* q: 1..200 code points (the contract) */
#define QUERY_MAX_WORDS 32  /* distinct words after dropping repeats */
#define QUERY_SNIPPET_CP 160 /* default snippet width, code points of the message */
/* The back ends rank the newest QUERY_CANDIDATES matching messages of the caller's
 * rooms (best first, then newest): a bound on the work of one search whatever the
 * words (a word in half of a million messages would otherwise rank them all), and
 * the most results paging can reach. */
#define QUERY_CANDIDATES 1000

typedef enum query_rc {
    QUERY_OK = 0,
    QUERY_EMPTY,    /* no code point at all */
    QUERY_TOO_LONG, /* more than QUERY_MAX_CP code points */
    QUERY_NOT_UTF8, /* not well-formed UTF-8, or a NUL */
    QUERY_NO_WORD,  /* nothing to search for: only spaces, punctuation, symbols, emoji */
    QUERY_TOO_MANY  /* more than QUERY_MAX_WORDS distinct words */
} query_rc;

typedef struct query_word {
    char *text;       /* the word as typed, NUL-terminated UTF-8 */
    uint32_t *folded; /* its code points, lowercased */
    size_t nfolded;
} query_word;

/* The words of a query, in the order typed. A word that is a prefix of another one
 * (after lowercasing; repeats included) is left out: a text word the longer one
 * matches is matched by the shorter one too, so it changes nothing but the cost. */
typedef struct query {
    size_t n;
    query_word w[QUERY_MAX_WORDS];
    const char *texts[QUERY_MAX_WORDS]; /* w[i].text, the shape archive_query wants */
} query;

/* Split q[0..len) into *out. QUERY_OK, or the reason it cannot be searched (then
 * *out holds nothing to free). query_free() releases what *out owns (safe on a
 * zeroed or already freed query). */
query_rc query_parse(const char *q, size_t len, query *out);
void query_free(query *q);

/* A short English sentence for the client ("q has no word to search for"). */
const char *query_rc_message(query_rc rc);

/* A plain-text window of a message around its best match. */
typedef struct query_snippet {
    char *text;          /* NUL-terminated UTF-8, never markup; owned */
    size_t len;          /* bytes of text */
    size_t ncp;          /* code points of text */
    size_t n;            /* number of ranges */
    size_t (*ranges)[2]; /* [start, end) in code points of text, ascending, disjoint */
} query_snippet;

/* Build the snippet of text[0..len) for q: the window of about `width` code points
 * (0: QUERY_SNIPPET_CP) that holds the most distinct query words, a quarter of it
 * before the first one, cut at spaces where one is near and never inside a grapheme
 * cluster (a letter and its marks, an emoji ZWJ sequence, a flag, a Hangul jamo
 * syllable); "…" marks each end that was cut. Line breaks and other control
 * characters become spaces; bytes that are not UTF-8 become U+FFFD. Every match in
 * the window is a range, its end moved to the end of the cluster it stops in. When
 * nothing in the text matches (the back end's tokenizer saw a word differently), the
 * window is the start of the text and there are no ranges. */
void query_snippet_build(const query *q, const char *text, size_t len, size_t width, query_snippet *out);
void query_snippet_free(query_snippet *s);

#endif
