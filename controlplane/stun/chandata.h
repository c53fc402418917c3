/* SPDX-License-Identifier: MIT */
/*
 * TURN ChannelData framing (RFC 8656 §12.4, §12.5) and the first-byte rule that tells STUN,
 * ChannelData and everything else apart on one UDP port (RFC 7983 §7; Firezone's
 * decapsulate, reference §5.1): 0-3 is STUN, 0x40-0x4F is ChannelData. Firezone sends peer
 * data through relays only as ChannelData; the data plane wraps and unwraps it on its fast
 * path and the control plane here. Neither file needs anything but libc, so the data plane
 * can share them through common/ when it needs them (TODO: move them there then). No state;
 * any thread.
 */
#ifndef FG_CHANDATA_H
#define FG_CHANDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fg_chandata_limits {
	FG_CHANDATA_HEADER_LEN = 4,
	FG_CHANDATA_MAX_DATA = 0xFFFF,
	FG_CHANDATA_CHANNEL_MIN = 0x4000,
	FG_CHANDATA_CHANNEL_MAX = 0x4FFF,
};

enum fg_dgram_kind {
	FG_DGRAM_OTHER = 0,       /* WireGuard (types 1-4) and everything else */
	FG_DGRAM_STUN,            /* first byte 0-3 */
	FG_DGRAM_CHANDATA,        /* first byte 0x40-0x4F */
};

/* One ChannelData message: a view of the caller's buffer. */
struct fg_chandata {
	uint16_t channel;
	uint16_t len;             /* of the application data, without padding */
	const uint8_t *data;
};

/* What a datagram's first byte says it is. An empty datagram is FG_DGRAM_OTHER. */
static inline enum fg_dgram_kind fg_chandata_classify(const uint8_t *buf, size_t len)
{
	if (!len)
		return FG_DGRAM_OTHER;
	if (buf[0] <= 0x03)
		return FG_DGRAM_STUN;
	if (buf[0] >= 0x40 && buf[0] <= 0x4F)
		return FG_DGRAM_CHANDATA;
	return FG_DGRAM_OTHER;
}

/*
 * Parses the ChannelData message at the start of buf. Over UDP (stream false) buf is the
 * whole datagram: it must hold the data the length announces and may hold up to the padding
 * to 4 bytes after it (optional over UDP, §12.5), nothing more. Over TCP or TLS (stream true)
 * the message is always padded to 4 and may be followed by the next one. Returns the bytes
 * the message takes (len, over UDP), -EAGAIN when a stream buffer holds less than one
 * message, -EBADMSG for a channel number outside 0x4000-0x4FFF, a datagram shorter than its
 * length or longer than its length and padding.
 */
int fg_chandata_parse(const uint8_t *buf, size_t len, bool stream, struct fg_chandata *cd);

/*
 * Writes a ChannelData message: the header, the data (which may already sit at
 * buf + FG_CHANDATA_HEADER_LEN), and over a stream zero padding to 4 bytes. Returns the bytes
 * written, -EINVAL (channel number outside 0x4000-0x4FFF, more than 65535 bytes of data),
 * -ENOBUFS (cap too small).
 */
int fg_chandata_write(uint8_t *buf, size_t cap, uint16_t channel, const void *data, size_t len,
		      bool stream);

#endif
