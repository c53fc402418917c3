// SPDX-License-Identifier: MIT
/*
 * CUnit tests for kni/linkmon: the link-message parser against a table of hostile
 * datagrams built byte by byte here (lengths that lie, attributes that run past their
 * message, names without their NUL, a bridge's messages, several messages in one datagram,
 * at an odd address), and the socket itself in a private network namespace (a forked child,
 * root only, else SKIP): a veth pair taken down, up and deleted as iproute2 does it, a
 * forged message from a process ignored, an overflow reported as -ENOBUFS, and the state
 * query. Single-threaded.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "linkmon.h"
#include "../cunit_run.h"

enum {
	DGRAM_MAX = 1024,
	EVENTS_MAX = 8,
	CHILD_TIMEOUT_S = 30,
	CHILD_SETUP_FAILED = 2,
	FLOOD_LINKS = 64,          /* veth pairs made while nobody reads: far past 4 KiB */
};

/* ---- building datagrams ------------------------------------------------------------------ */

struct dgram {
	uint8_t b[DGRAM_MAX];
	size_t len;
	size_t msg;                 /* offset of the message being built */
};

static void put(struct dgram *d, const void *p, size_t n)
{
	CU_ASSERT_FATAL(d->len + n <= sizeof(d->b));
	memcpy(d->b + d->len, p, n);
	d->len += n;
}

static void pad4(struct dgram *d)
{
	static const uint8_t zero[4];

	put(d, zero, NLMSG_ALIGN(d->len) - d->len);
}

/* Starts a message of type with an ifinfomsg; end_msg sets its length. */
static void begin_msg(struct dgram *d, uint16_t type, uint8_t family, int ifindex, unsigned flags)
{
	struct nlmsghdr nh = { .nlmsg_type = type };
	struct ifinfomsg ifi = { .ifi_family = family, .ifi_index = ifindex, .ifi_flags = flags };

	pad4(d);
	d->msg = d->len;
	put(d, &nh, sizeof(nh));
	put(d, &ifi, sizeof(ifi));
}

static void attr(struct dgram *d, uint16_t type, const void *p, size_t n)
{
	struct rtattr rta = { .rta_len = (unsigned short)RTA_LENGTH(n), .rta_type = type };

	pad4(d);
	put(d, &rta, sizeof(rta));
	put(d, p, n);
}

static void end_msg(struct dgram *d)
{
	uint32_t len = (uint32_t)(d->len - d->msg);

	memcpy(d->b + d->msg + offsetof(struct nlmsghdr, nlmsg_len), &len, sizeof(len));
}

static void link_msg(struct dgram *d, uint16_t type, int ifindex, unsigned flags, const char *name)
{
	uint32_t mtu = 1500;

	begin_msg(d, type, AF_UNSPEC, ifindex, flags);
	attr(d, IFLA_MTU, &mtu, sizeof(mtu));
	if (name)
		attr(d, IFLA_IFNAME, name, strlen(name) + 1);
	end_msg(d);
}

static void set_u32(struct dgram *d, size_t off, uint32_t v)
{
	memcpy(d->b + off, &v, sizeof(v));
}

static void set_u16(struct dgram *d, size_t off, uint16_t v)
{
	memcpy(d->b + off, &v, sizeof(v));
}

/* ---- collecting events ------------------------------------------------------------------- */

struct seen {
	unsigned n;
	struct fg_linkmon_event ev[EVENTS_MAX];
};

static void collect(const struct fg_linkmon_event *ev, void *arg)
{
	struct seen *s = arg;

	if (s->n < EVENTS_MAX)
		s->ev[s->n] = *ev;
	s->n++;
}

/* ---- the table -------------------------------------------------------------------------- */

enum { UPR = IFF_UP | IFF_RUNNING };

