/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control.h - the control socket between `limpet run` and the CLI.
 *
 * A Unix stream socket, one request per connection: the client connects,
 * sends one compact JSON object followed by '\n', the controller answers
 * with one JSON object and '\n' and closes. Every request carries "cmd";
 * every reply is {"ok":true,"result":<any>} or {"ok":false,"error":"<one
 * line>"}. The socket is mode 0600: whoever may open it may reconfigure
 * the balancer, so there is no other authentication.
 *
 * Functions return 0 (or a file descriptor) on success and -errno on error.
 */
#ifndef LIMPET_CONTROL_H
#define LIMPET_CONTROL_H

#include <stddef.h>
#include <jansson.h>

#define CONTROL_SOCKET_DIR "/run/limpet"
#define CONTROL_SOCKET_ENV "LIMPET_SOCKET"

#define CONTROL_REQUEST_MAX (64 * 1024)		/* longest request line */
#define CONTROL_REPLY_MAX (64 * 1024 * 1024)	/* longest reply line */
#define CONTROL_SERVER_TIMEOUT_MS 2000		/* server: read request + write reply */
#define CONTROL_CLIENT_TIMEOUT_MS 10000		/* client: connect to end of reply */

/*
 * Default socket path for <instance> into <buf>: $LIMPET_SOCKET if set and
 * non-empty, else /run/limpet/<instance>.sock. Returns 0 or -ENAMETOOLONG
 * when the path does not fit <buf> or a sockaddr_un.
 */
int control_default_socket(const char *instance, char *buf, size_t len);

/*
 * Server: create the parent directory (0755), replace a stale socket left
 * by a dead controller, bind, chmod 0600 and listen. Returns a nonblocking,
 * close-on-exec listening fd, or -EADDRINUSE when a live controller answers
 * on <path>, -EEXIST when <path> exists and is not a socket, other -errno.
 */
int control_listen(const char *path);

/*
 * Build the reply to <request> (always a JSON object). Return a new
 * reference, normally from control_reply_ok() or control_reply_error();
 * NULL is answered with an "internal error" reply.
 */
typedef json_t *(*control_handler_fn)(void *ctx, const json_t *request);

/*
 * Server: accept one connection on <listen_fd>, read one request line
 * (CONTROL_REQUEST_MAX, CONTROL_SERVER_TIMEOUT_MS), call <handler>, write
 * the reply and close. A request that is not a JSON object is answered
 * {"ok":false,"error":"bad request: ..."} without calling <handler>.
 * Returns 0 when a request was answered, -EAGAIN when no connection was
 * pending, other -errno when the connection failed (the listening socket
 * stays usable either way).
 */
int control_serve_one(int listen_fd, control_handler_fn handler, void *ctx);

/*
 * Client: send <request> to the controller at <path> and wait for the reply
 * (CONTROL_CLIENT_TIMEOUT_MS). Returns 0 and a new reference in <*reply>,
 * an object with a boolean "ok" (the caller checks it and json_decref()s);
 * or -errno with one line naming the problem in <err>, e.g.
 * "cannot reach controller at /run/limpet/limpet.sock: No such file or
 * directory (is 'limpet run' running?)".
 */
int control_request(const char *path, json_t *request, json_t **reply, char *err, size_t errlen);

/* {"ok":true,"result":<result>}; <result> is stolen, NULL sends null. */
json_t *control_reply_ok(json_t *result);

/* {"ok":false,"error":"<formatted>"}; line breaks become spaces. */
json_t *control_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* LIMPET_CONTROL_H */
