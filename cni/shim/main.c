// tessera-cni: the CNI executable. It forwards the CNI_* environment and stdin to the node's tessera-agent
// over its unix socket ({"raw":{"env":{...},"stdin":"..."}}, lib/cni-protocol.ts) and prints the answer
// ({"exitCode":N,"stdout":"...","log":"..."}). All CNI logic runs in the agent (cni/run.ts). The shim
// answers by itself only where the agent cannot: VERSION, an unreachable or silent agent, a broken answer,
// oversize input, and DEL while the agent is unreachable (del-pending grace, cni/README.md).
// Dependency-free C, built by tools/build.ts; see cni/README.md for why it is native.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

#ifndef TESSERA_VERSION
#define TESSERA_VERSION "dev"
#endif
#define MAX_STDIN (1 << 20)       /* lib/cni-protocol.ts MAX_STDIN_BYTES */
#define MAX_ENV_VALUE (64 << 10)  /* lib/cni-protocol.ts MAX_ENV_VALUE_BYTES */
#define MAX_ANSWER (4 << 20)      /* one answer line; a result is a few KiB */
#define MAX_PATH_VALUE 4096
#define LATEST "1.1.0"
#define DEFAULT_SOCKET "/var/run/tessera/cni.sock"

enum { E_DECODE = 6, E_ENV = 4, E_IO = 5, E_AGAIN = 11, E_NOT_AVAILABLE = 50 };

// ---- what the shim reads of the network config: where the agent is, how long to wait, where to log ----

struct conf {
  struct buf version, socket, logfile;
  int socket_bad;
  long long annotation_ms, installed_ms, grace_ms;
};
static void conf_member(void *ctx, const char *key, struct cur *v) {
  struct conf *k = ctx;
  struct cur c = *v;
  if (!strcmp(key, "cniVersion")) { k->version.n = 0; if (str(&c, &k->version, 16)) k->version.n = 0; }
  else if (!strcmp(key, "agentSocket")) { k->socket.n = 0; k->socket_bad = str(&c, &k->socket, MAX_PATH_VALUE) || k->socket.n == 0; }
  else if (!strcmp(key, "logFile")) { k->logfile.n = 0; if (str(&c, &k->logfile, MAX_PATH_VALUE)) k->logfile.n = 0; }
  else if (!strcmp(key, "annotationTimeoutMs")) k->annotation_ms = integer(&c);
  else if (!strcmp(key, "ovnInstalledTimeoutMs")) k->installed_ms = integer(&c);
  else if (!strcmp(key, "delUnreachableGraceMs")) k->grace_ms = integer(&c);
}
static const char *version_of(struct conf *k) {
  const char *v = k->version.n ? k->version.p : "";
  return !strcmp(v, "0.4.0") || !strcmp(v, "1.0.0") || !strcmp(v, "1.1.0") ? v : LATEST;
}

// ---- state of this call ----

static struct conf cfg = {.annotation_ms = -1, .installed_ms = -1, .grace_ms = -1};
static const char *command;
static struct timespec t0;

static double now_ms(clockid_t clk) { struct timespec t; clock_gettime(clk, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double elapsed_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6; }

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w; n -= (size_t)w;
  }
}

/* libcni's rules for CNI_CONTAINERID and CNI_IFNAME. */
static int valid_container_id(const char *s) {
  if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) return 0;
  for (; *s; s++) if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("_.-", *s))) return 0;
  return 1;
}
static int valid_ifname(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
  return strcspn(s, "/: \t\n\r\v\f") == n;
}
/* Appends one line to the config's logFile (absolute paths only), as cni/log.ts formats it. */
static void log_line(const char *line, size_t n) {
  if (!cfg.logfile.n || cfg.logfile.p[0] != '/' || !n) return;
  int fd = open(cfg.logfile.p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) { fprintf(stderr, "tessera-cni: cannot write log file %s: %s\n", cfg.logfile.p, strerror(errno)); return; }
  write_all(fd, line, n);
  close(fd);
}
static void log_own(int code, const char *msg) {
  struct buf l = {0};
  char ts[32];
  struct timespec t;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &t);
  gmtime_r(&t.tv_sec, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  putf(&l, "%s.%03ldZ %s", ts, t.tv_nsec / 1000000, command && *command ? command : "-");
  const char *id = getenv("CNI_CONTAINERID"), *ifn = getenv("CNI_IFNAME");
  if (valid_container_id(id) && strlen(id) < 256) putf(&l, " container=%s", id); /* only what cannot break the line */
  if (valid_ifname(ifn)) putf(&l, " ifname=%s", ifn);
  if (code) putf(&l, " error code=%d", code); else puts_(&l, " ok");
  putf(&l, " ms=%.1f", elapsed_ms());
  if (msg) { puts_(&l, " msg="); put_json(&l, msg, strlen(msg)); }
  puts_(&l, "\n");
  log_line(l.p, l.n);
  free(l.p);
}

