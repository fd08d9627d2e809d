/*
 * Shared helpers for the Check-based tests: a TAP-emitting main, temporary
 * directories, and the location of the published vectors.
 */
#ifndef IST_TEST_H
#define IST_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* Runs `s` with TAP output on stdout (meson's 'tap' protocol) and returns the
 * process exit status: 0 when every test passed. */
int ist_test_run(Suite *s);

/* Creates a fresh private directory under $TMPDIR (or /tmp) whose name starts
 * with `prefix`; returns a malloc'd path. Aborts the test on failure. */
char *ist_test_tmpdir(const char *prefix);

/* Removes a directory tree (best effort, for cleanup). */
void ist_test_rmtree(const char *path);

/* Path of a file in tests/vectors/ (from the IST_TEST_VECTORS environment
 * variable meson sets); malloc'd. */
char *ist_test_vector_path(const char *name);

/* Reads a whole file into a malloc'd, NUL-terminated buffer; aborts the test
 * on failure. *ret_len may be NULL. */
char *ist_test_read_file(const char *path, size_t *ret_len);

/* Decodes a hex string of exactly `len` bytes; fails the test otherwise. */
void ist_test_unhex(const char *hex, uint8_t *out, size_t len);

/* A TCP socket listening on 127.0.0.1 at a free port (backlog 16), which
 * nobody accepts on until the caller does: a server that takes connections
 * and never answers, or, closed at once, a port where nobody listens.
 * Out: *ret_port. Returns the socket; aborts the test on failure. */
int ist_test_listen_loopback(uint16_t *ret_port);

/* Asserts that `len` bytes at `got` are `want_hex` (lower-case hex); a
 * failure shows both as hex. */
void ist_test_assert_hex(const uint8_t *got, size_t len, const char *want_hex);

#endif
