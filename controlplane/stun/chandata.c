/* SPDX-License-Identifier: MIT */
/*
 * TURN ChannelData framing (see chandata.h). Firezone's own decoder wants the length to
 * match a UDP datagram exactly (reference §5.1); RFC 8656 §12.5 lets a sender pad over UDP
 * too, so up to 3 padding bytes are accepted and ignored. No state; any thread.
 */
#include "chandata.h"

#include <errno.h>
#include <string.h>

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static bool channel_ok(uint16_t ch)
{
	return ch >= FG_CHANDATA_CHANNEL_MIN && ch <= FG_CHANDATA_CHANNEL_MAX;
}

int fg_chandata_parse(const uint8_t *buf, size_t len, bool stream, struct fg_chandata *cd)
{
	size_t dlen, need;

	if (len < FG_CHANDATA_HEADER_LEN)
		return stream ? -EAGAIN : -EBADMSG;
	cd->channel = (uint16_t)(buf[0] << 8 | buf[1]);
	cd->len = (uint16_t)(buf[2] << 8 | buf[3]);
	cd->data = buf + FG_CHANDATA_HEADER_LEN;
	if (!channel_ok(cd->channel))
		return -EBADMSG;
	dlen = cd->len;
	if (stream) {
		need = FG_CHANDATA_HEADER_LEN + pad4(dlen);
		return len < need ? -EAGAIN : (int)need;
	}
	if (len < FG_CHANDATA_HEADER_LEN + dlen || len > FG_CHANDATA_HEADER_LEN + pad4(dlen))
		return -EBADMSG;
	return (int)len;
}

int fg_chandata_write(uint8_t *buf, size_t cap, uint16_t channel, const void *data, size_t len,
		      bool stream)
{
	size_t total = FG_CHANDATA_HEADER_LEN + (stream ? pad4(len) : len);

	if (!channel_ok(channel) || len > FG_CHANDATA_MAX_DATA || (len && !data))
		return -EINVAL;
	if (!buf || total > cap)
		return -ENOBUFS;
	/* memmove: the data may already be in place, or overlap it. */
	if (len)
		memmove(buf + FG_CHANDATA_HEADER_LEN, data, len);
	buf[0] = (uint8_t)(channel >> 8);
	buf[1] = (uint8_t)channel;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memset(buf + FG_CHANDATA_HEADER_LEN + len, 0, total - FG_CHANDATA_HEADER_LEN - len);
	return (int)total;
}
