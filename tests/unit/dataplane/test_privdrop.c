// SPDX-License-Identifier: MIT
/*
 * Tests for the data plane's capability drop (dataplane/privdrop.c). Each case forks; the
 * child drops and then checks every one of its threads through /proc/self/task/<tid>/status
 * (the kernel's own report, independent of the capget / prctl calls privdrop makes), plus
 * prctl(PR_CAPBSET_READ / PR_GET_NO_NEW_PRIVS) and an access that needs
 * CAP_DAC_OVERRIDE. One child has plain pthreads, one an EAL (lcore, interrupt and
 * telemetry threads) as fastgate-dataplane has. Needs root with CAP_SETPCAP, else 77.
 */
#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "privdrop.h"

enum { CHILD_THREADS = 3 };

static uint64_t g_want;   /* the caps every thread must be left with */

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); return 1; } while (0)

static int status_field(const char *text, const char *key, uint64_t *v)
{
	const char *p = strstr(text, key);

	if (!p)
		return -1;
	*v = strtoull(p + strlen(key), NULL, 16);
	return 0;
}

/* Every thread of this process: permitted = effective = bounding = want, no inheritable,
 * no ambient, no_new_privs. */
static int check_all_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		FAIL("opendir: %s", strerror(errno));
	while ((de = readdir(d))) {
		char path[300], text[4096];
		uint64_t inh, prm, eff, bnd, amb, nnp;
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue; /* exited */
		len = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (len <= 0)
			FAIL("%s: short read", path);
		text[len] = '\0';
		if (status_field(text, "\nCapInh:", &inh) || status_field(text, "\nCapPrm:", &prm) ||
		    status_field(text, "\nCapEff:", &eff) || status_field(text, "\nCapBnd:", &bnd) ||
		    status_field(text, "\nCapAmb:", &amb) || status_field(text, "\nNoNewPrivs:", &nnp))
			FAIL("%s: fields missing", path);
		if (inh || prm != g_want || eff != g_want || bnd != g_want || amb || nnp != 1)
			FAIL("thread %s: inh %" PRIx64 " prm %" PRIx64 " eff %" PRIx64 " bnd %" PRIx64
			     " amb %" PRIx64 " nnp %" PRIu64 ", want %" PRIx64, de->d_name, inh, prm, eff,
			     bnd, amb, nnp, g_want);
		n++;
	}
	closedir(d);
	return n ? 0 : 1;
}

/* The calling thread, through the prctl view and a denied access. */
static int check_self(void)
{
	char path[] = "/tmp/fg_privdrop_XXXXXX";
	int fd;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		FAIL("no_new_privs not set");
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) != (int)(g_want >> CAP_NET_ADMIN & 1))
		FAIL("bounding set");
	/* Mode 000: only CAP_DAC_OVERRIDE would let its owner open it. */
	fd = mkstemp(path);
	if (fd < 0)
		FAIL("mkstemp: %s", strerror(errno));
	close(fd);
	chmod(path, 0);
	fd = open(path, O_RDONLY);
	unlink(path);
	if (fd >= 0)
		FAIL("opened a mode 000 file: CAP_DAC_OVERRIDE still there");
	return 0;
}

static void *parked(void *arg)
{
	int *fds = arg;
	char c;

	/* Blocked in read() when the signal comes: SA_RESTART resumes it. */
	return read(fds[0], &c, 1) == 1 ? NULL : (void *)1;
}

static void *late(void *arg)
{
	(void)arg;
	return check_self() == 0 ? NULL : (void *)1;
}

