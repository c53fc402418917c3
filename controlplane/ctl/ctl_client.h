/* SPDX-License-Identifier: MIT */
/*
 * fastgatectl's side of the control plane's socket (protocol in cpctl_server.h): connect,
 * send one request line, read one response line, all under one deadline, and check that the
 * response is a JSON object that is not an error. Every failure comes with a message for the
 * operator that names the socket and, where it helps, the likely cause. No state: each call
 * owns its socket; safe from any thread.
 */
#ifndef FG_CP_CTL_CLIENT_H
#define FG_CP_CTL_CLIENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum {
	FG_CPCTL_TIMEOUT_MS = 5000,            /* connect + request + response */
	FG_CPCTL_MAX_RESPONSE = 256 << 20,     /* bytes in one response line */
	FG_CPCTL_ERRLEN = 512,                 /* a message buffer that always suffices */
};

/* Sends {"cmd":cmd} to the server at path and reads its response line within timeout_ms.
 * 0: *line is the response (malloc'd, NUL-terminated, newline stripped), *len its length.
 * Otherwise -errno, *line NULL, and err holds a message without a program-name prefix:
 *   -ENOENT, -ECONNREFUSED   nobody serves path ("... (is fastgate-controlplane running?)")
 *   -EACCES, -EPERM          the socket's mode or directory refuses us
 *   -ETIMEDOUT               no complete response in time
 *   -EPROTO                  the server closed before a whole line
 *   -EMSGSIZE                a response over FG_CPCTL_MAX_RESPONSE
 *   -ENAMETOOLONG, -ENOMEM, other socket errors. */
int fg_ctl_client_request(const char *path, const char *cmd, int timeout_ms, char **line,
			  size_t *len, char *err, size_t errlen);

/* Checks one response line. 0 and *json (an object; the caller frees it). -EPROTO when the
 * line is not one JSON object (*json NULL, err says what is wrong). -EREMOTEIO when it is an
 * error object: *json is still set and err holds the server's message, control characters
 * replaced. */
int fg_ctl_client_parse(const char *line, size_t len, cJSON **json, char *err, size_t errlen);

#endif
