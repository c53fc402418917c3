// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the link-message parser (kni/linkmon.c), which reads what the kernel
 * sends on the data plane's RTMGRP_LINK socket. The input is one datagram, in a buffer of
 * exactly its length. Every event delivered must have an ifindex > 0 and a name that is a
 * C string shorter than IFNAMSIZ; the return is the event count or -EBADMSG, and no more
 * events than 32-byte link messages fit; the same bytes at an odd address parse alike; and
 * each event, written back as a canonical message, parses to itself alone.
 *
 *   scripts/fuzz.sh 60 linkmsg     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/linkmsg/ (datagrams the kernel sent for a veth pair and a
 * bridge port, and cut or concatenated ones).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "linkmon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { EVENTS_MAX = 64 };

struct seen {
	size_t n;
	struct fg_linkmon_event ev[EVENTS_MAX];
};

static void collect(const struct fg_linkmon_event *ev, void *arg)
{
	struct seen *s = arg;

	if (ev->ifindex <= 0 || memchr(ev->name, '\0', IFNAMSIZ) == NULL)
		abort();
	if (s->n < EVENTS_MAX)
		s->ev[s->n] = *ev;
	s->n++;
}

/* The canonical message of an event: parses to exactly that event. */
static void roundtrip(const struct fg_linkmon_event *ev)
{
	uint8_t buf[NLMSG_SPACE(sizeof(struct ifinfomsg)) + RTA_SPACE(IFNAMSIZ)];
	struct nlmsghdr nh = { .nlmsg_type = ev->deleted ? RTM_DELLINK : RTM_NEWLINK };
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ev->ifindex, .ifi_flags = ev->flags };
	size_t len = NLMSG_SPACE(sizeof(ifi)), nlen = strlen(ev->name);
	struct seen s = { 0 };

	memset(buf, 0, sizeof(buf));
	memcpy(buf + NLMSG_HDRLEN, &ifi, sizeof(ifi));
	if (nlen) {
		struct rtattr rta = { .rta_len = (unsigned short)RTA_LENGTH(nlen + 1), .rta_type = IFLA_IFNAME };

		memcpy(buf + len, &rta, sizeof(rta));
		memcpy(buf + len + RTA_LENGTH(0), ev->name, nlen + 1);
		len += RTA_SPACE(nlen + 1);
	}
	nh.nlmsg_len = (uint32_t)len;
	memcpy(buf, &nh, sizeof(nh));
	if (fg_linkmon_parse(buf, len, collect, &s) != 1 || s.n != 1 || s.ev[0].deleted != ev->deleted ||
	    s.ev[0].ifindex != ev->ifindex || s.ev[0].flags != ev->flags || strcmp(s.ev[0].name, ev->name) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a = { 0 }, b = { 0 };
	uint8_t *odd;
	int r, r2;

	r = fg_linkmon_parse(data, size, collect, &a);
	if (r != -EBADMSG && (r < 0 || (size_t)r != a.n))
		abort();
	if (a.n > size / (NLMSG_HDRLEN + sizeof(struct ifinfomsg)))
		abort();
	odd = malloc(size + 1);
	if (!odd)
		return 0;
	memcpy(odd + 1, data, size);
	r2 = fg_linkmon_parse(odd + 1, size, collect, &b);
	free(odd);
	if (r2 != r || b.n != a.n)
		abort();
	for (size_t i = 0; i < a.n && i < EVENTS_MAX; i++) {
		if (a.ev[i].deleted != b.ev[i].deleted || a.ev[i].ifindex != b.ev[i].ifindex ||
		    a.ev[i].flags != b.ev[i].flags || strcmp(a.ev[i].name, b.ev[i].name) != 0)
			abort();
		roundtrip(&a.ev[i]);
	}
	return 0;
}