static int child_threads(void)
{
	struct fg_privdrop_report r;
	pthread_t t[CHILD_THREADS], l;
	int fds[2];
	void *ret;
	int rc;

	if (pipe(fds) < 0)
		FAIL("pipe");
	for (unsigned i = 0; i < CHILD_THREADS; i++)
		if (pthread_create(&t[i], NULL, parked, fds) != 0)
			FAIL("pthread_create");
	rc = fg_privdrop_apply(FG_PRIVDROP_RUNTIME_CAPS, &r);
	if (rc < 0)
		FAIL("fg_privdrop_apply: %s", strerror(-rc));
	if (r.kept != g_want || r.threads != CHILD_THREADS + 1 || !r.bounding)
		FAIL("report: kept %" PRIx64 " threads %u bounding %d", r.kept, r.threads, r.bounding);
	if (check_all_threads() || check_self())
		return 1;
	/* A thread created afterwards inherits the dropped state. */
	if (pthread_create(&l, NULL, late, NULL) != 0 || pthread_join(l, &ret) != 0 || ret)
		FAIL("late thread");
	if (write(fds[1], "xxx", CHILD_THREADS) != CHILD_THREADS)
		FAIL("write");
	for (unsigned i = 0; i < CHILD_THREADS; i++)
		if (pthread_join(t[i], &ret) != 0 || ret)
			FAIL("parked thread %u: its read() was interrupted", i);
	return 0;
}

/* The EAL leaves its runtime directory (the telemetry socket) behind: one level. */
static void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[PATH_MAX + 256];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

static int on_lcore(void *arg)
{
	(void)arg;
	return check_self();
}

static int child_eal(void)
{
	char prefix[64];
	char *argv[] = {
		"test_privdrop", "--no-pci", "--no-huge", "--no-shconf", "--iova-mode=va",
		"--lcores=0@0,1@0", "-m", "256", "--log-level=lib.*:warning", prefix, NULL,
	};
	struct fg_privdrop_report r;
	char rundir[PATH_MAX];
	int rc;

	/* Telemetry on (its thread sits in accept()), in a socket directory of our own. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=fg_privdrop_%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		FAIL("rte_eal_init failed");
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rc = fg_privdrop_apply(FG_PRIVDROP_RUNTIME_CAPS, &r);
	if (rc < 0)
		FAIL("fg_privdrop_apply: %s", strerror(-rc));
	if (r.threads < 3)
		FAIL("only %u threads: the EAL's were missed", r.threads);
	if (check_all_threads() || check_self())
		return 1;
	if (rte_eal_remote_launch(on_lcore, NULL, 1) != 0 || rte_eal_wait_lcore(1) != 0)
		FAIL("the worker lcore kept something");
	rte_eal_cleanup();
	remove_dir(rundir);
	return 0;
}

static int run_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_threads(void)
{
	CU_ASSERT_EQUAL(run_child(child_threads), 0);
}

static void test_eal(void)
{
	CU_ASSERT_EQUAL(run_child(child_eal), 0);
}

static void test_format(void)
{
	char buf[64];

	CU_ASSERT_STRING_EQUAL(fg_privdrop_format(0, buf, sizeof(buf)), "none");
	CU_ASSERT_STRING_EQUAL(fg_privdrop_format(FG_PRIVDROP_RUNTIME_CAPS, buf, sizeof(buf)),
			       "cap_net_admin");
	CU_ASSERT_STRING_EQUAL(fg_privdrop_format(1 | UINT64_C(1) << 13 | UINT64_C(1) << 63, buf,
						  sizeof(buf)), "cap_chown,cap_net_raw,cap_63");
	fg_privdrop_format(UINT64_MAX, buf, 8);
	CU_ASSERT_EQUAL(strlen(buf), 7);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "every pthread, and threads created later", test_threads },
		{ "every EAL thread (lcore, interrupt, telemetry)", test_eal },
		{ "format", test_format },
	};
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (geteuid() != 0 || syscall(SYS_capget, &h, data) < 0 ||
	    !(data[0].effective >> CAP_SETPCAP & 1)) {
		fprintf(stderr, "SKIP: needs root with CAP_SETPCAP\n");
		return 77;
	}
	g_want = FG_PRIVDROP_RUNTIME_CAPS & ((uint64_t)data[1].permitted << 32 | data[0].permitted);
	return fg_cunit_run("dataplane_privdrop", tests, sizeof(tests) / sizeof(tests[0]));
}