struct pcase {
	const char *name;
	void (*build)(struct dgram *d);
	int ret;                    /* fg_linkmon_parse's return */
	unsigned events;            /* delivered (also before an -EBADMSG) */
	bool deleted;               /* the first event's */
	int ifindex;
	unsigned flags;
	const char *ifname;
};

static void b_new(struct dgram *d) { link_msg(d, RTM_NEWLINK, 7, UPR, "gx"); }
static void b_del(struct dgram *d) { link_msg(d, RTM_DELLINK, 7, 0, "gx"); }
static void b_down_then_del(struct dgram *d)
{
	link_msg(d, RTM_NEWLINK, 7, IFF_UP, "gx");
	link_msg(d, RTM_DELLINK, 7, 0, "gx");
}
static void b_noname(struct dgram *d) { link_msg(d, RTM_NEWLINK, 9, IFF_UP, NULL); }
static void b_name15(struct dgram *d) { link_msg(d, RTM_NEWLINK, 9, UPR, "abcdefghijklmno"); }
static void b_name16(struct dgram *d) { link_msg(d, RTM_NEWLINK, 9, UPR, "abcdefghijklmnop"); }
static void b_bare(struct dgram *d)
{
	begin_msg(d, RTM_NEWLINK, AF_UNSPEC, 3, UPR);
	end_msg(d);
}
static void b_bridge(struct dgram *d)
{
	/* A port leaving its bridge: the device is still there. */
	begin_msg(d, RTM_DELLINK, AF_BRIDGE, 7, 0);
	attr(d, IFLA_IFNAME, "gx", 3);
	end_msg(d);
	begin_msg(d, RTM_NEWLINK, AF_BRIDGE, 7, 0);
	end_msg(d);
}
static void b_done_first(struct dgram *d)
{
	struct nlmsghdr nh = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_DONE };

	put(d, &nh, sizeof(nh));
	b_del(d);
}
static void b_other_types(struct dgram *d)
{
	struct nlmsghdr noop = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_NOOP };
	struct nlmsghdr err = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr)), .nlmsg_type = NLMSG_ERROR };
	struct nlmsgerr e = { .error = -EPERM };

	put(d, &noop, sizeof(noop));
	put(d, &err, sizeof(err));
	put(d, &e, sizeof(e));
	begin_msg(d, RTM_NEWADDR, AF_INET, 7, 0);
	end_msg(d);
	b_new(d);
}
static void b_empty(struct dgram *d) { (void)d; }
static void b_short_hdr(struct dgram *d)
{
	static const uint8_t eight[8] = { 8, 0, 0, 0, RTM_DELLINK, 0, 0, 0 };

	put(d, eight, sizeof(eight));
}
static void b_len_zero(struct dgram *d)
{
	b_del(d);
	set_u32(d, 0, 0);
}
static void b_len_15(struct dgram *d)
{
	b_del(d);
	set_u32(d, 0, 15);
}
static void b_len_past_end(struct dgram *d)
{
	b_del(d);
	set_u32(d, 0, (uint32_t)d->len + 4);
}
static void b_len_huge(struct dgram *d)
{
	b_del(d);
	set_u32(d, 0, 0xffffffffu);
}
static void b_short_ifinfo(struct dgram *d)
{
	b_del(d);
	set_u32(d, 0, NLMSG_HDRLEN + sizeof(struct ifinfomsg) - 1);
}
static void b_ifindex_zero(struct dgram *d) { link_msg(d, RTM_DELLINK, 0, 0, "gx"); }
static void b_ifindex_negative(struct dgram *d) { link_msg(d, RTM_DELLINK, -5, 0, "gx"); }
static void b_rta_len_zero(struct dgram *d)
{
	b_del(d);
	/* The first attribute (IFLA_MTU) right after the ifinfomsg. */
	set_u16(d, NLMSG_HDRLEN + sizeof(struct ifinfomsg), 0);
}
static void b_rta_len_3(struct dgram *d)
{
	b_del(d);
	set_u16(d, NLMSG_HDRLEN + sizeof(struct ifinfomsg), 3);
}
static void b_rta_past_msg(struct dgram *d)
{
	/* The name attribute claims more than its message holds; the datagram has more bytes
	 * (a second message) that it must not reach into. */
	link_msg(d, RTM_NEWLINK, 7, UPR, "gx");
	size_t name_at = d->len - RTA_LENGTH(3);   /* the last attribute: "gx\0" */
	set_u16(d, name_at, 64);
	b_del(d);
}
static void b_name_unterminated(struct dgram *d)
{
	begin_msg(d, RTM_DELLINK, AF_UNSPEC, 7, 0);
	attr(d, IFLA_IFNAME, "abcdefghijklmnopqrst", 20);
	end_msg(d);
}
static void b_name_empty(struct dgram *d)
{
	begin_msg(d, RTM_DELLINK, AF_UNSPEC, 7, 0);
	attr(d, IFLA_IFNAME, "", 1);
	end_msg(d);
}
static void b_name_zero_payload(struct dgram *d)
{
	begin_msg(d, RTM_DELLINK, AF_UNSPEC, 7, 0);
	attr(d, IFLA_IFNAME, "", 0);
	end_msg(d);
}
static void b_good_then_bad(struct dgram *d)
{
	b_new(d);
	link_msg(d, RTM_DELLINK, 7, 0, "gx");
	set_u32(d, d->msg, 3);
}
static void b_trailing(struct dgram *d)
{
	static const uint8_t junk[3] = { 1, 2, 3 };

	b_new(d);
	pad4(d);
	put(d, junk, sizeof(junk));
}
static void b_unpadded_last(struct dgram *d)
{
	/* The last message ends at the datagram's end without its alignment padding. */
	begin_msg(d, RTM_NEWLINK, AF_UNSPEC, 4, UPR);
	attr(d, IFLA_IFNAME, "ab", 3);
	end_msg(d);
}
static void b_two_names(struct dgram *d)
{
	begin_msg(d, RTM_NEWLINK, AF_UNSPEC, 4, UPR);
	attr(d, IFLA_IFNAME, "first", 6);
	attr(d, IFLA_IFNAME, "second", 7);
	end_msg(d);
}
static void b_nested_flag(struct dgram *d)
{
	begin_msg(d, RTM_NEWLINK, AF_UNSPEC, 4, UPR);
	attr(d, NLA_F_NESTED | IFLA_IFNAME, "nx", 3);
	end_msg(d);
}

