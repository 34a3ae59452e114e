/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * control.c - the control socket: one JSON request and one JSON reply per
 * connection, each a single line (see control.h for the protocol).
 *
 * Both ends use nonblocking sockets and poll() against one deadline per
 * connection, so a stalled peer costs at most CONTROL_SERVER_TIMEOUT_MS of
 * the controller's loop and CONTROL_CLIENT_TIMEOUT_MS of the CLI's time.
 * Sends use MSG_NOSIGNAL: a peer that hangs up must not kill us by SIGPIPE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "proto/control.h"
#include "base/clock.h"
#include "base/files.h"

#define CONTROL_BACKLOG 64
#define CONTROL_ERROR_MAX 512

/* Wait until <fd> is ready for <events> or <deadline> (ms, monotonic) passes. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int n;

	for (;;) {
		left = deadline - (long long)clock_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 0;	/* POLLERR/POLLHUP: the next call reports it */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Send all of <buf>. The first attempt ignores <deadline> so that a best-effort
 * reply still goes out after a read timeout when the socket has room. */
static int write_all(int fd, const char *buf, size_t len, long long deadline)
{
	ssize_t n;
	int err;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Read one line (without its '\n') into a NUL-terminated malloc'ed <*line>.
 * A last line without '\n' before EOF counts. Returns 0, -ENODATA for EOF
 * before any byte, -EMSGSIZE past <max> bytes, -ETIMEDOUT, other -errno.
 */
static int read_line(int fd, size_t max, long long deadline, char **line, size_t *len)
{
	size_t used = 0, cap = 0;
	char *buf = NULL, *nl, *tmp;
	ssize_t n;
	int err;

	*line = NULL;
	*len = 0;
	for (;;) {
		if (cap - used < 4096) {
			cap = cap ? cap * 2 : 8192;
			tmp = realloc(buf, cap + 1);
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			buf = tmp;
		}
		n = recv(fd, buf + used, cap - used, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				err = -errno;
				goto out;
			}
			err = wait_fd(fd, POLLIN, deadline);
			if (err)
				goto out;
			continue;
		}
		if (n == 0) {
			if (!used) {
				err = -ENODATA;
				goto out;
			}
			break;
		}
		nl = memchr(buf + used, '\n', n);
		used += n;
		if (nl) {
			used = nl - buf;
			break;
		}
		if (used > max) {
			err = -EMSGSIZE;
			goto out;
		}
	}
	if (used > max) {
		err = -EMSGSIZE;
		goto out;
	}
	buf[used] = '\0';
	*line = buf;
	*len = used;
	buf = NULL;
	err = 0;
out:
	free(buf);
	return err;
}

/* Send <msg> as one compact JSON line, in one piece with its '\n'. */
static int send_json_line(int fd, const json_t *msg, long long deadline)
{
	char *text, *line;
	size_t len;
	int err;

	text = json_dumps(msg, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	memcpy(line + len, "\n", 2);
	err = write_all(fd, line, len + 1, deadline);
	free(line);
	return err;
}

static int fill_sockaddr(const char *path, struct sockaddr_un *sa)
{
	size_t len = strlen(path);

	if (!len)
		return -EINVAL;
	/* No silent truncation: a cut path would name some other socket. */
	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

int control_default_socket(const char *instance, char *buf, size_t len)
{
	const char *env = getenv(CONTROL_SOCKET_ENV);
	struct sockaddr_un sa;
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else
		n = snprintf(buf, len, CONTROL_SOCKET_DIR "/%s.sock",
			     instance && *instance ? instance : "limpet");
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/* Is a controller accepting on <sa>? 0 yes, -ECONNREFUSED for a stale socket. */
static int probe_socket(const struct sockaddr_un *sa)
{
	int fd, err = 0;

	/* Nonblocking: a live controller with a full backlog must not hang us. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) && errno != EAGAIN)
		err = -errno;
	close(fd);
	return err;
}

int control_listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd = -1, err;

	err = fill_sockaddr(path, &sa);
	if (err)
		return err;
	err = files_mkdir_parents(path, 0755);
	if (err)
		return err;

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		err = probe_socket(&sa);
		if (!err)
			return -EADDRINUSE;
		if (err != -ECONNREFUSED)
			return err;
		/* Left behind by a controller that died: take its place. */
		if (unlink(path) && errno != ENOENT)
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Linux gives the socket file the fd's mode at bind(): with this there is
	 * no moment in which other users could connect. chmod() below makes sure. */
	(void)fchmod(fd, 0600);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	if (chmod(path, 0600) || listen(fd, CONTROL_BACKLOG)) {
		err = -errno;
		unlink(path);
		goto out;
	}
	return fd;
out:
	close(fd);
	return err;
}

int control_serve_one(int listen_fd, control_handler_fn handler, void *ctx)
{
	json_t *request = NULL, *reply = NULL;
	long long deadline;
	json_error_t jerr;
	char *line = NULL;
	size_t len;
	int fd, err, read_err;

	fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	deadline = (long long)clock_mono_ms() + CONTROL_SERVER_TIMEOUT_MS;

	read_err = read_line(fd, CONTROL_REQUEST_MAX, deadline, &line, &len);
	switch (read_err) {
	case 0:
		break;
	case -ENODATA:
		/* Connected and hung up: a liveness probe (see control_listen). */
		err = 0;
		goto out;
	case -EMSGSIZE:
		reply = control_reply_error("bad request: longer than %d bytes",
					    CONTROL_REQUEST_MAX);
		break;
	case -ETIMEDOUT:
		reply = control_reply_error("bad request: no complete line within %d ms",
					    CONTROL_SERVER_TIMEOUT_MS);
		break;
	default:
		err = read_err;
		goto out;
	}

	if (!reply) {
		request = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!request)
			reply = control_reply_error("bad request: %s", jerr.text);
		else if (!json_is_object(request))
			reply = control_reply_error("bad request: not a JSON object");
		else
			reply = handler(ctx, request);
		if (!reply)
			reply = control_reply_error("internal error");
		if (!reply) {
			err = -ENOMEM;
			goto out;
		}
	}

	err = send_json_line(fd, reply, deadline);
	if (!err)
		err = read_err;
out:
	json_decref(reply);
	json_decref(request);
	free(line);
	close(fd);
	return err;
}

static const char *connect_hint(int err)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		return " (is 'limpet run' running?)";
	case -EACCES:
	case -EPERM:
		return " (the socket is root-only)";
	default:
		return "";
	}
}