/* Answers with the spec's error JSON in the caller's version, logs it, exits 1. */
static void fail(int code, const char *fmt, ...) {
  char msg[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  struct buf o = {0};
  putf(&o, "{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":", version_of(&cfg), code);
  put_json(&o, msg, strlen(msg));
  puts_(&o, "}\n");
  write_all(1, o.p, o.n);
  log_own(code, msg);
  exit(1);
}

/* stdin up to MAX_STDIN bytes; *over is set if there was more. */
static struct buf read_stdin(int *over) {
  struct buf in = {0};
  char chunk[65536];
  for (;;) {
    ssize_t r = read(0, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) { struct pollfd p = {0, POLLIN, 0}; poll(&p, 1, -1); continue; }
    if (r <= 0) break; /* EOF, or no stdin at all (EBADF): an empty config */
    if (in.n + (size_t)r > MAX_STDIN) { *over = 1; break; }
    put(&in, chunk, (size_t)r);
  }
  if (!in.p) put(&in, "", 0);
  return in;
}

/* VERSION needs nothing from the agent: the same answer as cni/plugin.ts cmdVersion. */
static void version(void) {
  char out[160];
  int n = snprintf(out, sizeof out, "{\"cniVersion\":\"%s\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n", version_of(&cfg));
  write_all(1, out, (size_t)n);
  exit(0);
}

// ---- one request and one answer on the agent socket, bounded by a deadline ----

enum outcome { ANSWERED, UNREACHABLE, FAILED };
static char why[8192];
static int why_code;

static enum outcome failed(enum outcome o, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  why_code = code;
  return o;
}

static const char *errname(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTSOCK: return "ENOTSOCK";
    case ECONNRESET: return "ECONNRESET";
    default: return NULL;
  }
}

/* Waits for fd to become ready for ev until deadline; 0 when ready, -1 at the deadline. */
static int wait_fd(int fd, short ev, double deadline) {
  for (;;) {
    double left = deadline - now_ms(CLOCK_MONOTONIC);
    if (left <= 0) return -1;
    struct pollfd p = {fd, ev, 0};
    int r = poll(&p, 1, left > 60000 ? 60000 : (int)left + 1);
    if (r > 0) return 0;
    if (r < 0 && errno != EINTR) return 0; /* let the next read/write report it */
  }
}

static enum outcome call_agent(const char *sock, const struct buf *req, long long timeout_ms, struct buf *ans) {
  double deadline = now_ms(CLOCK_MONOTONIC) + (double)timeout_ms;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof a.sun_path) return failed(UNREACHABLE, E_AGAIN, "tessera-agent is not reachable at %s: the socket path is longer than %zu bytes", sock, sizeof a.sun_path - 1);
  memcpy(a.sun_path, sock, strlen(sock));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(FAILED, E_IO, "talking to tessera-agent at %s: socket: %s", sock, strerror(errno));
  struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000}; /* bounds connect on a full backlog */
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(fd);
    if (e == EAGAIN || e == EINPROGRESS || e == EINTR) return failed(UNREACHABLE, E_AGAIN, "tessera-agent at %s did not accept the connection within %lld ms", sock, timeout_ms);
    if (errname(e)) return failed(UNREACHABLE, E_AGAIN, "tessera-agent is not reachable at %s (%s): is the tessera-agent pod running on this node?", sock, errname(e));
    return failed(FAILED, E_IO, "talking to tessera-agent at %s: %s", sock, strerror(e));
  }
  const char *cmd = command && *command ? command : "-";
  for (size_t off = 0; off < req->n;) {
    ssize_t w = send(fd, req->p + off, req->n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) { off += (size_t)w; continue; }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLOUT, deadline)) { close(fd); return failed(FAILED, E_AGAIN, "no answer from tessera-agent at %s within %lld ms for %s", sock, timeout_ms, cmd); }
      continue;
    }
    int e = errno;
    close(fd);
    return failed(FAILED, E_IO, "talking to tessera-agent at %s: %s", sock, strerror(e));
  }
  char chunk[65536];
  for (;;) {
    ssize_t r = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLIN, deadline)) { close(fd); return failed(FAILED, E_AGAIN, "no answer from tessera-agent at %s within %lld ms for %s", sock, timeout_ms, cmd); }
      continue;
    }
    if (r < 0) { int e = errno; close(fd); return failed(FAILED, E_IO, "talking to tessera-agent at %s: %s", sock, strerror(e)); }
    if (r == 0) break;
    char *nl = memchr(chunk, '\n', (size_t)r);
    put(ans, chunk, nl ? (size_t)(nl - chunk) : (size_t)r);
    if (nl) break;
    if (ans->n > MAX_ANSWER) { close(fd); return failed(FAILED, E_IO, "answer from tessera-agent exceeds %d bytes", MAX_ANSWER); }
  }
  close(fd);
  if (!ans->n) return failed(FAILED, E_IO, "tessera-agent at %s closed the connection without answering %s", sock, cmd);
  return ANSWERED;
}