static const struct pcase CASES[] = {
	{ "new link, up", b_new, 1, 1, false, 7, UPR, "gx" },
	{ "deleted link", b_del, 1, 1, true, 7, 0, "gx" },
	{ "down, then deleted, one datagram", b_down_then_del, 2, 2, false, 7, IFF_UP, "gx" },
	{ "no IFLA_IFNAME", b_noname, 1, 1, false, 9, IFF_UP, "" },
	{ "15-character name", b_name15, 1, 1, false, 9, UPR, "abcdefghijklmno" },
	{ "16-character name (no room for the NUL)", b_name16, -EBADMSG, 0, false, 0, 0, NULL },
	{ "no attributes at all", b_bare, 1, 1, false, 3, UPR, "" },
	{ "AF_BRIDGE messages skipped", b_bridge, 0, 0, false, 0, 0, NULL },
	{ "NLMSG_DONE ends the datagram", b_done_first, 0, 0, false, 0, 0, NULL },
	{ "NOOP, ERROR, NEWADDR skipped", b_other_types, 1, 1, false, 7, UPR, "gx" },
	{ "empty datagram", b_empty, 0, 0, false, 0, 0, NULL },
	{ "8 bytes: shorter than a header", b_short_hdr, -EBADMSG, 0, false, 0, 0, NULL },
	{ "nlmsg_len 0", b_len_zero, -EBADMSG, 0, false, 0, 0, NULL },
	{ "nlmsg_len 15", b_len_15, -EBADMSG, 0, false, 0, 0, NULL },
	{ "nlmsg_len past the datagram", b_len_past_end, -EBADMSG, 0, false, 0, 0, NULL },
	{ "nlmsg_len 0xffffffff", b_len_huge, -EBADMSG, 0, false, 0, 0, NULL },
	{ "link message shorter than ifinfomsg", b_short_ifinfo, -EBADMSG, 0, false, 0, 0, NULL },
	{ "ifindex 0", b_ifindex_zero, -EBADMSG, 0, false, 0, 0, NULL },
	{ "ifindex negative", b_ifindex_negative, -EBADMSG, 0, false, 0, 0, NULL },
	{ "rta_len 0", b_rta_len_zero, -EBADMSG, 0, false, 0, 0, NULL },
	{ "rta_len 3", b_rta_len_3, -EBADMSG, 0, false, 0, 0, NULL },
	{ "attribute past its message", b_rta_past_msg, -EBADMSG, 0, false, 0, 0, NULL },
	{ "name without NUL", b_name_unterminated, -EBADMSG, 0, false, 0, 0, NULL },
	{ "empty name", b_name_empty, -EBADMSG, 0, false, 0, 0, NULL },
	{ "name attribute without payload", b_name_zero_payload, -EBADMSG, 0, false, 0, 0, NULL },
	{ "good message, then a bad one", b_good_then_bad, -EBADMSG, 1, false, 7, UPR, "gx" },
	{ "3 trailing bytes", b_trailing, -EBADMSG, 1, false, 7, UPR, "gx" },
	{ "last message unpadded", b_unpadded_last, 1, 1, false, 4, UPR, "ab" },
	{ "two names: the first counts", b_two_names, 1, 1, false, 4, UPR, "first" },
	{ "NLA_F_NESTED on the name's type", b_nested_flag, 1, 1, false, 4, UPR, "nx" },
};

