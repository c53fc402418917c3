// SPDX-License-Identifier: MIT
/*
 * The client side of the fastgatectl socket (see ctl_client.h): a nonblocking socket driven
 * by poll() against one monotonic deadline, so a stuck or half-dead server costs at most the
 * timeout. No state between calls.
 */
#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "table.h"

enum {
	READ_FIRST = 64 << 10,     /* first response buffer; doubles up to FG_CPCTL_MAX_RESPONSE */
	BACKLOG_RETRY_MS = 10,     /* wait before retrying a connect refused by a full backlog */
	MESSAGE_MAX = 200,         /* bytes of a server's error message shown */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "5 s" or "250 ms", for the timeout message. */
static void fmt_timeout(char *buf, size_t len, int timeout_ms)
{
	if (timeout_ms % 1000 == 0)
		snprintf(buf, len, "%d s", timeout_ms / 1000);
	else
		snprintf(buf, len, "%d ms", timeout_ms);
}

/* Waits for events on fd until the deadline: 0, -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int do_connect(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
	for (;;) {
		int e;
		socklen_t elen = sizeof(e);

		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
			/* A Unix socket with a full backlog: the server is alive but busy. */
			if (now_ms() + BACKLOG_RETRY_MS >= deadline)
				return -ETIMEDOUT;
			poll(NULL, 0, BACKLOG_RETRY_MS);
			continue;
		case EINPROGRESS:
			e = wait_fd(fd, POLLOUT, deadline);
			if (e < 0)
				return e;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
				return -errno;
			return -e;
		default:
			return -errno;
		}
	}
}

static void connect_error(char *err, size_t errlen, const char *path, int e, const char *tmo)
{
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		fg_errbuf_set(err, errlen, "cannot connect to %s: %s (is fastgate-controlplane running?)", path,
			      strerror(e));
		break;
	case EACCES:
	case EPERM:
		fg_errbuf_set(err, errlen,
			      "cannot connect to %s: %s (run as root or as a member of the socket's group)",
			      path, strerror(e));
		break;
	case ETIMEDOUT:
		fg_errbuf_set(err, errlen, "cannot connect to %s: timed out after %s (the server is busy)", path,
			      tmo);
		break;
	default:
		fg_errbuf_set(err, errlen, "cannot connect to %s: %s", path, strerror(e));
		break;
	}
}

/* Writes the whole request. A server that answers and closes at once (too many
 * connections) breaks the pipe: 0 then too, so that the caller reads its answer. */
static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		int r;

		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads up to the first newline. 0 with the line in *out, or -errno. */
static int read_line(int fd, int64_t deadline, char **out, size_t *out_len)
{
	size_t cap = READ_FIRST, len = 0;
	char *buf = malloc(cap + 1);
	int r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		char *nl;

		if (len == cap) {
			char *bigger;

			if (cap >= FG_CPCTL_MAX_RESPONSE) {
				r = -EMSGSIZE;
				goto err;
			}
			cap = cap * 2 > FG_CPCTL_MAX_RESPONSE ? FG_CPCTL_MAX_RESPONSE : cap * 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				r = -ENOMEM;
				goto err;
			}
			buf = bigger;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				r = errno == ECONNRESET ? -EPROTO : -errno;
				goto err;
			}
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				goto err;
			continue;
		}
		if (n == 0) {
			r = -EPROTO;
			goto err;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			*out = buf;
			*out_len = (size_t)(nl - buf);
			return 0;
		}
	}
err:
	*out_len = len;
	free(buf);
	return r;
}

int fg_ctl_client_request(const char *path, const char *cmd, int timeout_ms, char **line,
			  size_t *len, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + timeout_ms;
	char tmo[32];
	cJSON *req = NULL;
	char *text = NULL;
	size_t n, got = 0;
	int fd, r;

	*line = NULL;
	*len = 0;
	fmt_timeout(tmo, sizeof(tmo), timeout_ms);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		connect_error(err, errlen, path, ENAMETOOLONG, tmo);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	req = cJSON_CreateObject();
	if (!req || !cJSON_AddStringToObject(req, "cmd", cmd) || !(text = cJSON_PrintUnformatted(req))) {
		cJSON_Delete(req);
		fg_errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cJSON_Delete(req);
	n = strlen(text);
	text[n] = '\n';  /* cJSON's buffer holds the NUL here; the line is sent by length */

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		fg_errbuf_set(err, errlen, "socket: %s", strerror(-r));
		goto err_free;
	}
	r = do_connect(fd, &sa, deadline);
	if (r < 0) {
		connect_error(err, errlen, path, -r, tmo);
		goto err_close;
	}
	r = send_all(fd, text, n + 1, deadline);
	if (r == 0)
		r = read_line(fd, deadline, line, &got);
	switch (r) {
	case 0:
		*len = got;
		break;
	case -ETIMEDOUT:
		fg_errbuf_set(err, errlen, "no response from %s within %s (is fastgate-controlplane stuck?)",
			      path, tmo);
		break;
	case -EPROTO:
		if (got)
			fg_errbuf_set(err, errlen, "truncated response from %s (%zu bytes without a newline)",
				      path, got);
		else
			fg_errbuf_set(err, errlen, "%s closed the connection without a response", path);
		break;
	case -EMSGSIZE:
		fg_errbuf_set(err, errlen, "response from %s is larger than %d MiB", path,
			      FG_CPCTL_MAX_RESPONSE >> 20);
		break;
	default:
		fg_errbuf_set(err, errlen, "talking to %s: %s", path, strerror(-r));
		break;
	}
err_close:
	close(fd);
err_free:
	free(text);
	return r;
}

/* Copies a server's message, with control characters (a terminal's escapes) replaced. */
static void copy_message(char *err, size_t errlen, const char *msg)
{
	size_t n = strnlen(msg, MESSAGE_MAX);
	char raw[MESSAGE_MAX + 1], *clean;

	/* Cleaned as the renderer cleans text: C0 and C1 controls, DEL and invalid UTF-8 (a
	 * sequence cut at the limit too) become '?', since the message goes to a terminal. */
	memcpy(raw, msg, n);
	raw[n] = '\0';
	clean = fg_table_clean(raw);
	fg_errbuf_set(err, errlen, "error from fastgate-controlplane: %s%s", clean ? clean : "?",
		      msg[n] ? "..." : "");
	free(clean);
}

int fg_ctl_client_parse(const char *line, size_t len, cJSON **json, char *err, size_t errlen)
{
	const char *end = NULL;
	const cJSON *e;
	cJSON *o;

	*json = NULL;
	if (memchr(line, '\0', len)) {
		fg_errbuf_set(err, errlen, "a NUL byte in the response");
		return -EPROTO;
	}
	o = cJSON_ParseWithLengthOpts(line, len, &end, false);
	if (!o) {
		fg_errbuf_set(err, errlen, "not JSON");
		return -EPROTO;
	}
	while (end && end < line + len && (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (!end || end != line + len) {
		cJSON_Delete(o);
		fg_errbuf_set(err, errlen, "bytes after the JSON value");
		return -EPROTO;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		fg_errbuf_set(err, errlen, "not a JSON object");
		return -EPROTO;
	}
	*json = o;
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (!e)
		return 0;
	copy_message(err, errlen, cJSON_IsString(e) && e->valuestring ? e->valuestring : "(no message)");
	return -EREMOTEIO;
}
