/* cfg.h - configuration: `conf/chat.conf` (KEY = value lines, `#` comments) with
 * environment variables of the same name taking precedence.
 *
 * Lookups are by the upper-case key, e.g. cfg_str("REDIS_URL", "redis://...").
 * The table of known keys and their defaults lives in docs/CONFIG.md; a key the
 * file sets but nothing reads is harmless. Not thread-safe: load once at start. */
#ifndef CHAT_CFG_H
#define CHAT_CFG_H

#include <stddef.h>

/* Load a config file. A missing file at the default path is fine (returns 0); a
 * missing file named explicitly, or a malformed line, fills err and returns -1. */
int cfg_load(const char *path, int must_exist, char *err, size_t errlen);

/* Value of KEY: environment first, then the file, then def. The returned string is
 * owned by the config (or the environment) and lives until cfg_reset(). */
const char *cfg_str(const char *key, const char *def);

/* Integer value of KEY within [min,max]; an unparsable or out-of-range value logs a
 * warning and yields def. */
long cfg_int(const char *key, long def, long min, long max);

/* Forget everything loaded (tests). */
void cfg_reset(void);

/* The default config path: $CHAT_CONF, else "conf/chat.conf". */
const char *cfg_default_path(void);

#endif
