/*
 * A node home: its layout, the error that names a file, a field and a
 * problem, and the reading and writing of its JSON files.
 *
 * A home directory (mode 0700) holds (docs/configuration.md):
 *
 *   config.json     this node's settings            (struct ist_node_config, node/config.h)
 *   genesis.json    the network's genesis           (struct ist_node_genesis, node/genesis.h)
 *   keys/           the keystore (0700), keys/NAME.json per keyset (0600)
 *   passphrase      devnets only: the keystore passphrase (0600)
 *   public.json     what `isthmus init` told the operator to send to the
 *                   genesis coordinator (public keys and address)
 *   data/           the node's database (made by the daemon)
 *
 * Errors. Everything that reads config.json, genesis.json or a file they
 * point to reports a problem as a struct ist_json_err (common/json.h): the
 * file, the JSON path of the field ("validators[2].stake", "" when the
 * problem is the file as a whole) and the problem, which
 * ist_json_err_format() turns into one line: "genesis.json:
 * validators[2].stake: must be a positive integer (got -5)". The config and
 * genesis parsers read with the common JSON reader (struct
 * ist_json_reader); other modules read the parsed structs.
 */
#ifndef IST_NODE_HOME_H
#define IST_NODE_HOME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/macro.h"

/* ---- layout --------------------------------------------------------------- */

#define IST_NODE_CONFIG_FILE "config.json"
#define IST_NODE_GENESIS_FILE "genesis.json"
#define IST_NODE_KEYS_DIR "keys"
#define IST_NODE_DATA_DIR "data"
#define IST_NODE_PASSPHRASE_FILE "passphrase"
#define IST_NODE_PUBLIC_FILE "public.json"

/* The longest path a config may give (a relative one is joined to the home
 * first) and the longest home path. */
#define IST_NODE_PATH_MAX 1024

/* Joins `rel` to `home`: `rel` itself when it is absolute, else
 * "HOME/REL". Out: *ret_path (malloc'd, caller frees). Returns 0,
 * -IST_EINVAL (empty `rel`) or -IST_ENOMEM. */
int ist_node_home_path(const char *home, const char *rel, char **ret_path) IST_WUR;

/* ---- files ------------------------------------------------------------------ */

/* Writes `len` bytes to `path` with mode 0600, atomically and durably
 * (ist_file_write_atomic, common/file.h: a temporary file in the same
 * directory, fsync, rename, fsync of the directory). An existing file is
 * replaced only with `replace`. Returns 0, -IST_EEXISTS ("file exists"),
 * -IST_EIO/-IST_EPERM/... ("cannot write: ..." or "cannot sync its directory:
 * ..."), -IST_ENOMEM; `err` names `path`. */
int ist_node_file_write(const char *path, const void *data, size_t len, bool replace, struct ist_json_err *err) IST_WUR;

/* Makes the directory `dir` (and missing parents) with mode 0700, or checks
 * an existing one: a directory owned by the effective user that group and
 * others cannot access. Returns 0, -IST_EINVAL (not a directory), -IST_EPERM
 * (another owner, or group/other permission bits: the problem says how to fix
 * it), -IST_EIO; `err` names `dir`. */
int ist_node_dir_make(const char *dir, struct ist_json_err *err) IST_WUR;

/* ---- URLs ------------------------------------------------------------------------ */

#define IST_NODE_URL_MAX 255   /* = IST_WIRE_MAX_ADDRESS_BYTES: a genesis address fits the wire */
#define IST_NODE_HOST_MAX 253

/* A parsed "SCHEME://HOST:PORT". HOST is a DNS name or IPv4 address
 * ([A-Za-z0-9.-]) or an IPv6 address in brackets (kept with them). No user,
 * no path, no query. */
struct ist_node_url {
	char scheme[16];
	char host[IST_NODE_HOST_MAX + 1];
	uint16_t port;   /* 1..65535 */
};

/* Schemes of the node's peer-to-peer address (NNG) and of its API. */
#define IST_NODE_URL_P2P  "tcp\0tls+tcp\0"
#define IST_NODE_URL_HTTP "http\0"

/* Parses `url` (at most IST_NODE_URL_MAX bytes) whose scheme must be one of
 * `schemes`, a list of NUL-terminated names ended by an empty one (one of the
 * IST_NODE_URL_* above). With !allow_unspecified, the hosts 0.0.0.0 and [::]
 * (a bind address nobody can connect to) are refused. Out: *ret_url (may be
 * NULL). Returns 0 or -IST_EINVAL with a problem ("must be tcp://HOST:PORT or
 * tls+tcp://HOST:PORT (got \"...\")") in `problem` (NUL-terminated, len > 0). */
int ist_node_url_parse(const char *url, const char *schemes, bool allow_unspecified, struct ist_node_url *ret_url,
		       char *problem, size_t len) IST_WUR;

#endif
