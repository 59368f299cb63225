// Growable buffers and a JSON walker for tessera-cni (cni/shim/main.c): the top-level members of one
// object, nested values skipped, never interpreted. Bounded by the caller's limits.
#ifndef TESSERA_CNI_JSON_H
#define TESSERA_CNI_JSON_H
#include <stddef.h>

struct buf { char *p; size_t n, cap; };
void put(struct buf *b, const char *s, size_t n);
void puts_(struct buf *b, const char *s);
void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal; other bytes pass through as they are (the agent decodes them as UTF-8). */
void put_json(struct buf *b, const char *s, size_t n);

struct cur { const char *p, *end; };
/* Decodes the string at c->p (a '"') into out when out is set, at most max bytes; -1 if malformed, too long or holding NUL. */
int str(struct cur *c, struct buf *out, size_t max);
/* Calls fn for each top-level member of the object in [p, p+n), in order; -1 if it is not a well-framed object
   (members before the defect have been delivered). */
typedef void (*member_fn)(void *ctx, const char *key, struct cur *value);
int walk(const char *p, size_t n, member_fn fn, void *ctx);
/* A non-negative integer member, or -1 (not one, or above 2^53). */
long long integer(struct cur *v);
#endif
