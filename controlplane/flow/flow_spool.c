// SPDX-License-Identifier: MIT
/*
 * The spool directory (see flow_spool.h): an index of the authorization directories and
 * their segments kept in memory (names, report counts, sizes), the reports not yet written,
 * atomic writes, the bound and the pruning. The disk is the truth at start-up; afterwards
 * only this process writes there, and a segment that vanished is just dropped from the
 * index. Control plane thread only.
 */
#include "flow_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"

static const char *const TAG = "fastgate.flow";

enum {
	ROOT_MAX = PATH_MAX - 128,      /* room for "/<uuid>/<segment name>" */
	TOKEN_HASH_LEN = 32,
	WARN_EVERY_S = 60,              /* drop warnings: the first, then a summary a minute */
};

struct seg {
	uint64_t seq;
	unsigned count;
	uint64_t cost;
};

struct dir {
	char id[FG_FLOW_UUID_LEN];
	struct seg *segs;               /* oldest first */
	unsigned nsegs, capsegs;
	char *pending;                  /* lines not yet written */
	size_t plen, pcap;
	unsigned pcount;
	bool has_token;
	uint8_t token_hash[TOKEN_HASH_LEN];   /* of the token written (zero: found on disk) */
};

struct fg_flow_spool {
	char root[ROOT_MAX];
	struct dir **dirs;
	unsigned ndirs, capdirs;
	unsigned seg_max;
	uint64_t last_seq;
	uint64_t pending_total;
	struct fg_flow_spool_stats st;
	uint64_t warned_at;             /* monotonic s of the last drop warning */
	uint64_t unwarned;              /* reports dropped since */
};

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static uint64_t cost_of(uint64_t size)
{
	return (size + FG_FLOW_SPOOL_BLOCK - 1) / FG_FLOW_SPOOL_BLOCK * FG_FLOW_SPOOL_BLOCK + FG_FLOW_SPOOL_BLOCK * !size;
}

/* Counts lost reports; warns at the first loss and then at most a minute apart. */
static void dropped(struct fg_flow_spool *s, uint64_t n, const char *why)
{
	uint64_t now = mono_s();

	if (!n)
		return;
	s->st.dropped += n;
	s->unwarned += n;
	if (s->warned_at && now - s->warned_at < WARN_EVERY_S)
		return;
	fg_warn(TAG, "flow logs dropped: %" PRIu64 " report(s) (%s; %" PRIu64 " dropped in all)", s->unwarned, why,
		s->st.dropped);
	s->warned_at = now;
	s->unwarned = 0;
}

static int path_of(const struct fg_flow_spool *s, const char *id, const char *name, char *buf, size_t len)
{
	int n = name ? snprintf(buf, len, "%s/%s/%s", s->root, id, name) : snprintf(buf, len, "%s/%s", s->root, id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* fsync of a directory, so that a rename in it survives a crash. */
static void sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Writes len bytes as dir/name: a temporary file, fsync, rename, fsync of dir. 0/-errno. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	size_t off = 0;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (off < len && !rc) {
		ssize_t w = write(fd, data + off, len - off);

		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EINTR)
			rc = -errno;
	}
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	else
		sync_dir(dir);
	return rc;
}

/* ---- the index ------------------------------------------------------------------------------ */

static uint64_t dir_records(const struct dir *d)
{
	uint64_t n = d->pcount;

	for (unsigned i = 0; i < d->nsegs; i++)
		n += d->segs[i].count;
	return n;
}

static struct dir *find_dir(struct fg_flow_spool *s, const char *id)
{
	for (unsigned i = 0; i < s->ndirs; i++)
		if (!strcmp(s->dirs[i]->id, id))
			return s->dirs[i];
	return NULL;
}

static struct dir *add_dir(struct fg_flow_spool *s, const char *id)
{
	struct dir *d;