static void check_case(const struct pcase *c, const uint8_t *buf, size_t len, const char *where)
{
	struct seen s = { 0 };
	int r = fg_linkmon_parse(buf, len, collect, &s);

	if (r != c->ret || s.n != c->events)
		fprintf(stderr, "\n  case '%s' (%s): returned %d with %u event(s), expected %d with %u", c->name,
			where, r, s.n, c->ret, c->events);
	CU_ASSERT_EQUAL(r, c->ret);
	CU_ASSERT_EQUAL(s.n, c->events);
	if (c->events == 0 || s.n == 0)
		return;
	CU_ASSERT_EQUAL(s.ev[0].deleted, c->deleted);
	CU_ASSERT_EQUAL(s.ev[0].ifindex, c->ifindex);
	CU_ASSERT_EQUAL(s.ev[0].flags, c->flags);
	CU_ASSERT_STRING_EQUAL(s.ev[0].name, c->ifname);
}

static void test_parse_table(void)
{
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		struct dgram d = { .len = 0 };
		uint8_t *odd = malloc(DGRAM_MAX + 1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(odd);
		CASES[i].build(&d);
		/* Heap copies of exactly the datagram's size, so that ASan sees any overread; one
		 * of them at an odd address. */
		uint8_t *exact = malloc(d.len ? d.len : 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
		memcpy(exact, d.b, d.len);
		check_case(&CASES[i], exact, d.len, "aligned");
		memcpy(odd + 1, d.b, d.len);
		check_case(&CASES[i], odd + 1, d.len, "odd address");
		free(exact);
		free(odd);
	}
}

/* The second of two messages is the deletion, in order. */
static void test_parse_order(void)
{
	struct dgram d = { .len = 0 };
	struct seen s = { 0 };

	b_down_then_del(&d);
	CU_ASSERT_EQUAL(fg_linkmon_parse(d.b, d.len, collect, &s), 2);
	CU_ASSERT_FALSE(s.ev[0].deleted);
	CU_ASSERT_TRUE(s.ev[1].deleted);
	CU_ASSERT_EQUAL(s.ev[1].ifindex, 7);
}

/* Every prefix of a valid two-message datagram: never an overread, never a crash; a cut
 * inside a message is -EBADMSG. */
static void test_parse_prefixes(void)
{
	struct dgram d = { .len = 0 };

	b_down_then_del(&d);
	for (size_t n = 0; n <= d.len; n++) {
		struct seen s = { 0 };
		uint8_t *p = malloc(n ? n : 1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		memcpy(p, d.b, n);
		int r = fg_linkmon_parse(p, n, collect, &s);
		CU_ASSERT(r == -EBADMSG || r == (int)s.n);
		if (n == d.len)
			CU_ASSERT_EQUAL(r, 2);
		free(p);
	}
}

static void test_is_up(void)
{
	CU_ASSERT_TRUE(fg_linkmon_is_up(IFF_UP | IFF_RUNNING | IFF_BROADCAST));
	CU_ASSERT_FALSE(fg_linkmon_is_up(IFF_UP));          /* no carrier */
	CU_ASSERT_FALSE(fg_linkmon_is_up(IFF_RUNNING));     /* admin down */
	CU_ASSERT_FALSE(fg_linkmon_is_up(0));
}

/* ---- the socket, in a namespace of its own ----------------------------------------------- */

static int failures;

#define EXPECT(cond)                                                                       \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                         \
		}                                                                           \
	} while (0)