struct answer { long long exit_code; struct buf out, log; int bad; };
static void answer_member(void *ctx, const char *key, struct cur *v) {
  struct answer *a = ctx;
  struct cur c = *v;
  if (!strcmp(key, "exitCode")) a->exit_code = integer(&c);
  else if (!strcmp(key, "stdout")) { a->out.n = 0; if (str(&c, &a->out, MAX_ANSWER)) a->bad = 1; else if (!a->out.p) put(&a->out, "", 0); }
  else if (!strcmp(key, "log")) { a->log.n = 0; if (str(&c, &a->log, MAX_ANSWER)) a->log.n = 0; }
}

// ---- DEL while the agent is unreachable: retry (11) for delUnreachableGraceMs, then release ----

/* <dir of agentSocket>/del-pending[/<container>_<ifname>]; 0 if it does not fit. */
static int pending_path(const char *sock, char *out, size_t size, int with_marker) {
  const char *slash = strrchr(sock, '/');
  int dlen = slash ? (slash == sock ? 1 : (int)(slash - sock)) : 1;
  const char *dir = slash ? sock : ".";
  int n = with_marker ? snprintf(out, size, "%.*s/del-pending/%s_%s", dlen, dir, getenv("CNI_CONTAINERID"), getenv("CNI_IFNAME"))
                      : snprintf(out, size, "%.*s/del-pending", dlen, dir);
  return n > 0 && (size_t)n < size;
}
static void mkdir_p(char *path) {
  for (char *p = path + 1; *p; p++) if (*p == '/') { *p = 0; mkdir(path, 0700); *p = '/'; }
  mkdir(path, 0700);
}
/* When the first DEL of this attachment failed (ms since the epoch), recorded now if unknown; -1 if it cannot be recorded. */
static double first_failure(const char *sock, double now) {
  char marker[8192], dir[8192];
  if (!pending_path(sock, marker, sizeof marker, 1) || !pending_path(sock, dir, sizeof dir, 0)) return -1;
  int fd = open(marker, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    char b[32] = {0};
    struct stat st;
    ssize_t r = read(fd, b, sizeof b - 1);
    double v = r > 0 ? strtod(b, NULL) : 0;
    if (!(v > 0) && fstat(fd, &st) == 0) v = st.st_mtim.tv_sec * 1e3 + st.st_mtim.tv_nsec / 1e6;
    close(fd);
    return v;
  }
  mkdir_p(dir);
  fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  char b[32];
  int n = snprintf(b, sizeof b, "%.0f", now);
  write_all(fd, b, (size_t)n);
  close(fd);
  return now;
}
static void forget_failure(const char *sock) {
  char marker[8192];
  if (valid_container_id(getenv("CNI_CONTAINERID")) && valid_ifname(getenv("CNI_IFNAME")) && pending_path(sock, marker, sizeof marker, 1)) unlink(marker);
}
static void del_unreachable(const char *sock) {
  if (!getenv("CNI_CONTAINERID") || !*getenv("CNI_CONTAINERID")) fail(E_ENV, "required env variable CNI_CONTAINERID is missing");
  if (!getenv("CNI_IFNAME") || !*getenv("CNI_IFNAME")) fail(E_ENV, "required env variable CNI_IFNAME is missing");
  if (!valid_container_id(getenv("CNI_CONTAINERID"))) fail(E_ENV, "env variable CNI_CONTAINERID is invalid: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$");
  if (!valid_ifname(getenv("CNI_IFNAME"))) fail(E_ENV, "env variable CNI_IFNAME is invalid");
  long long grace = cfg.grace_ms >= 0 ? cfg.grace_ms : 300000;
  double now = now_ms(CLOCK_REALTIME), since = first_failure(sock, now);
  if (since < 0 || now - since >= (double)grace) {
    forget_failure(sock); /* released: the agent's reconcile on start removes the port of a gone sandbox */
    log_own(0, NULL);
    exit(0);
  }
  long long left = ((long long)((double)grace - (now - since)) + 999) / 1000;
  fail(why_code, "%s; DEL will be retried (released without the agent in %lld s)", why, left);
}