	if (s->ndirs == s->capdirs) {
		unsigned cap = s->capdirs ? s->capdirs * 2 : 16;
		struct dir **n = realloc(s->dirs, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->dirs = n;
		s->capdirs = cap;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	memcpy(d->id, id, FG_FLOW_UUID_LEN);
	s->dirs[s->ndirs++] = d;
	return d;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int add_seg(struct fg_flow_spool *s, struct dir *d, uint64_t seq, unsigned count, uint64_t size)
{
	if (d->nsegs == d->capsegs) {
		unsigned cap = d->capsegs ? d->capsegs * 2 : 8;
		struct seg *n = realloc(d->segs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->segs = n;
		d->capsegs = cap;
	}
	d->segs[d->nsegs++] = (struct seg){ seq, count, cost_of(size) };
	s->st.bytes += cost_of(size);
	s->st.segments++;
	if (seq > s->last_seq)
		s->last_seq = seq;
	return 0;
}

/* Removes segment i of d from the disk and the index. */
static void remove_seg(struct fg_flow_spool *s, struct dir *d, unsigned i)
{
	char name[FG_FLOW_SEG_NAME_LEN], path[PATH_MAX];

	fg_flow_spool_name(d->segs[i].seq, d->segs[i].count, name, sizeof(name));
	if (!path_of(s, d->id, name, path, sizeof(path)) && unlink(path) < 0 && errno != ENOENT)
		fg_warn(TAG, "flow log spool: cannot remove %s: %s", path, strerror(errno));
	s->st.bytes -= d->segs[i].cost;
	s->st.segments--;
	memmove(&d->segs[i], &d->segs[i + 1], (d->nsegs - i - 1) * sizeof(d->segs[0]));
	d->nsegs--;
}

/* Removes a directory with everything in it (what else is there stays, and so does it). */
static void remove_dir(struct fg_flow_spool *s, unsigned idx)
{
	struct dir *d = s->dirs[idx];
	char path[PATH_MAX];

	while (d->nsegs)
		remove_seg(s, d, d->nsegs - 1);
	if (!path_of(s, d->id, "token", path, sizeof(path)))
		unlink(path);
	if (!path_of(s, d->id, NULL, path, sizeof(path)) && rmdir(path) < 0 && errno != ENOENT)
		fg_warn(TAG, "flow log spool: cannot remove %s: %s", path, strerror(errno));
	s->pending_total -= d->pcount;
	if (d->pending)
		sodium_memzero(d->pending, d->plen);
	free(d->pending);
	free(d->segs);
	free(d);
	s->dirs[idx] = s->dirs[--s->ndirs];
}

static void scan_dir(struct fg_flow_spool *s, const char *id)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct dir *d;
	DIR *dp;

	if (path_of(s, id, NULL, path, sizeof(path)) || !(dp = opendir(path)))
		return;
	d = add_dir(s, id);
	while (d && (e = readdir(dp))) {
		uint64_t seq;
		unsigned count;
		struct stat st;

		if (!strcmp(e->d_name, "token")) {
			d->has_token = true;
		} else if (!strncmp(e->d_name, ".tmp-", 5)) {
			unlinkat(dirfd(dp), e->d_name, 0);   /* an interrupted write */
		} else if (fg_flow_spool_name_parse(e->d_name, &seq, &count) &&
			   fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
			if (add_seg(s, d, seq, count, (uint64_t)st.st_size) < 0)
				break;
		}
	}
	closedir(dp);
	if (d && d->nsegs)
		qsort(d->segs, d->nsegs, sizeof(d->segs[0]), seg_cmp);
}

struct fg_flow_spool *fg_flow_spool_open(const char *root, uint64_t max_bytes, char *err, size_t errlen)
{
	struct fg_flow_spool *s;
	struct dirent *e;
	DIR *dp;

	if (!root || !*root || strlen(root) >= ROOT_MAX) {
		snprintf(err, errlen, "flow log directory: empty or too long");
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (mkdir(root, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the flow log directory %s: %s", root, strerror(errno));
		return NULL;
	}
	dp = opendir(root);
	if (!dp) {
		snprintf(err, errlen, "cannot open the flow log directory %s: %s", root, strerror(errno));
		return NULL;
	}
	(void)fchmod(dirfd(dp), 0700);  /* it holds Bearer tokens (best effort: an owner's dir) */
	s = calloc(1, sizeof(*s));
	if (!s) {
		closedir(dp);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->root, sizeof(s->root), "%s", root);
	s->st.max_bytes = max_bytes;
	s->seg_max = FG_FLOW_SEG_RECORDS_MAX;
	while ((e = readdir(dp))) {
		struct stat st;

		if (fg_flow_uuid_valid(e->d_name) && fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			scan_dir(s, e->d_name);
	}
	closedir(dp);
	return s;
}

void fg_flow_spool_close(struct fg_flow_spool *s)
{
	if (!s)
		return;
	fg_flow_spool_flush(s);
	for (unsigned i = 0; i < s->ndirs; i++) {
		if (s->dirs[i]->pending)
			sodium_memzero(s->dirs[i]->pending, s->dirs[i]->plen);
		free(s->dirs[i]->pending);
		free(s->dirs[i]->segs);
		free(s->dirs[i]);
	}
	free(s->dirs);
	free(s);
}

void fg_flow_spool_set_segment(struct fg_flow_spool *s, unsigned records)
{
	s->seg_max = records < 1 ? 1 : records > FG_FLOW_SEG_RECORDS_MAX ? FG_FLOW_SEG_RECORDS_MAX : records;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Makes room for cost: the oldest segments of every directory go first. */
static void make_room(struct fg_flow_spool *s, uint64_t cost)
{
	while (s->st.bytes + cost > s->st.max_bytes) {
		struct dir *oldest = NULL;

		for (unsigned i = 0; i < s->ndirs; i++)
			if (s->dirs[i]->nsegs && (!oldest || s->dirs[i]->segs[0].seq < oldest->segs[0].seq))
				oldest = s->dirs[i];
		if (!oldest)
			return;
		dropped(s, oldest->segs[0].count, "the spool is full: oldest segment removed");
		remove_seg(s, oldest, 0);
	}
}

static int write_pending(struct fg_flow_spool *s, struct dir *d)
{
	char name[FG_FLOW_SEG_NAME_LEN], dir[PATH_MAX];
	uint64_t now = 0, cost = cost_of(d->plen);
	size_t plen = d->plen;
	struct timespec ts;
	unsigned n = d->pcount;
	int rc;

	if (!n)
		return 0;
	d->pcount = 0;
	s->pending_total -= n;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	s->last_seq = now > s->last_seq ? now : s->last_seq + 1;
	fg_flow_spool_name(s->last_seq, n, name, sizeof(name));
	if (cost > s->st.max_bytes) {
		rc = -EFBIG;
	} else {
		make_room(s, cost);
		rc = path_of(s, d->id, NULL, dir, sizeof(dir));
		if (!rc)
			rc = write_atomic(dir, name, d->pending, d->plen);
	}
	sodium_memzero(d->pending, d->plen);
	d->plen = 0;
	if (rc == 0 && (rc = add_seg(s, d, s->last_seq, n, plen)) == 0) {
		s->st.spooled += n;
		return 0;
	}
	s->st.write_errors++;
	dropped(s, n, rc == -EFBIG ? "a segment larger than the spool" : "a segment could not be written");
	if (rc != -EFBIG)
		fg_warn(TAG, "flow log spool: cannot write %s/%s: %s", dir, name, strerror(-rc));
	return rc;
}

/* The token file of d holds token (written when missing or different). */
static int ensure_token(struct fg_flow_spool *s, struct dir *d, const char *token)
{
	uint8_t h[TOKEN_HASH_LEN];
	char dir[PATH_MAX];
	int rc;

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	if (d->has_token && !sodium_memcmp(h, d->token_hash, sizeof(h)))
		return 0;
	rc = path_of(s, d->id, NULL, dir, sizeof(dir));
	if (!rc && mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	if (!rc)
		rc = write_atomic(dir, "token", token, strlen(token));
	if (rc)
		return rc;
	d->has_token = true;
	memcpy(d->token_hash, h, sizeof(h));
	return 0;
}

static int append(struct dir *d, const char *line, size_t n)
{
	if (d->plen + n > d->pcap) {
		size_t cap = (d->plen + n) * 2;
		char *p = malloc(cap);

		if (!p)
			return -ENOMEM;
		if (d->pending) {
			memcpy(p, d->pending, d->plen);
			sodium_memzero(d->pending, d->plen);
			free(d->pending);
		}
		d->pending = p;
		d->pcap = cap;
	}
	memcpy(d->pending + d->plen, line, n);
	d->plen += n;
	d->pcount++;
	return 0;
}

int fg_flow_spool_add(struct fg_flow_spool *s, const struct fg_flow_claims *claims, const char *token,
		      const char *payload, size_t n)
{
	char line[FG_FLOW_SPOOL_LINE_MAX + 1];
	size_t len = fg_flow_spool_line(payload, n, line, sizeof(line));
	struct dir *d = find_dir(s, claims->authz_id);
	int rc = 0;

	if (!len)
		rc = -EMSGSIZE;
	else if (!d && !(d = add_dir(s, claims->authz_id)))
		rc = -ENOMEM;
	if (!rc)
		rc = ensure_token(s, d, token);
	if (!rc && s->pending_total >= FG_FLOW_SPOOL_PENDING_MAX)
		fg_flow_spool_flush(s);
	if (!rc && !(rc = append(d, line, len))) {
		s->pending_total++;
		if (d->pcount >= s->seg_max)
			(void)write_pending(s, d);
	}
	if (rc) {
		s->st.write_errors++;
		dropped(s, 1, rc == -EMSGSIZE ? "a report too large" : "the token could not be written");
		if (rc != -EMSGSIZE)
			fg_warn(TAG, "flow log spool: authorization %s: %s", claims->authz_id, strerror(-rc));
		return rc;
	}
	return (int)dir_records(d);
}

void fg_flow_spool_flush(struct fg_flow_spool *s)
{
	for (unsigned i = 0; i < s->ndirs; i++)
		(void)write_pending(s, s->dirs[i]);
}

unsigned fg_flow_spool_pending(const struct fg_flow_spool *s)
{
	return (unsigned)s->pending_total;
}

unsigned fg_flow_spool_dir_records(const struct fg_flow_spool *s, const char *authz_id)
{
	for (unsigned i = 0; i < s->ndirs; i++)
		if (!strcmp(s->dirs[i]->id, authz_id))
			return (unsigned)dir_records(s->dirs[i]);
	return 0;
}

/* ---- reading -------------------------------------------------------------------------------- */

static int dir_oldest_cmp(const void *a, const void *b)
{
	const struct dir *x = *(struct dir *const *)a, *y = *(struct dir *const *)b;

	return seg_cmp(&x->segs[0], &y->segs[0]);
}

char (*fg_flow_spool_dirs(struct fg_flow_spool *s, unsigned *n))[FG_FLOW_UUID_LEN]
{
	struct dir **with = calloc(s->ndirs + 1, sizeof(*with));
	char (*ids)[FG_FLOW_UUID_LEN] = calloc(s->ndirs + 1, FG_FLOW_UUID_LEN);
	unsigned k = 0;

	*n = 0;
	if (!with || !ids) {
		free(with);
		free(ids);
		return NULL;
	}
	for (unsigned i = 0; i < s->ndirs; i++)
		if (s->dirs[i]->nsegs)
			with[k++] = s->dirs[i];
	qsort(with, k, sizeof(*with), dir_oldest_cmp);
	for (unsigned i = 0; i < k; i++)
		memcpy(ids[i], with[i]->id, FG_FLOW_UUID_LEN);
	free(with);
	*n = k;
	if (!k) {
		free(ids);
		return NULL;
	}
	return ids;
}

/* Reads a whole segment file (at most FG_FLOW_SEG_BYTES_MAX) into a heap buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t off = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

struct body {
	char *buf;
	size_t len, cap;
	unsigned records;
	bool oom;
};

/* Room for n more bytes and the closing "]}" and NUL. */
static bool reserve(struct body *b, size_t n)
{
	if (!b->oom && b->len + n + 3 > b->cap) {
		size_t cap = (b->len + n + 3) * 2;
		char *p = realloc(b->buf, cap);

		if (!p)
			b->oom = true;
		else {
			b->buf = p;
			b->cap = cap;
		}
	}
	return !b->oom;
}

static void add_report(void *ctx, const char *payload, size_t n)
{
	struct body *b = ctx;

	if (!reserve(b, n + 1))
		return;
	if (b->records)
		b->buf[b->len++] = ',';
	memcpy(b->buf + b->len, payload, n);
	b->len += n;
	b->records++;
}

/* Reads segment i of d into the body; false when it held nothing sound (it is then
 * removed, counted and warned about). */
static bool take_seg(struct fg_flow_spool *s, struct dir *d, unsigned i, struct body *body)
{
	char name[FG_FLOW_SEG_NAME_LEN], path[PATH_MAX];
	unsigned good = 0, bad = 0;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	fg_flow_spool_name(d->segs[i].seq, d->segs[i].count, name, sizeof(name));
	rc = path_of(s, d->id, name, path, sizeof(path));
	if (!rc)
		rc = read_file(path, FG_FLOW_SEG_BYTES_MAX, &buf, &len);
	if (rc == -ENOMEM)
		return false;
	if (!rc)
		good = fg_flow_spool_parse(buf, len, add_report, body, &bad);
	free(buf);
	if (rc == -ENOENT) {
		remove_seg(s, d, i);    /* gone meanwhile */
		return false;
	}
	if (rc || bad) {
		s->st.corrupt += rc ? d->segs[i].count : bad;
		fg_warn(TAG, "flow log spool: %s: %s", path,
			rc ? strerror(-rc) : "corrupt lines skipped (a torn or edited file)");
	}
	if (good)
		return true;
	remove_seg(s, d, i);
	return false;
}

int fg_flow_spool_batch(struct fg_flow_spool *s, const char *authz_id, unsigned max_records,
			struct fg_flow_batch *b)
{
	struct dir *d = find_dir(s, authz_id);
	struct body body = { 0 };
	unsigned i = 0, taken = 0;
	static const char head[] = "{\"flow_logs\":[";

	memset(b, 0, sizeof(*b));
	if (!d || !d->nsegs)
		return 0;
	b->segs = calloc(d->nsegs, sizeof(*b->segs));
	body.cap = 4096;
	body.buf = malloc(body.cap);
	if (!b->segs || !body.buf) {
		free(b->segs);
		free(body.buf);
		b->segs = NULL;
		return -ENOMEM;
	}
	memcpy(body.buf, head, sizeof(head) - 1);
	body.len = sizeof(head) - 1;
	while (i < d->nsegs && (!taken || taken + d->segs[i].count <= max_records) && !body.oom) {
		uint64_t seq = d->segs[i].seq;
		unsigned before = body.records;

		if (!take_seg(s, d, i, &body))
			continue;           /* removed: i is the next one now */
		b->segs[b->nsegs++] = seq;
		taken += body.records - before;
		i++;
	}
	if (body.oom || !body.records) {
		free(body.buf);
		free(b->segs);
		memset(b, 0, sizeof(*b));
		return body.oom ? -ENOMEM : 0;
	}
	memcpy(body.buf + body.len, "]}", 3);   /* reserve() kept room for it */
	body.len += 2;
	memcpy(b->authz_id, d->id, FG_FLOW_UUID_LEN);
	b->body = body.buf;
	b->len = body.len;
	b->records = body.records;
	return 1;
}

void fg_flow_spool_done(struct fg_flow_spool *s, struct fg_flow_batch *b, bool delete)
{
	struct dir *d = find_dir(s, b->authz_id);

	for (unsigned k = 0; delete && d && k < b->nsegs; k++)
		for (unsigned i = 0; i < d->nsegs; i++)
			if (d->segs[i].seq == b->segs[k]) {
				remove_seg(s, d, i);
				break;
			}
	free(b->body);
	free(b->segs);
	memset(b, 0, sizeof(*b));
}

int fg_flow_spool_token(struct fg_flow_spool *s, const char *authz_id, char *buf, size_t len)
{
	char path[PATH_MAX], *data = NULL;
	size_t n = 0;
	int rc = path_of(s, authz_id, "token", path, sizeof(path));

	if (!rc)
		rc = read_file(path, FG_FLOW_TOKEN_MAX, &data, &n);
	if (rc)
		return rc == -EFBIG ? -EBADMSG : rc;
	for (size_t i = 0; i < n && !rc; i++)
		if (data[i] <= ' ' || data[i] > '~')
			rc = -EBADMSG;    /* never a header injection */
	if (!rc && (!n || n >= len))
		rc = -EBADMSG;
	if (!rc)
		memcpy(buf, data, n + 1);
	sodium_memzero(data, n);
	free(data);
	return rc;
}

/* ---- pruning -------------------------------------------------------------------------------- */

/* Why d goes, or NULL when it stays. */
static const char *prune_reason(struct fg_flow_spool *s, struct dir *d, uint64_t now_s)
{
	char token[FG_FLOW_TOKEN_MAX + 1], path[PATH_MAX];
	struct fg_flow_claims c;
	struct stat st;
	const char *why = NULL;
	int rc = fg_flow_spool_token(s, d->id, token, sizeof(token));

	if (rc == -ENOENT) {
		/* Written before any report; a young directory may be getting it right now. */
		if (!d->pcount && !path_of(s, d->id, NULL, path, sizeof(path)) && stat(path, &st) == 0 &&
		    (uint64_t)st.st_mtime + FG_FLOW_DIR_GRACE_S < now_s)
			why = "its directory has no ingest token";
		return why;
	}
	if (rc == 0 && fg_flow_token_parse(token, &c, NULL, 0) == 0) {
		if (c.exp <= now_s)
			why = "the authorization's ingest token expired";
		fg_flow_claims_free(&c);
	}
	sodium_memzero(token, sizeof(token));
	return why;   /* an unreadable token stays: a passing failure must not delete reports */
}

void fg_flow_spool_prune(struct fg_flow_spool *s, uint64_t now_s)
{
	for (unsigned i = 0; i < s->ndirs;) {
		struct dir *d = s->dirs[i];
		const char *why = prune_reason(s, d, now_s);

		if (!why) {
			i++;
			continue;
		}
		fg_warn(TAG, "flow log spool: removing authorization %s with %" PRIu64 " report(s): %s", d->id,
			dir_records(d), why);
		s->st.dropped += dir_records(d);
		remove_dir(s, i);
	}
}

void fg_flow_spool_stats(const struct fg_flow_spool *s, struct fg_flow_spool_stats *out)
{
	*out = s->st;
	out->dirs = s->ndirs;
	out->pending = (unsigned)s->pending_total;
}

const char *fg_flow_spool_root(const struct fg_flow_spool *s)
{
	return s->root;
}