struct watch {
	int ifindex;
	unsigned news, downs, ups, dels, others;
	bool up;
};

static void on_watch(const struct fg_linkmon_event *ev, void *arg)
{
	struct watch *w = arg;

	if (ev->ifindex != w->ifindex) {
		w->others++;
		return;
	}
	if (ev->deleted) {
		w->dels++;
		return;
	}
	w->news++;
	if (w->up && !fg_linkmon_is_up(ev->flags))
		w->downs++;
	if (!w->up && fg_linkmon_is_up(ev->flags))
		w->ups++;
	w->up = fg_linkmon_is_up(ev->flags);
}

static int sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void drain(int fd, struct watch *w)
{
	uint8_t buf[FG_LINKMON_BUF];
	int r;

	/* Everything the kernel sent for commands that have returned is queued already. */
	r = fg_linkmon_read(fd, buf, sizeof(buf), on_watch, w);
	EXPECT(r >= 0);
}

static void live_body(void)
{
	struct watch w = { 0 };
	uint8_t buf[FG_LINKMON_BUF];
	unsigned flags = 0;
	char name[IFNAMSIZ];
	int fd = fg_linkmon_open();

	EXPECT(fd >= 0);
	if (fd < 0)
		return;
	/* Nothing yet. */
	EXPECT(fg_linkmon_read(fd, buf, sizeof(buf), on_watch, &w) == 0);
	EXPECT(sh("ip link add lmA type veth peer name lmB && ip link set lmA up && ip link set lmB up") == 0);
	w.ifindex = (int)if_nametoindex("lmA");
	EXPECT(w.ifindex > 0);
	EXPECT(fg_linkmon_query(w.ifindex, &flags, name) == 0);
	EXPECT(fg_linkmon_is_up(flags));
	EXPECT(strcmp(name, "lmA") == 0);
	drain(fd, &w);
	EXPECT(w.news > 0 && w.up && w.dels == 0);

	/* The peer down: lmA is still UP, no longer RUNNING. */
	w.downs = w.ups = 0;
	EXPECT(sh("ip link set lmB down") == 0);
	drain(fd, &w);
	EXPECT(w.downs == 1 && !w.up);
	EXPECT(fg_linkmon_query(w.ifindex, &flags, NULL) == 0);
	EXPECT((flags & IFF_UP) && !fg_linkmon_is_up(flags));
	EXPECT(sh("ip link set lmB up") == 0);
	drain(fd, &w);
	EXPECT(w.ups == 1 && w.up);

	/* Admin down and up. */
	w.downs = w.ups = 0;
	EXPECT(sh("ip link set lmA down && ip link set lmA up") == 0);
	drain(fd, &w);
	EXPECT(w.downs == 1 && w.ups == 1 && w.up);

	/* Renamed: same index, still watched. */
	EXPECT(sh("ip link set lmA down && ip link set lmA name lmC && ip link set lmC up") == 0);
	drain(fd, &w);
	EXPECT(fg_linkmon_query(w.ifindex, &flags, name) == 0 && strcmp(name, "lmC") == 0);

	/* A process's forged deletion (root may send to our port) is not the kernel's. */
	{
		struct sockaddr_nl me, to = { .nl_family = AF_NETLINK };
		socklen_t len = sizeof(me);
		struct dgram d = { .len = 0 };
		int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		unsigned dels = w.dels;

		EXPECT(s >= 0 && getsockname(fd, (struct sockaddr *)&me, &len) == 0);
		to.nl_pid = me.nl_pid;
		link_msg(&d, RTM_DELLINK, w.ifindex, 0, "lmC");
		EXPECT(sendto(s, d.b, d.len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)d.len);
		EXPECT(fg_linkmon_read(fd, buf, sizeof(buf), on_watch, &w) == 0);
		EXPECT(w.dels == dels);
		close(s);
	}

	/* Deleted: the event, and the query says so. */
	EXPECT(sh("ip link del lmC") == 0);
	drain(fd, &w);
	EXPECT(w.dels == 1);
	EXPECT(fg_linkmon_query(w.ifindex, &flags, NULL) == -ENODEV);
	EXPECT(fg_linkmon_query(0, &flags, NULL) == -ENODEV);
	EXPECT(fg_linkmon_query(-1, &flags, NULL) == -ENODEV);

	/* Overflow: a small receive buffer and many changes nobody reads. */
	{
		int small = 1024, r, bfd;
		char path[] = "/tmp/fg_linkmon_batch.XXXXXX", cmd[128];
		FILE *batch;

		bfd = mkstemp(path);
		batch = bfd >= 0 ? fdopen(bfd, "w") : NULL;
		EXPECT(batch != NULL);
		if (!batch)
			return;
		EXPECT(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
		for (unsigned i = 0; i < FLOOD_LINKS; i++)
			fprintf(batch, "link add lmF%u type veth peer name lmG%u\n", i, i);
		fclose(batch);
		snprintf(cmd, sizeof(cmd), "ip -batch %s", path);
		EXPECT(sh(cmd) == 0);
		unlink(path);
		r = fg_linkmon_read(fd, buf, sizeof(buf), on_watch, &w);
		EXPECT(r == -ENOBUFS);
		/* The socket works on after it (with room for what a deletion says). */
		small = 1 << 20;
		EXPECT(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
		EXPECT(sh("ip link del lmF0") == 0);
		r = fg_linkmon_read(fd, buf, sizeof(buf), on_watch, &w);
		EXPECT(r > 0);
	}
	close(fd);
}

static void test_live(void)
{
	if (geteuid() != 0) {
		printf("\n  SKIP live link events: needs root (network namespaces)\n");
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		alarm(CHILD_TIMEOUT_S);
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
			_exit(CHILD_SETUP_FAILED);
		}
		failures = 0;
		live_body();
		fflush(NULL);
		_exit(failures ? 1 : 0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "hostile datagrams (table)", test_parse_table },
		{ "messages in order", test_parse_order },
		{ "every prefix of a datagram", test_parse_prefixes },
		{ "up means UP and RUNNING", test_is_up },
		{ "live: down, up, rename, forged, deleted, overflow", test_live },
	};

	return fg_cunit_run("kni_linkmon", tests, sizeof(tests) / sizeof(tests[0]));
}