int control_request(const char *path, json_t *request, json_t **reply, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = CONTROL_CLIENT_TIMEOUT_MS / 1000 };
	long long deadline = (long long)clock_mono_ms() + CONTROL_CLIENT_TIMEOUT_MS;
	struct sockaddr_un sa;
	json_t *msg = NULL;
	json_error_t jerr;
	char *line = NULL;
	size_t len;
	int fd = -1, ret;

	*reply = NULL;
	ret = fill_sockaddr(path, &sa);
	if (ret) {
		snprintf(err, errlen, "invalid control socket path \"%s\": %s", path,
			 strerror(-ret));
		return ret;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create socket: %s", strerror(-ret));
		goto out;
	}
	/* A blocking connect waits while the backlog is full: bound that wait. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		if (ret == -EAGAIN || ret == -EINPROGRESS)
			ret = -ETIMEDOUT;
		snprintf(err, errlen, "cannot reach controller at %s: %s%s", path,
			 strerror(-ret), connect_hint(ret));
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		ret = -errno;
		snprintf(err, errlen, "cannot set up socket: %s", strerror(-ret));
		goto out;
	}

	ret = send_json_line(fd, request, deadline);
	if (ret) {
		snprintf(err, errlen, "cannot send request to controller at %s: %s", path,
			 strerror(-ret));
		goto out;
	}
	shutdown(fd, SHUT_WR);

	ret = read_line(fd, CONTROL_REPLY_MAX, deadline, &line, &len);
	if (ret == -ETIMEDOUT) {
		snprintf(err, errlen, "controller at %s did not answer within %d s", path,
			 CONTROL_CLIENT_TIMEOUT_MS / 1000);
		goto out;
	} else if (ret == -ENODATA) {
		ret = -ECONNRESET;
		snprintf(err, errlen, "controller at %s closed the connection without answering",
			 path);
		goto out;
	} else if (ret) {
		snprintf(err, errlen, "cannot read reply from controller at %s: %s", path,
			 strerror(-ret));
		goto out;
	}

	msg = json_loadb(line, len, 0, &jerr);
	if (!msg || !json_is_object(msg) || !json_is_boolean(json_object_get(msg, "ok"))) {
		ret = -EPROTO;
		snprintf(err, errlen, "invalid reply from controller at %s: %s", path,
			 msg ? "not an object with \"ok\"" : jerr.text);
		goto out;
	}
	*reply = msg;
	msg = NULL;
	ret = 0;
out:
	json_decref(msg);
	free(line);
	if (fd >= 0)
		close(fd);
	return ret;
}

json_t *control_reply_ok(json_t *result)
{
	/* "o" steals <result>, even when packing fails. */
	return json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_null());
}

json_t *control_reply_error(const char *fmt, ...)
{
	char msg[CONTROL_ERROR_MAX];
	json_t *text;
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The CLI prints the error as one line of its own. */
	for (p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	text = json_string(msg);
	if (!text) {
		/* Not UTF-8 (a name echoed from somewhere): keep it ASCII. */
		for (p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		text = json_string(msg);
	}
	if (!text)
		return NULL;
	return json_pack("{s:b, s:o}", "ok", 0, "error", text);
}
