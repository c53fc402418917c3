// SPDX-License-Identifier: MIT
/*
 * CUnit suite for common/unixsock.c, the one listener of the UAPI, control and fastgatectl
 * sockets: a regular file or a symlink at the path is refused and left alone, a stale socket
 * is replaced, a live one refused; the socket appears with its mode and group and no
 * private directory is left behind; a process removes its socket at exit only if it is
 * still the one it made.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cunit_run.h"
#include "unixsock.h"

static char g_dir[64];
static char g_path[96];

static const struct fg_unixsock_opts STREAM = {
	.type = SOCK_STREAM, .mode = 0660, .gid = (gid_t)-1, .backlog = 4,
};

static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/fg-unixsock.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_dir));
	snprintf(g_path, sizeof(g_path), "%s/t.sock", g_dir);
}

/* Entries of the test directory other than . and .. */
static int entries(void)
{
	DIR *d = opendir(g_dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_regular_file_refused_and_kept(void)
{
	char buf[16] = { 0 };
	int fd;

	setup();
	fd = open(g_path, O_CREAT | O_WRONLY, 0600);
	CU_ASSERT_EQUAL(write(fd, "precious", 8), 8);
	close(fd);
	CU_ASSERT_EQUAL(fg_unixsock_listen(g_path, &STREAM), -EEXIST);
	fd = open(g_path, O_RDONLY);
	CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	CU_ASSERT_STRING_EQUAL(buf, "precious");
	CU_ASSERT_EQUAL(entries(), 1);
	teardown();
}

static void test_symlink_refused_and_kept(void)
{
	char victim[160];
	struct stat st;

	setup();
	snprintf(victim, sizeof(victim), "%s/victim", g_dir);
	close(open(victim, O_CREAT | O_WRONLY, 0600));
	CU_ASSERT_EQUAL(symlink(victim, g_path), 0);
	CU_ASSERT_EQUAL(fg_unixsock_listen(g_path, &STREAM), -EEXIST);
	CU_ASSERT_EQUAL(lstat(g_path, &st), 0);
	CU_ASSERT_TRUE(S_ISLNK(st.st_mode));
	CU_ASSERT_EQUAL(stat(victim, &st), 0);
	CU_ASSERT_TRUE(S_ISREG(st.st_mode));
	teardown();
}

static void test_stale_replaced_live_refused(void)
{
	struct stat st;
	int a, b;

	setup();
	a = fg_unixsock_listen(g_path, &STREAM);
	CU_ASSERT_TRUE_FATAL(a >= 0);
	/* live: refused, and the live socket is still there */
	CU_ASSERT_EQUAL(fg_unixsock_listen(g_path, &STREAM), -EADDRINUSE);
	CU_ASSERT_EQUAL(lstat(g_path, &st), 0);
	close(a);
	/* stale (nobody listens): replaced */
	b = fg_unixsock_listen(g_path, &STREAM);
	CU_ASSERT_TRUE_FATAL(b >= 0);
	CU_ASSERT_EQUAL(lstat(g_path, &st), 0);
	CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	CU_ASSERT_EQUAL(entries(), 1);   /* no private directory left behind */
	/* clients reach it at its public path */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_path);
	CU_ASSERT_EQUAL(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(c);
	close(b);
	teardown();
}

static void test_group_set_before_it_appears(void)
{
	struct fg_unixsock_opts o = STREAM;
	struct stat st;
	int fd;

	if (geteuid() != 0)
		return; /* changing a file's group to one we are not in needs root */
	setup();
	o.gid = 65534;
	o.type = SOCK_SEQPACKET;
	fd = fg_unixsock_listen(g_path, &o);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(lstat(g_path, &st), 0);
	CU_ASSERT_EQUAL(st.st_gid, 65534);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	close(fd);
	teardown();
}

/* Another process's socket at our path (a successor that replaced ours once it went stale):
 * left alone. Our own: removed. A file: left alone. */
static void test_unlink_only_our_own(void)
{
	int a, b, up[2], down[2], status;
	char c;
	pid_t pid;

	setup();
	a = fg_unixsock_listen(g_path, &STREAM);
	CU_ASSERT_TRUE_FATAL(a >= 0);
	CU_ASSERT_EQUAL(fg_unixsock_unlink(g_path, SOCK_STREAM), 0);
	CU_ASSERT_EQUAL(access(g_path, F_OK), -1);
	close(a);

	CU_ASSERT_EQUAL_FATAL(pipe(up), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(down), 0);
	pid = fork();
	CU_ASSERT_TRUE_FATAL(pid >= 0);
	if (pid == 0) {
		/* the successor: listens at the path until told to stop */
		int fd = fg_unixsock_listen(g_path, &STREAM);

		(void)!write(up[1], fd >= 0 ? "y" : "n", 1);
		(void)!read(down[0], &c, 1);
		_exit(0);
	}
	CU_ASSERT_EQUAL(read(up[0], &c, 1), 1);
	CU_ASSERT_EQUAL(c, 'y');
	/* we listened there before (inode numbers are reused at once on tmpfs) */
	CU_ASSERT_EQUAL(fg_unixsock_unlink(g_path, SOCK_STREAM), -ESTALE);
	CU_ASSERT_EQUAL(access(g_path, F_OK), 0);
	CU_ASSERT_EQUAL(write(down[1], "x", 1), 1);
	waitpid(pid, &status, 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	/* now stale: still not ours to remove */
	CU_ASSERT_EQUAL(fg_unixsock_unlink(g_path, SOCK_STREAM), -ESTALE);
	unlink(g_path);
	b = open(g_path, O_CREAT | O_WRONLY, 0600);
	close(b);
	CU_ASSERT_EQUAL(fg_unixsock_unlink(g_path, SOCK_STREAM), -ESTALE);
	CU_ASSERT_EQUAL(access(g_path, F_OK), 0);
	teardown();
}

static void test_bad_paths(void)
{
	char longp[200];

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	CU_ASSERT_EQUAL(fg_unixsock_listen(NULL, &STREAM), -EINVAL);
	CU_ASSERT_EQUAL(fg_unixsock_listen("", &STREAM), -EINVAL);
	CU_ASSERT_EQUAL(fg_unixsock_listen(longp, &STREAM), -ENAMETOOLONG);
}

static const struct fg_cunit_test tests[] = {
	{ "a regular file is refused and kept", test_regular_file_refused_and_kept },
	{ "a symlink is refused and kept", test_symlink_refused_and_kept },
	{ "stale replaced, live refused, mode 0660, nothing left over", test_stale_replaced_live_refused },
	{ "group set before the socket appears (root)", test_group_set_before_it_appears },
	{ "only our own socket is unlinked", test_unlink_only_our_own },
	{ "bad paths", test_bad_paths },
};

int main(void)
{
	return fg_cunit_run("unixsock", tests, sizeof(tests) / sizeof(tests[0]));
}
