// SPDX-License-Identifier: MIT
/*
 * What the host-path rows need from the machine: a private network namespace of the
 * bench's own (entered before the EAL starts, so every thread it makes is inside; only
 * loopback is brought up, nothing reaches the real network), the CPUs the process may use
 * before the EAL pins its threads (sinks and senders float over them), the CPU accounting
 * of a row (the whole process from /proc/self/stat, the worker lcores' threads from
 * /proc/self/task/TID/stat, the machine from /proc/stat), the namespace's UDP losses, and
 * the names of [Host] TunIo. Main lcore, between rows.
 */
#include "bench.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if.h>

static cpu_set_t g_cpus;
static bool g_cpus_saved;

int fg_bench_netns_enter(char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(err, errlen, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return -errno;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 || (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) != 0) {
		int ret = -errno;

		snprintf(err, errlen, "lo up: %s", strerror(errno));
		close(fd);
		return ret;
	}
	close(fd);
	return 0;
}

void fg_bench_cpus_save(void)
{
	g_cpus_saved = sched_getaffinity(0, sizeof(g_cpus), &g_cpus) == 0;
}

int fg_bench_cpus_apply(void)
{
	if (!g_cpus_saved)
		return 0;
	return sched_setaffinity(0, sizeof(g_cpus), &g_cpus) == 0 ? 0 : -errno;
}

unsigned fg_bench_cpus_count(void)
{
	return g_cpus_saved ? (unsigned)CPU_COUNT(&g_cpus) : 1;
}

/* utime + stime (fields 14 and 15, clock ticks) of a /proc stat file. */
static int stat_ticks(const char *path, unsigned long long *ticks)
{
	char buf[1024], *p;
	unsigned long long ut, st;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EINVAL;
	*ticks = ut + st;
	return 0;
}

int fg_bench_cpu_sample(struct fg_bench_cpu *c, const int *tids, unsigned ntids)
{
	double hz = (double)sysconf(_SC_CLK_TCK);
	unsigned long long t, sum = 0, v[10] = { 0 };
	char path[64], line[512];
	FILE *f;
	int ret;

	memset(c, 0, sizeof(*c));
	if ((ret = stat_ticks("/proc/self/stat", &t)) < 0)
		return ret;
	c->proc_s = (double)t / hz;
	for (unsigned i = 0; i < ntids; i++) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tids[i]);
		if (stat_ticks(path, &t) == 0)
			sum += t;
	}
	c->lcores_s = (double)sum / hz;
	f = fopen("/proc/stat", "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &v[6], &v[7]) < 7) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	/* user nice system idle iowait irq softirq steal: busy = all but idle, iowait, steal
	 * (guest time is inside user already). */
	c->sys_busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
	return 0;
}

uint64_t fg_bench_udp_errors(void)
{
	char names[1024], values[1024];
	uint64_t sum = 0;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return 0;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		char *sn = NULL, *sv = NULL, *n, *v;

		if (strncmp(names, "Udp:", 4) != 0)
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(values, " \n", &sv);
		while ((n = strtok_r(NULL, " \n", &sn)) && (v = strtok_r(NULL, " \n", &sv)))
			if (strcmp(n, "InErrors") == 0 || strcmp(n, "RcvbufErrors") == 0)
				sum += strtoull(v, NULL, 10);
		break;
	}
	fclose(f);
	return sum;
}

static const struct {
	const char *name;
	enum fg_tun_io v;
} TUN_IO_NAMES[] = {
	{ "auto", FG_TUN_IO_AUTO },
	{ "syscall", FG_TUN_IO_SYSCALL },
	{ "io_uring", FG_TUN_IO_URING },
	{ "sqpoll", FG_TUN_IO_SQPOLL },
};

int fg_bench_tun_io_parse(const char *s, int *out)
{
	for (size_t i = 0; i < sizeof(TUN_IO_NAMES) / sizeof(TUN_IO_NAMES[0]); i++)
		if (strcmp(s, TUN_IO_NAMES[i].name) == 0) {
			*out = (int)TUN_IO_NAMES[i].v;
			return 0;
		}
	return -EINVAL;
}

const char *fg_bench_tun_io_name(int tun_io)
{
	for (size_t i = 0; i < sizeof(TUN_IO_NAMES) / sizeof(TUN_IO_NAMES[0]); i++)
		if ((int)TUN_IO_NAMES[i].v == tun_io)
			return TUN_IO_NAMES[i].name;
	return tun_io == FG_BENCH_TUN_IO_DEFAULT ? "auto" : "?";
}
