/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - the Prometheus endpoint (metrics.listen in the config): text
 * exposition format 0.0.4 at http://<listen>/metrics.
 *
 * The HTTP server does no work on its own: the controller adds metrics_fd()
 * to its epoll set (EPOLLIN), calls metrics_process() when it is readable and
 * on its periodic tick, and never sleeps longer than metrics_timeout_ms().
 * A scrape calls the controller's render callback on the controller's thread,
 * so the callback reads controller state without locks.
 *
 * The render callback writes through the helpers below, which produce valid
 * exposition text or nothing: the first misuse (an invalid name, a sample
 * outside its family, a family emitted twice) or allocation failure sticks to
 * the buffer and that scrape answers 500 naming the problem, rather than
 * serving text that Prometheus would reject or misread.
 */
#ifndef LIMPET_METRICS_H
#define LIMPET_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Enough for a few label pairs whose values are names up to LIMPET_NAME_MAX, escaped. */
#define METRICS_LABELS_MAX 1024

/* Growable text: the body of one scrape. */
struct metrics_buf;

struct metrics_buf *metrics_buf_new(void);
void metrics_buf_free(struct metrics_buf *b);
/* The text so far (NUL-terminated) and its length in <len> if not NULL. */
const char *metrics_buf_text(const struct metrics_buf *b, size_t *len);
/* 0, or the first error (-errno) with a one-line reason in <why> if not NULL. */
int metrics_buf_error(const struct metrics_buf *b, const char **why);

/*
 * Fail this scrape with <err> (-errno) and a reason, e.g. when a map cannot
 * be read: Prometheus then marks the target down (up == 0) instead of
 * storing partial numbers. The first failure wins.
 */
void metrics_fail(struct metrics_buf *b, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Raw text, for what the helpers do not cover; the caller keeps it valid. */
void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Start family <name> of <type> ("counter" or "gauge"): its # HELP (escaped)
 * and # TYPE lines. Call it once, then emit all of the family's samples:
 * Prometheus wants each family in one block. Calling it again for the family
 * that is still open does nothing, so a loop may call it per item.
 */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help);

/*
 * One sample of the open family: "<name>{<labels>} <value>". <labels> comes
 * from metrics_labels(); "" for none. NULL (what metrics_labels() returns
 * when the labels did not fit) fails the scrape rather than merging series.
 * Integral values print without exponent or fraction; NaN and +-Inf as
 * Prometheus spells them.
 */
void metrics_sample(struct metrics_buf *b, const char *name, const char *labels, double value);
/* Counters: exact up to 2^64 - 1, where a double stops at 2^53. */
void metrics_sample_u64(struct metrics_buf *b, const char *name, const char *labels,
			uint64_t value);

/*
 * Format NULL-terminated name/value pairs into <buf>:
 * metrics_labels(buf, sizeof(buf), "service", "web", "backend", "b1", NULL)
 * gives service="web",backend="b1". Values are escaped (\\, \", \n). Returns
 * <buf>, or NULL if it does not fit in <len> or a label name is invalid.
 */
const char *metrics_labels(char *buf, size_t len, ...) __attribute__((sentinel));

typedef void (*metrics_render_fn)(void *ctx, struct metrics_buf *b);

struct metrics_server;

/*
 * Parse <listen> ("127.0.0.1:9100", "[::1]:9100"; port 0 picks a free port,
 * see metrics_port()), bind exactly that address and listen. Returns the
 * server, or NULL with a one-line reason in <err> (a malformed address, or
 * the address as written and why it could not be bound).
 */
struct metrics_server *metrics_start(const char *listen, metrics_render_fn render, void *ctx,
				     char *err, size_t errlen);
/* An epoll fd: add it to the caller's epoll set for EPOLLIN. */
int metrics_fd(const struct metrics_server *m);
/* Milliseconds until metrics_process() must run even without an event; -1: no deadline. */
int metrics_timeout_ms(const struct metrics_server *m);
/* Accept, read, answer, expire idle connections. Never blocks. */
void metrics_process(struct metrics_server *m);
/* The bound port (host order). */
int metrics_port(const struct metrics_server *m);
/* Close every connection and the listening socket. NULL is a no-op. */
void metrics_stop(struct metrics_server *m);

#endif /* LIMPET_METRICS_H */
