/* fuzz_query.c - libFuzzer target for search's query words and snippets
 * (archive/query.c).
 *
 * Input: the first byte picks the snippet width, then a query and a message text
 * separated by the first '\n' (any bytes in both). The whole input (after the first
 * byte) is also parsed as a query. Checks: the parse either fails with no words or
 * gives 1..QUERY_MAX_WORDS non-empty words that are valid UTF-8 made only of what the
 * query held; the snippet is valid UTF-8 of exactly ncp code points, and its ranges
 * are ascending, disjoint, non-empty and inside it, each starting with a query word
 * (lowercased). Inputs are copied into exact-size heap blocks so ASan sees any read
 * past them.
 *
 * Deliberately not here: the back ends (they only ever receive the words). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "query_uni.h"
#include "valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz_query: check failed at line %d: %s\n", __LINE__, #cond);     \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

static void check_query(const char *s, size_t len, query_rc rc, const query *q)
{
    if (rc != QUERY_OK) {
        CHECK(q->n == 0);
        return;
    }
    CHECK(q->n >= 1 && q->n <= QUERY_MAX_WORDS);
    for (size_t i = 0; i < q->n; i++) {
        size_t l = strlen(q->w[i].text);
        CHECK(l > 0 && q->w[i].nfolded > 0 && q->texts[i] == q->w[i].text);
        CHECK(valid_utf8(q->w[i].text, l));
        CHECK(memmem(s, len, q->w[i].text, l) != NULL);
        CHECK(strpbrk(q->w[i].text, " \"'*:()\\-^&|!<>") == NULL);
    }
}

static void check_snippet(const query *q, const query_snippet *sn)
{
    CHECK(sn->text && strlen(sn->text) == sn->len);
    CHECK(sn->len == 0 || valid_utf8(sn->text, sn->len));
    uint32_t *cps = malloc((sn->len + 1) * sizeof *cps);
    size_t n = 0;
    for (size_t i = 0; i < sn->len;) {
        unsigned cp;
        size_t k = valid_utf8_decode((const unsigned char *)sn->text, sn->len, i, &cp);
        CHECK(k > 0);
        cps[n++] = cp;
        i += k;
    }
    CHECK(n == sn->ncp);
    for (size_t i = 0; i < sn->n; i++) {
        size_t a = sn->ranges[i][0], b = sn->ranges[i][1];
        CHECK(a < b && b <= n);
        CHECK(i == 0 || a >= sn->ranges[i - 1][1]);
        int ok = 0;
        for (size_t w = 0; w < q->n && !ok; w++) {
            if (q->w[w].nfolded > b - a) continue;
            ok = 1;
            for (size_t k = 0; k < q->w[w].nfolded; k++)
                if (query_uni_lower(cps[a + k]) != q->w[w].folded[k]) ok = 0;
        }
        CHECK(ok);
    }
    free(cps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t width = data[0];
    const uint8_t *in = data + 1;
    size = size - 1;

    char *all = malloc(size ? size : 1);
    memcpy(all, in, size);
    query q;
    query_rc rc = query_parse(all, size, &q);
    check_query(all, size, rc, &q);
    query_free(&q);
    free(all);

    const uint8_t *nl = memchr(in, '\n', size);
    size_t qlen = nl ? (size_t)(nl - in) : size;
    size_t tlen = nl ? size - qlen - 1 : 0;
    char *qs = malloc(qlen ? qlen : 1), *text = malloc(tlen ? tlen : 1);
    memcpy(qs, in, qlen);
    if (tlen) memcpy(text, nl + 1, tlen);
    rc = query_parse(qs, qlen, &q);
    check_query(qs, qlen, rc, &q);
    if (rc == QUERY_OK) {
        query_snippet sn;
        query_snippet_build(&q, text, tlen, width, &sn);
        check_snippet(&q, &sn);
        query_snippet_free(&sn);
    }
    query_free(&q);
    free(qs);
    free(text);
    return 0;
}
