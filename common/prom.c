/* prom.c - Prometheus text exposition; see prom.h. */
#include "prom.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const uint64_t prom_bounds_us[PROM_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void prom_hist_add(prom_hist *dst, const prom_hist *src)
{
    for (size_t i = 0; i <= PROM_BUCKETS; i++) dst->bucket[i] += src->bucket[i];
    dst->sum_us += src->sum_us;
}

/* s escaped for a HELP text (\\ and \n) or, with quote set, a label value (also \"). */
static void put_escaped(buf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\') buf_puts(b, "\\\\");
        else if (*s == '\n') buf_puts(b, "\\n");
        else if (quote && *s == '"') buf_puts(b, "\\\"");
        else buf_putc(b, *s);
    }
}

void prom_family(buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s ", name);
    put_escaped(b, help, 0);
    buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* name{pairs[,le="..."]} without the value. */
static void put_series(buf *b, const char *name, const char *suffix, const char *const *labels,
                       size_t npairs, const char *le)
{
    buf_puts(b, name);
    buf_puts(b, suffix);
    if (npairs == 0 && !le) return;
    buf_putc(b, '{');
    for (size_t i = 0; i < npairs; i++) {
        if (i) buf_putc(b, ',');
        buf_printf(b, "%s=\"", labels[2 * i]);
        put_escaped(b, labels[2 * i + 1], 1);
        buf_putc(b, '"');
    }
    if (le) buf_printf(b, "%sle=\"%s\"", npairs ? "," : "", le);
    buf_putc(b, '}');
}

void prom_sample(buf *b, const char *name, const char *const *labels, size_t npairs, uint64_t v)
{
    put_series(b, name, "", labels, npairs, NULL);
    buf_printf(b, " %" PRIu64 "\n", v);
}

void prom_sample_i(buf *b, const char *name, const char *const *labels, size_t npairs, int64_t v)
{
    put_series(b, name, "", labels, npairs, NULL);
    buf_printf(b, " %" PRId64 "\n", v);
}

/* Microseconds as exact decimal seconds: 2500 -> "0.0025", 1000000 -> "1". */
static void us_to_seconds(char *out, size_t cap, uint64_t us)
{
    int n = snprintf(out, cap, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
    while (n > 0 && out[n - 1] == '0') out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.') out[--n] = '\0';
}

void prom_histogram(buf *b, const char *name, const char *const *labels, size_t npairs,
                    const prom_hist *h)
{
    char le[32];
    uint64_t cum = 0;
    for (size_t i = 0; i < PROM_BUCKETS; i++) {
        cum += h->bucket[i];
        us_to_seconds(le, sizeof le, prom_bounds_us[i]);
        put_series(b, name, "_bucket", labels, npairs, le);
        buf_printf(b, " %" PRIu64 "\n", cum);
    }
    cum += h->bucket[PROM_BUCKETS];
    put_series(b, name, "_bucket", labels, npairs, "+Inf");
    buf_printf(b, " %" PRIu64 "\n", cum);
    us_to_seconds(le, sizeof le, h->sum_us);
    put_series(b, name, "_sum", labels, npairs, NULL);
    buf_printf(b, " %s\n", le);
    put_series(b, name, "_count", labels, npairs, NULL);
    buf_printf(b, " %" PRIu64 "\n", cum);
}
