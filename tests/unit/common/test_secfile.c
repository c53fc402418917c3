// SPDX-License-Identifier: MIT
/*
 * CUnit suite for common/secfile.c on real temporary files: private modes (0600, 0400, and
 * execute bits, which leak nothing) pass silently; any group or other read or write bit
 * (0644, 0640, 0620, 0604) is reported and logged with the path and the mode; a root-owned
 * file is never "foreign"; a file owned by another user is (checked when the suite runs as
 * root, which can chown); a bad descriptor is reported as unknown. The log is captured on a
 * non-blocking pipe. Single-threaded.
 */
#include "secfile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include "log.h"

enum { NOBODY = 65534 };

static int g_pipe[2] = { -1, -1 };
static char g_log[8192];
static char g_path[256];

/* A fresh private temporary file; its descriptor. */
static int temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(g_path, sizeof(g_path), "%s/fg-secfile-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(g_path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, "secret\n", 7) == 7);
	return fd;
}

static void temp_done(int fd)
{
	close(fd);
	unlink(g_path);
}

/* What was logged since the last call. */
static const char *logged(void)
{
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(g_log) - 1 && (r = read(g_pipe[0], g_log + n, sizeof(g_log) - 1 - n)) > 0)
		n += (size_t)r;
	g_log[n] = '\0';
	return g_log;
}

static int setup(void)
{
	if (pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC))
		return -1;
	fg_log_set_fd(g_pipe[1]);
	fg_log_set_format(FG_LOG_HUMAN);
	fg_log_set_level(FG_LOG_INFO);
	return 0;
}

static void test_private_modes(void)
{
	static const mode_t ok[] = { 0600, 0400, 0200, 0500, 0700, 0711 };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int fd = temp_file();

		CU_ASSERT_EQUAL_FATAL(fchmod(fd, ok[i]), 0);
		CU_ASSERT_EQUAL(fg_secfile_check(fd, g_path, "token file"), FG_SECFILE_OK);
		CU_ASSERT_STRING_EQUAL(logged(), "");
		temp_done(fd);
	}
}

static void test_leaky_modes(void)
{
	static const mode_t leaky[] = { 0644, 0640, 0620, 0604, 0602, 0660, 0666, 0777, 0440 };
	char want[32];

	for (size_t i = 0; i < sizeof(leaky) / sizeof(leaky[0]); i++) {
		int fd = temp_file();
		const char *log;

		CU_ASSERT_EQUAL_FATAL(fchmod(fd, leaky[i]), 0);
		CU_ASSERT_EQUAL(fg_secfile_check(fd, g_path, "config file"), FG_SECFILE_GROUP_OTHERS);
		log = logged();
		snprintf(want, sizeof(want), "(mode %04o)", (unsigned)leaky[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(log, " WARN fastgate.secfile: the config file "));
		CU_ASSERT_PTR_NOT_NULL(strstr(log, g_path));
		CU_ASSERT_PTR_NOT_NULL(strstr(log, want));
		CU_ASSERT_PTR_NULL(strstr(log, "secret"));
		/* One warning, one line. */
		CU_ASSERT_PTR_EQUAL(strchr(log, '\n'), log + strlen(log) - 1);
		temp_done(fd);
	}
}

static void test_root_owned_is_not_foreign(void)
{
	struct stat st;
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(fstat(fd, &st), 0);
	CU_ASSERT_EQUAL_FATAL(st.st_uid, 0);
	/* World-readable, but root's: a mode problem only. */
	CU_ASSERT_EQUAL(fg_secfile_check(fd, "/etc/passwd", "token file"),
			(st.st_mode & 0066) ? FG_SECFILE_GROUP_OTHERS : FG_SECFILE_OK);
	logged();
	close(fd);
}

static void test_foreign_owner(void)
{
	int fd;
	const char *log;

	if (geteuid() != 0) {
		fprintf(stderr, "(not root: cannot chown a file to another user; skipped) ");
		return;
	}
	fd = temp_file();
	CU_ASSERT_EQUAL_FATAL(fchmod(fd, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(fchown(fd, NOBODY, NOBODY), 0);
	CU_ASSERT_EQUAL(fg_secfile_check(fd, g_path, "token file"), FG_SECFILE_FOREIGN_OWNER);
	log = logged();
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "owned by uid 65534"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, g_path));
	CU_ASSERT_EQUAL_FATAL(fchmod(fd, 0640), 0);
	CU_ASSERT_EQUAL(fg_secfile_check(fd, g_path, "token file"),
			FG_SECFILE_GROUP_OTHERS | FG_SECFILE_FOREIGN_OWNER);
	logged();
	temp_done(fd);
}

static void test_bad_fd(void)
{
	CU_ASSERT_EQUAL(fg_secfile_check(-1, "/nowhere", "token file"), FG_SECFILE_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged(), "/nowhere"));
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "private modes pass silently", test_private_modes },
		{ "group/other bits warn", test_leaky_modes },
		{ "root-owned is not foreign", test_root_owned_is_not_foreign },
		{ "foreign owner warns", test_foreign_owner },
		{ "bad descriptor", test_bad_fd },
	};

	if (setup())
		return 1;
	return fg_cunit_run("secfile", tests, sizeof(tests) / sizeof(tests[0]));
}