// ---- main ----

extern char **environ;

static long long timeout_for(const char *cmd) {
  long long ann = cfg.annotation_ms >= 0 ? cfg.annotation_ms : 30000, inst = cfg.installed_ms >= 0 ? cfg.installed_ms : 20000;
  /* 12 s above the agent's waits: more than the agent server's own bound (+10 s), so its specific error comes first. */
  if (!strcmp(cmd, "ADD")) return ann + inst + 12000;
  if (!strcmp(cmd, "CHECK")) return inst + 12000;
  if (!strcmp(cmd, "DEL")) return 30000;
  if (!strcmp(cmd, "GC")) return 60000;
  return 5000; /* STATUS, and a missing or unknown command (the agent answers 4 at once) */
}

static void build_request(struct buf *req, const struct buf *in) {
  int count = 0;
  puts_(req, "{\"raw\":{\"env\":{");
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (strncmp(*e, "CNI_", 4) || !eq) continue;
    if (strlen(eq + 1) > MAX_ENV_VALUE) fail(E_ENV, "env variable %.*s exceeds %d bytes", (int)(eq - *e) > 64 ? 64 : (int)(eq - *e), *e, MAX_ENV_VALUE);
    if (++count > 64) fail(E_ENV, "more than 64 CNI_* env variables");
    if (count > 1) puts_(req, ",");
    put_json(req, *e, (size_t)(eq - *e));
    puts_(req, ":");
    put_json(req, eq + 1, strlen(eq + 1));
  }
  puts_(req, "},\"stdin\":");
  put_json(req, in->p, in->n);
  puts_(req, "}}\n");
}

int main(int argc, char **argv) {
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 1; i < argc; i++) if (!strcmp(argv[i], "--version")) { puts("tessera-cni " TESSERA_VERSION); return 0; }
  command = getenv("CNI_COMMAND");
  int over = 0;
  struct buf in = read_stdin(&over);
  /* Best effort (members before a defect still count): the agent reports a broken config precisely. */
  int unframed = walk(in.p, in.n, conf_member, &cfg);
  if (over) fail(E_DECODE, "failed to decode network config: stdin exceeds %d bytes", MAX_STDIN);
  if (command && !strcmp(command, "VERSION")) version();
  struct buf req = {0}, line = {0};
  build_request(&req, &in);
  if (cfg.socket_bad) fail(7, "invalid network config: field \"agentSocket\" must be a non-empty string of at most %d bytes", MAX_PATH_VALUE);
  const char *sock = cfg.socket.n ? cfg.socket.p : DEFAULT_SOCKET;
  const char *cmd = command ? command : "";
  enum outcome o = call_agent(sock, &req, timeout_for(cmd), &line);
  if (o == ANSWERED) {
    struct answer a = {.exit_code = -1};
    if (walk(line.p, line.n, answer_member, &a)) fail(E_IO, "tessera-agent at %s answered with invalid JSON", sock);
    if (a.bad || !a.out.p || a.exit_code < 0 || a.exit_code > 255) fail(E_IO, "tessera-agent at %s answered without an integer \"exitCode\" and a string \"stdout\"", sock);
    write_all(1, a.out.p, a.out.n);
    if (a.log.n) log_line(a.log.p, a.log.n);
    if (!strcmp(cmd, "DEL") && a.exit_code == 0) forget_failure(sock);
    return (int)a.exit_code;
  }
  if (o == UNREACHABLE && unframed) { /* no config to find the agent with: say so, in our version as the agent would */
    cfg.version.n = 0;
    fail(E_DECODE, "failed to decode network config: %s", strspn(in.p, " \t\r\n") == in.n ? "stdin is empty" : "not a JSON object");
  }
  if (!strcmp(cmd, "STATUS")) fail(E_NOT_AVAILABLE, "tessera-cni is not available: %s", why);
  if (!strcmp(cmd, "DEL") && o == UNREACHABLE) del_unreachable(sock);
  fail(why_code, "%s", why);
}
