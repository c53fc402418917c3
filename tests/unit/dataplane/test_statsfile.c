// SPDX-License-Identifier: MIT
/*
 * Tests for the stats file's replacement and directory (dataplane/service/statsfile.c), and for
 * fg_svc_stats_dump() itself on an all-zero data plane (no EAL: stats only reads
 * counters): a symlink planted at the old fixed "<path>.tmp" name, or at the path itself,
 * must not redirect the write into its target; the file is 0644 whatever the umask; a
 * failing writer leaves the old file and no temporary behind; dumps that keep failing log
 * one WARN per cause and one INFO when written again. Each test works in its own
 * mkdtemp() directory. Single-threaded.
 */
#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "service.h"
#include "statsfile.h"
#include "svc_state.h"

static const char VICTIM_TEXT[] = "precious\n";

struct dir {
	char root[64];
	char path[PATH_MAX];     /* the stats file */
	char victim[PATH_MAX];
};

static void dir_init(struct dir *d)
{
	snprintf(d->root, sizeof(d->root), "%s", "/tmp/fg_statsfile_XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d->root));
	snprintf(d->path, sizeof(d->path), "%s/gw.stats", d->root);
	snprintf(d->victim, sizeof(d->victim), "%s/victim", d->root);
	FILE *f = fopen(d->victim, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(VICTIM_TEXT, f);
	fclose(f);
}

/* Removes everything in the directory (one level) and the directory. */
static void dir_fini(struct dir *d)
{
	DIR *dd = opendir(d->root);
	struct dirent *de;
	char p[PATH_MAX];

	while (dd && (de = readdir(dd))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", d->root, de->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (dd)
		closedir(dd);
	rmdir(d->root);
}

static unsigned dir_count(const struct dir *d)
{
	DIR *dd = opendir(d->root);
	struct dirent *de;
	unsigned n = 0;

	while (dd && (de = readdir(dd)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (dd)
		closedir(dd);
	return n;
}

static size_t slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void assert_victim_untouched(const struct dir *d)
{
	char buf[256];
	struct stat st;

	CU_ASSERT_EQUAL(lstat(d->victim, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	slurp(d->victim, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, VICTIM_TEXT);
}

static int write_hello(FILE *f, void *ctx)
{
	fprintf(f, "hello %s\n", (const char *)ctx);
	return 0;
}

static int write_fail(FILE *f, void *ctx)
{
	(void)ctx;
	fputs("half", f);
	return -ENOSPC;
}

static void test_replace(void)
{
	struct dir d;
	char buf[256];
	struct stat st;
	mode_t old = umask(077);

	dir_init(&d);
	CU_ASSERT_EQUAL(fg_statsfile_replace(d.path, write_hello, "one"), 0);
	CU_ASSERT_EQUAL(fg_statsfile_replace(d.path, write_hello, "two"), 0);
	slurp(d.path, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "hello two\n");
	CU_ASSERT_EQUAL(stat(d.path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	CU_ASSERT_EQUAL(dir_count(&d), 2);  /* victim + gw.stats: no temporary left */
	/* A failing writer: the old contents stay, the temporary goes. */
	CU_ASSERT_EQUAL(fg_statsfile_replace(d.path, write_fail, NULL), -ENOSPC);
	slurp(d.path, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "hello two\n");
	CU_ASSERT_EQUAL(dir_count(&d), 2);
	/* A directory that does not exist. */
	char missing[PATH_MAX];
	snprintf(missing, sizeof(missing), "%s/nope/gw.stats", d.root);
	CU_ASSERT_EQUAL(fg_statsfile_replace(missing, write_hello, "x"), -ENOENT);
	umask(old);
	dir_fini(&d);
}

/* The old code opened "<path>.tmp" with fopen(): a symlink there was followed. */
static void test_planted_symlinks(void)
{
	struct dir d;
	char tmp[PATH_MAX + 8], buf[256];
	struct stat st;

	dir_init(&d);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d.path);
	CU_ASSERT_EQUAL_FATAL(symlink(d.victim, tmp), 0);
	CU_ASSERT_EQUAL(fg_statsfile_replace(d.path, write_hello, "x"), 0);
	assert_victim_untouched(&d);
	CU_ASSERT_EQUAL(lstat(tmp, &st), 0);
	CU_ASSERT(S_ISLNK(st.st_mode));
	/* A symlink at the path itself is replaced, not written through. */
	CU_ASSERT_EQUAL(unlink(d.path), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(d.victim, d.path), 0);
	CU_ASSERT_EQUAL(fg_statsfile_replace(d.path, write_hello, "y"), 0);
	assert_victim_untouched(&d);
	CU_ASSERT_EQUAL(lstat(d.path, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	slurp(d.path, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "hello y\n");
	dir_fini(&d);
}

/* The same through fg_svc_stats_dump(), on a data plane whose counters are all zero. */
static void test_stats_dump(void)
{
	static struct fg_dp dp;
	static struct fg_svc s;
	struct dir d;
	char tmp[PATH_MAX + 8], buf[4096];
	struct stat st;

	dir_init(&d);
	s.dp = &dp;
	dp.svc_cnt.drops[FG_DROP_NEIGH_RATELIMIT] = 3;
	s.stats_path = d.path;
	snprintf(tmp, sizeof(tmp), "%s.tmp", d.path);
	CU_ASSERT_EQUAL_FATAL(symlink(d.victim, tmp), 0);
	CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), 0);
	assert_victim_untouched(&d);
	CU_ASSERT_EQUAL(lstat(d.path, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
	slurp(d.path, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\ndrop.neighbour_ratelimited 3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nneigh_unsolicited 0\n"));
	s.stats_path = NULL;
	CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), 0);
	dir_fini(&d);
}

static void test_make_dir(void)
{
	struct dir d;
	char sub[PATH_MAX + 8], link[PATH_MAX + 8];
	struct stat st;
	mode_t old = umask(077);

	dir_init(&d);
	snprintf(sub, sizeof(sub), "%s/run", d.root);
	CU_ASSERT_EQUAL(fg_statsfile_make_dir(sub), 0);
	CU_ASSERT_EQUAL(lstat(sub, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);  /* not 0700, whatever the umask */
	CU_ASSERT_EQUAL(st.st_uid, geteuid());
	/* An existing one with another mode is corrected; a second call changes nothing. */
	CU_ASSERT_EQUAL(chmod(sub, 0777), 0);
	CU_ASSERT_EQUAL(fg_statsfile_make_dir(sub), 0);
	CU_ASSERT_EQUAL(stat(sub, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);
	CU_ASSERT_EQUAL(fg_statsfile_make_dir(sub), 0);
	/* A symlink to a directory, or a file, is not the directory. */
	snprintf(link, sizeof(link), "%s/link", d.root);
	CU_ASSERT_EQUAL_FATAL(symlink(sub, link), 0);
	CU_ASSERT_EQUAL(fg_statsfile_make_dir(link), -ENOTDIR);
	CU_ASSERT_EQUAL(fg_statsfile_make_dir(d.victim), -ENOTDIR);
	/* Somebody else's (root only: chown). */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(sub, 65534, 65534), 0);
		CU_ASSERT_EQUAL(chmod(sub, 0777), 0);
		CU_ASSERT_EQUAL(fg_statsfile_make_dir(sub), -EPERM);
		CU_ASSERT_EQUAL(stat(sub, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 07777, 0777);  /* left alone */
	}
	umask(old);
	dir_fini(&d);
}

/* Counts the lines of the captured log that contain both needles. */
static unsigned log_count(FILE *log, const char *a, const char *b)
{
	char line[1024];
	unsigned n = 0;

	fflush(log);
	rewind(log);
	while (fgets(line, sizeof(line), log))
		n += strstr(line, a) && strstr(line, b);
	return n;
}

/* Failing dumps log a WARN when the failure starts or its cause changes, not at each dump,
 * and one INFO when a dump succeeds again; each failure is counted (issue 12: a full or
 * read-only disk must not fill the log, nor stop anything). */
static void test_dump_failures_logged_once(void)
{
	static struct fg_dp dp;
	static struct fg_svc s;
	struct dir d;
	char sub[PATH_MAX + 16], path[PATH_MAX + 32], buf[8192];
	FILE *log = tmpfile();
	struct stat st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	memset(&s, 0, sizeof(s));
	dir_init(&d);
	snprintf(sub, sizeof(sub), "%s/sub", d.root);
	snprintf(path, sizeof(path), "%s/gw.stats", sub);
	s.dp = &dp;
	s.stats_path = path;
	fg_log_set_fd(fileno(log));
	/* No directory: ENOENT at every dump, one WARN. */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), -ENOENT);
	CU_ASSERT_EQUAL(log_count(log, " WARN ", "cannot write it: No such file or directory"), 1);
	/* Another cause (the directory is a file): one more WARN. */
	FILE *f = fopen(sub, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), -ENOTDIR);
	CU_ASSERT_EQUAL(log_count(log, " WARN ", "cannot write it: Not a directory"), 1);
	CU_ASSERT_EQUAL(log_count(log, " WARN ", "stats file"), 2);
	CU_ASSERT_EQUAL(s.stats_failures, 5);
	/* Fixed: written, one INFO with the failures in a row; the file counts them. */
	CU_ASSERT_EQUAL(unlink(sub), 0);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), 0);
	CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), 0);
	CU_ASSERT_EQUAL(log_count(log, " INFO ", "written again after 5 failed dump(s)"), 1);
	CU_ASSERT_EQUAL(log_count(log, "stats file", ""), 3);
	slurp(path, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\nstatsfile_failures 5\n"));
	/* The same cause again after a success is a new episode: WARN again, then INFO
	 * counting only its own failures. */
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(rmdir(sub), 0);
	CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), -ENOENT);
	CU_ASSERT_EQUAL(log_count(log, " WARN ", "cannot write it: No such file or directory"), 2);
	CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
	CU_ASSERT_EQUAL(fg_svc_stats_dump(&s), 0);
	CU_ASSERT_EQUAL(log_count(log, " INFO ", "written again after 1 failed dump(s)"), 1);
	/* Periodic dumps: none at the first tick, one an interval later, none in between. */
	CU_ASSERT_EQUAL(unlink(path), 0);
	s.stats_interval_ns = 1000000000ull;
	fg_svc_stats_tick(&s, 5);
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	fg_svc_stats_tick(&s, 5 + s.stats_interval_ns - 1);
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	fg_svc_stats_tick(&s, 5 + s.stats_interval_ns);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	fg_log_set_fd(STDERR_FILENO);
	fclose(log);
	unlink(path);
	rmdir(sub);
	dir_fini(&d);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "replace: contents, mode, failure", test_replace },
		{ "symlinks at <path>.tmp and <path>", test_planted_symlinks },
		{ "fg_svc_stats_dump through a planted <path>.tmp", test_stats_dump },
		{ "run directory: 0755, ours, a real directory", test_make_dir },
		{ "failing dumps: a WARN per cause, an INFO when written again", test_dump_failures_logged_once },
	};

	return fg_cunit_run("dataplane_statsfile", tests, sizeof(tests) / sizeof(tests[0]));
}
