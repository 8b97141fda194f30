/* strmap.h - a small chained hash table from byte-string keys to pointers.
 *
 * The map does not own keys or values: each entry points at a key that must live as
 * long as the entry (callers keep the key inside the value they store). It grows by
 * doubling and never shrinks below its initial size; an empty map holds no memory.
 * Deliberately minimal: no ordering, no iteration while inserting or deleting (the
 * callers collect first, then modify). */
#ifndef RELAY_STRMAP_H
#define RELAY_STRMAP_H

#include <stddef.h>

typedef struct strmap_ent {
    struct strmap_ent *next;
    const char *key;
    size_t klen;
    unsigned hash;
    void *val;
} strmap_ent;

typedef struct strmap {
    strmap_ent **slots;
    size_t nslots; /* power of two, or 0 before the first insert */
    size_t count;
} strmap;

#define STRMAP_INIT {NULL, 0, 0}

/* The value stored under key[0..klen), or NULL. */
void *strmap_get(const strmap *m, const char *key, size_t klen);
/* Store val under key (which must outlive the entry). Replaces an existing value. */
void strmap_put(strmap *m, const char *key, size_t klen, void *val);
/* Remove key; returns the value it had, or NULL. */
void *strmap_del(strmap *m, const char *key, size_t klen);
/* Free the table itself (not keys or values). The map is empty and reusable after. */
void strmap_free(strmap *m);

/* Iteration: start with slot = 0 and cur = NULL; each call returns the next entry, or
 * NULL at the end. The map must not change during a walk. */
strmap_ent *strmap_next(const strmap *m, size_t *slot, strmap_ent **cur);

#endif
