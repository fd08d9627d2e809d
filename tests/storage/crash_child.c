/*
 * store-crash-child DIR FD: the victim of the storage crash test.
 *
 * Opens the store in DIR (with a tiny map, so that it grows during the
 * run), continues after the last committed batch (the marker) and commits
 * numbered batches forever (crash_batch.h), each in ONE ist_store_write.
 * After each commit returns it writes the batch number (8 bytes,
 * big-endian) to file descriptor FD. It stops only when killed (the parent
 * SIGKILLs it), on an error (exit 2) or when the parent is gone (write
 * fails: exit 3).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "crash_batch.h"
#include "storage/store.h"

static int batch_fn(struct ist_txn *txn, void *ctx)
{
	uint64_t b = *(const uint64_t *)ctx;
	uint8_t k[CRASH_KEY_BYTES], v[CRASH_VALUE_MAX];
	uint32_t n = crash_batch_keys(b);
	for (uint32_t i = 0; i < n; i++) {
		crash_key(k, b, i);
		size_t len = crash_value(v, b, i);
		int r = ist_store_put(txn, CRASH_DB, k, sizeof(k), v, len);
		if (r)
			return r;
	}
	uint8_t m[8];
	ist_put_be64(m, b);
	return ist_store_put(txn, CRASH_MARKER_DB, CRASH_MARKER, strlen(CRASH_MARKER), m, sizeof(m));
}

static int last_batch(struct ist_store *s, uint64_t *ret)
{
	struct ist_txn *t;
	int r = ist_store_read_begin(s, &t);
	if (r)
		return r;
	const uint8_t *v;
	size_t n;
	r = ist_store_get(t, CRASH_MARKER_DB, CRASH_MARKER, strlen(CRASH_MARKER), &v, &n);
	if (r == -IST_ENOTFOUND) {
		*ret = 0;
		r = 0;
	} else if (r == 0) {
		*ret = n == 8 ? ist_get_be64(v) : 0;
		if (n != 8)
			r = -IST_EDB_CORRUPT;
	}
	ist_store_read_end(t);
	return r;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: store-crash-child DIR FD\n");
		return 64;
	}
	int fd = atoi(argv[2]);
	/* a vanished parent shows as a failed write, not a signal */
	signal(SIGPIPE, SIG_IGN);

	struct ist_store_options o = { .map_size = CRASH_MAP_SIZE, .map_size_max = CRASH_MAP_MAX };
	struct ist_store *s;
	char err[IST_STORE_ERRBUF_BYTES];
	int r = ist_store_open(argv[1], &o, &s, err, sizeof(err));
	if (r) {
		fprintf(stderr, "store-crash-child: %s\n", err);
		return 2;
	}
	uint64_t b;
	r = last_batch(s, &b);
	if (r) {
		fprintf(stderr, "store-crash-child: reading the marker: %s\n", ist_strerror(r));
		ist_store_close(s);
		return 2;
	}
	for (;;) {
		b++;
		r = ist_store_write(s, batch_fn, &b);
		if (r) {
			fprintf(stderr, "store-crash-child: batch %llu: %s\n", (unsigned long long)b, ist_strerror(r));
			ist_store_close(s);
			return 2;
		}
		uint8_t rep[8];
		ist_put_be64(rep, b);
		ssize_t w;
		do
			w = write(fd, rep, sizeof(rep));
		while (w < 0 && errno == EINTR);
		if (w != (ssize_t)sizeof(rep)) {
			ist_store_close(s);
			return 3;
		}
	}
}
