/* list.h - an intrusive, circular, doubly linked list (the Linux kernel's shape).
 *
 * Embed a list_node in the struct to be listed and keep one list_node as the head
 * (list_init it, or LIST_INIT(name) statically). Insertion and removal are O(1) and
 * never allocate; list_entry() gets back from a node to its struct. A node that is
 * not on a list has prev == next == NULL (list_del leaves it so, calloc'd structs
 * start so), which list_linked() tells. Walks that may remove the current node use
 * list_for_each_safe.
 *
 * Deliberately not here: ownership (the list never frees anything) and locking. */
#ifndef CHAT_LIST_H
#define CHAT_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct list_node {
    struct list_node *prev, *next;
} list_node;

#define LIST_INIT(name) {&(name), &(name)}

static inline void list_init(list_node *head) { head->prev = head->next = head; }
static inline bool list_empty(const list_node *head) { return head->next == head; }
static inline bool list_linked(const list_node *n) { return n->next != NULL; }

static inline void list_insert_(list_node *n, list_node *prev, list_node *next)
{
    n->prev = prev;
    n->next = next;
    prev->next = n;
    next->prev = n;
}

/* Add n (not on any list) first / last. */
static inline void list_add(list_node *head, list_node *n) { list_insert_(n, head, head->next); }
static inline void list_add_tail(list_node *head, list_node *n) { list_insert_(n, head->prev, head); }

/* Take n off its list (no-op when it is on none). */
static inline void list_del(list_node *n)
{
    if (!n->next) return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

#define list_entry(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
/* The first entry, or NULL when the list is empty. */
#define list_first(head, type, member) (list_empty(head) ? NULL : list_entry((head)->next, type, member))
#define list_for_each(pos, head) for (list_node *pos = (head)->next; pos != (head); pos = pos->next)
#define list_for_each_safe(pos, head)                                                        \
    for (list_node *pos = (head)->next, *pos##_next = pos->next; pos != (head);             \
         pos = pos##_next, pos##_next = pos->next)

#endif
