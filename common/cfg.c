/* cfg.c - KEY = value configuration file with environment overrides; see cfg.h.
 * Keeps the parsed file in a small array: a handful of keys, read once at start. */
#include "cfg.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kv {
    char *key;
    char *val;
};

static struct kv *cfg_items;
static size_t cfg_n;

void cfg_reset(void)
{
    for (size_t i = 0; i < cfg_n; i++) {
        free(cfg_items[i].key);
        free(cfg_items[i].val);
    }
    free(cfg_items);
    cfg_items = NULL;
    cfg_n = 0;
}

const char *cfg_default_path(void)
{
    const char *p = getenv("CHAT_CONF");
    return p && *p ? p : "conf/chat.conf";
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static void cfg_set(const char *key, const char *val)
{
    for (size_t i = 0; i < cfg_n; i++) {
        if (strcmp(cfg_items[i].key, key) == 0) {
            free(cfg_items[i].val);
            cfg_items[i].val = xstrdup(val);
            return;
        }
    }
    cfg_items = xrealloc(cfg_items, (cfg_n + 1) * sizeof *cfg_items);
    cfg_items[cfg_n].key = xstrdup(key);
    cfg_items[cfg_n].val = xstrdup(val);
    cfg_n++;
}

int cfg_load(const char *path, int must_exist, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!must_exist && errno == ENOENT) return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected KEY = value", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        int ok = *key != '\0';
        for (char *k = key; *k; k++)
            if (!(isupper((unsigned char)*k) || isdigit((unsigned char)*k) || *k == '_')) ok = 0;
        if (!ok) {
            snprintf(err, errlen, "%s:%d: bad key (use UPPER_CASE)", path, lineno);
            rc = -1;
            break;
        }
        size_t vn = strlen(val);
        if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"') {
            val[vn - 1] = '\0';
            val++;
        }
        cfg_set(key, val);
    }
    fclose(f);
    return rc;
}

const char *cfg_str(const char *key, const char *def)
{
    const char *e = getenv(key);
    if (e && *e) return e;
    for (size_t i = 0; i < cfg_n; i++)
        if (strcmp(cfg_items[i].key, key) == 0) return cfg_items[i].val;
    return def;
}

long cfg_int(const char *key, long def, long min, long max)
{
    const char *s = cfg_str(key, NULL);
    long v;
    if (!s) return def;
    if (parse_long(s, min, max, &v) != 0) {
        log_warn("config", "key=%s value=%s problem=\"not an integer in [%ld,%ld]\" using=%ld",
                 key, log_q(0, s), min, max, def);
        return def;
    }
    return v;
}
