// Growable buffers and the JSON walker of tessera-cni (json.h).
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

#define MAX_KEY (1 << 20)

void put(struct buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { fputs("tessera-cni: out of memory\n", stderr); exit(1); }
    b->p = p; b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}
void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }
void putf(struct buf *b, const char *fmt, ...) {
  char tmp[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  put(b, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
/* A JSON string literal; other bytes pass through as they are (the agent decodes them as UTF-8). */
void put_json(struct buf *b, const char *s, size_t n) {
  put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; put(b, e, 2); }
    else if (c < 0x20) putf(b, "\\u%04x", c);
    else put(b, (const char *)&c, 1);
  }
  put(b, "\"", 1);
}

// ---- a JSON walker: the top-level members of one object, nested values skipped (never interpreted) ----

static void ws(struct cur *c) { while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++; }
static int hexval(char h) { return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1; }
static int hex4(const char *p) { int v = 0; for (int i = 0; i < 4; i++) { int h = hexval(p[i]); if (h < 0) return -1; v = v * 16 + h; } return v; }

/* Decodes the string at c->p (a '"') into out (NUL-terminated) when out is set; -1 if malformed, too long or holding NUL. */
int str(struct cur *c, struct buf *out, size_t max) {
  if (c->p >= c->end || *c->p != '"') return -1;
  c->p++;
  while (c->p < c->end && *c->p != '"') {
    char ch = *c->p++;
    char enc[4];
    size_t n = 1;
    enc[0] = ch;
    if (ch == '\\') {
      if (c->p >= c->end) return -1;
      char e = *c->p++;
      const char *simple = strchr("\"\\/bfnrt", e);
      if (e && simple) enc[0] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      else if (e == 'u' && c->end - c->p >= 4) {
        long cp = hex4(c->p);
        c->p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
          int lo = hex4(c->p + 2);
          if (lo >= 0xDC00 && lo < 0xE000) { cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00); c->p += 6; }
        }
        if (cp < 0 || (cp == 0 && out)) return -1;
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* a lone surrogate, as JSON.parse + UTF-8 output gives */
        if (cp < 0x80) enc[0] = (char)cp;
        else if (cp < 0x800) { enc[0] = (char)(0xC0 | cp >> 6); enc[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
        else if (cp < 0x10000) { enc[0] = (char)(0xE0 | cp >> 12); enc[1] = (char)(0x80 | (cp >> 6 & 0x3F)); enc[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
        else { enc[0] = (char)(0xF0 | cp >> 18); enc[1] = (char)(0x80 | (cp >> 12 & 0x3F)); enc[2] = (char)(0x80 | (cp >> 6 & 0x3F)); enc[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
      } else return -1;
    }
    if (out) { if (out->n + n > max) return -1; put(out, enc, n); }
  }
  if (c->p >= c->end) return -1;
  c->p++;
  return 0;
}

static int skip(struct cur *c) {
  if (c->p >= c->end) return -1;
  if (*c->p == '"') return str(c, NULL, 0);
  if (*c->p != '{' && *c->p != '[') {
    const char *s = c->p;
    while (c->p < c->end && !strchr(",}] \t\r\n", *c->p)) c->p++;
    return c->p > s ? 0 : -1;
  }
  for (long depth = 0; c->p < c->end;) {
    if (*c->p == '"') { if (str(c, NULL, 0)) return -1; continue; }
    if (*c->p == '{' || *c->p == '[') depth++;
    else if (*c->p == '}' || *c->p == ']') depth--;
    c->p++;
    if (depth == 0) return 0;
  }
  return -1;
}

/* Calls fn for each top-level member of the object in [p, end); -1 if it is not a well-framed object. */
int walk(const char *p, size_t n, member_fn fn, void *ctx) {
  struct cur c = {p, p + n};
  ws(&c);
  if (c.p >= c.end || *c.p++ != '{') return -1;
  ws(&c);
  if (c.p < c.end && *c.p == '}') return 0;
  for (;;) {
    struct buf key = {0};
    ws(&c);
    int bad = str(&c, &key, MAX_KEY);
    ws(&c);
    if (bad || c.p >= c.end || *c.p++ != ':') { free(key.p); return -1; }
    ws(&c);
    struct cur v = c;
    fn(ctx, key.p ? key.p : "", &v);
    free(key.p);
    if (skip(&c)) return -1;
    ws(&c);
    if (c.p >= c.end) return -1;
    if (*c.p == '}') return 0;
    if (*c.p++ != ',') return -1;
  }
}

/* A non-negative integer member, or -1 (not one, or above 2^53). */
long long integer(struct cur *v) {
  long long x = 0;
  const char *p = v->p;
  if (p >= v->end || *p < '0' || *p > '9') return -1;
  for (; p < v->end && *p >= '0' && *p <= '9'; p++) { x = x * 10 + (*p - '0'); if (x > (1LL << 53)) return -1; }
  return p < v->end && strchr(".eE", *p) ? -1 : x;
}

