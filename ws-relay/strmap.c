/* strmap.c - chained hash table keyed by byte strings (FNV-1a); see strmap.h.
 * Deliberately not here: ownership of keys or values, ordering, shrinking below the
 * first allocation (an emptied map frees its table instead). */
#include "strmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static unsigned hash_bytes(const char *s, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static strmap_ent *find(const strmap *m, const char *key, size_t klen, unsigned h)
{
    if (!m->nslots) return NULL;
    for (strmap_ent *e = m->slots[h & (m->nslots - 1)]; e; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) return e;
    return NULL;
}

void *strmap_get(const strmap *m, const char *key, size_t klen)
{
    strmap_ent *e = find(m, key, klen, hash_bytes(key, klen));
    return e ? e->val : NULL;
}

/* Double the slot array (or create it) and rehash every entry into it. */
static void grow(strmap *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 8;
    strmap_ent **slots = xcalloc(n, sizeof *slots);
    for (size_t i = 0; i < m->nslots; i++) {
        strmap_ent *e = m->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = slots[e->hash & (n - 1)];
            slots[e->hash & (n - 1)] = e;
        }
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
}

void strmap_put(strmap *m, const char *key, size_t klen, void *val)
{
    unsigned h = hash_bytes(key, klen);
    strmap_ent *e = find(m, key, klen, h);
    if (e) {
        e->key = key;
        e->val = val;
        return;
    }
    if (m->count >= m->nslots) grow(m);
    e = xmalloc(sizeof *e);
    e->key = key;
    e->klen = klen;
    e->hash = h;
    e->val = val;
    e->next = m->slots[h & (m->nslots - 1)];
    m->slots[h & (m->nslots - 1)] = e;
    m->count++;
}

void *strmap_del(strmap *m, const char *key, size_t klen)
{
    if (!m->nslots) return NULL;
    unsigned h = hash_bytes(key, klen);
    for (strmap_ent **pp = &m->slots[h & (m->nslots - 1)]; *pp; pp = &(*pp)->next) {
        strmap_ent *e = *pp;
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
            void *val = e->val;
            *pp = e->next;
            free(e);
            m->count--;
            if (m->count == 0) strmap_free(m); /* empty maps hold no memory */
            return val;
        }
    }
    return NULL;
}

void strmap_free(strmap *m)
{
    for (size_t i = 0; i < m->nslots; i++) {
        strmap_ent *e = m->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(m->slots);
    m->slots = NULL;
    m->nslots = m->count = 0;
}

strmap_ent *strmap_next(const strmap *m, size_t *slot, strmap_ent **cur)
{
    if (*cur && (*cur)->next) return *cur = (*cur)->next;
    for (size_t i = *cur ? *slot + 1 : *slot; i < m->nslots; i++) {
        if (m->slots[i]) {
            *slot = i;
            return *cur = m->slots[i];
        }
    }
    *slot = m->nslots;
    return *cur = NULL;
}
