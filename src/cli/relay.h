/*
 * `isthmus relay`: the relayer's parts, shared by the files of the command
 * (relay.c: options, signals, the main loop; relay_state.c: the state file
 * and the routes; relay_work.c: validators, destinations, resync, events and
 * deliveries). Internal to src/cli. docs/cli-relay.md describes the
 * behaviour; docs/api.md ("How a relayer uses it") the protocol.
 *
 * One thread does all the work, one request at a time: so there is never
 * more than one request in flight to a destination (or to anyone). A second
 * thread only waits for SIGINT/SIGTERM, sets `stop`, ends the long poll in
 * progress (ist_http_client_abort on the events clients) and wakes a
 * back-off sleep; the worker then finishes the delivery in progress, saves
 * the state and returns.
 */
#ifndef IST_CLI_RELAY_H
#define IST_CLI_RELAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/http.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "wire/types.h"

#define RELAY_SUBSYS "relay"
#define RELAY_MAX_VALIDATORS 16
#define RELAY_MAX_CHAINS 64
#define RELAY_MAX_ROUTES 1024
#define RELAY_BOOT_MAX 65                   /* a validator's `boot`, NUL included */
#define RELAY_LABEL_MAX 44                  /* "S-D" with two u64, NUL included */
#define RELAY_STATE_FORMAT "isthmus-relay-state/v1"
#define RELAY_STATE_MAX (4u * 1024 * 1024)  /* bytes of a state file */
#define RELAY_SAVE_EVERY 32                 /* deliveries between saves within a batch */
#define RELAY_BATCH 64                      /* deliveries of one route before the next route's turn */
#define RELAY_DEST_BACKOFF_MIN_MS 500
#define RELAY_BACKOFF_MAX_MS 10000
#define RELAY_VAL_BACKOFF_MIN_MS 250
#define RELAY_HOLD_MIN_MS 1000              /* first wait for a hand-over not certified yet */
#define RELAY_POLL_SLACK_MS 15000           /* a long poll's HTTP timeout is wait_ms plus this */
#define RELAY_PATH_MAX 128                  /* a validator path with its query, NUL included */

enum relay_route_st {
	ROUTE_IDLE = 0,    /* delivers up to its target */
	ROUTE_PENDING,     /* a validator said `pending`: waits for an event or a resync */
	ROUTE_BLOCKED,     /* the destination refused a delivery twice: waits for a human */
};

/* A destination chain this relayer serves (--chain ID=URL). */
struct relay_dest {
	uint64_t chain;
	const char *url;                 /* borrowed from argv */
	struct ist_http_client *http;
	bool down;                       /* the last request failed; retried at retry_at_ms */
	uint64_t retry_at_ms;            /* monotonic */
	uint32_t backoff_ms;
	/* epoch hand-overs (relay_work.c, follow_epochs) */
	bool epoch_known;                /* `epoch` is the destination's current trusted epoch as last seen */
	uint64_t epoch;
	bool no_epochs;                  /* it answered 404 to GET /v1/inbox/epochs: hand-overs are not
					  * brought to it (deliveries still are) */
	uint64_t hold_until_ms;          /* monotonic: its routes wait for a hand-over until then */
	uint32_t hold_ms;                /* the current wait (doubles up to RELAY_BACKOFF_MAX_MS) */
};

/* A route: known from the state file, an event or GET /v1/routes. */
struct relay_route {
	uint64_t src, dst;
	uint64_t next;                   /* the next nonce to deliver (persisted) */
	uint64_t target;                 /* the largest certified tree size seen: nonces below it are deliverable */
	enum relay_route_st st;
	struct relay_dest *dest;         /* NULL: a route of the state file this run does not serve */
	char label[RELAY_LABEL_MAX];     /* "S-D": the metrics label */
};

/* A validator (--validator URL): one client for the long poll, one for the
 * rest, so that the long poll alone can be aborted. */
struct relay_validator {
	const char *url;                 /* borrowed from argv */
	struct ist_http_client *data, *events;
};

struct relay_metrics {
	struct ist_metrics *reg;
	struct ist_metric *delivered, *replays, *rejected, *val_errors, *dest_errors, *next_nonce, *event_seq,
		*blocked, *handovers, *handover_rejected, *dest_epoch;
};

struct relay {
	/* configuration */
	struct relay_validator val[RELAY_MAX_VALIDATORS];
	size_t n_val;
	struct relay_dest dest[RELAY_MAX_CHAINS];
	size_t n_dest;
	const char *state_path;
	uint32_t wait_ms;
	bool once;
	enum ist_cert_scheme scheme;     /* --scheme: the certificates asked for and carried */
	char scheme_query[40];           /* "" (multisig) or "?scheme=frost-ed25519": appended to
					  * the deliveries' and hand-overs' paths */

	/* routes, in the order they became known */
	struct relay_route *routes;      /* RELAY_MAX_ROUTES of them */
	size_t n_routes;
	bool routes_full_logged;

	/* the validator in use and the event cursor, which is its */
	size_t cur;
	bool have_boot;                  /* false: the next answer's boot is new, so resync */
	bool boot_seen;                  /* the validator confirmed the boot in this run (else poll
					  * without waiting: a boot from the state file may be stale) */
	char boot[RELAY_BOOT_MAX];
	uint64_t after;
	unsigned val_streak;             /* validator failures since the last answer */

	/* the state file */
	bool dirty;
	unsigned unsaved;                /* deliveries since the last save */

	/* for --once: something could not be done */
	unsigned problems;

	struct relay_metrics m;

	/* stopping (the signal thread) */
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;               /* CLOCK_MONOTONIC; wakes back-off sleeps */
};

static inline bool relay_stopping(struct relay *r) { return atomic_load(&r->stop); }

/* Monotonic milliseconds. */
uint64_t relay_now_ms(void);

/* ---- relay_state.c ---- */

/* The route src->dst; with `create`, added when missing (served when its
 * destination is). NULL when missing, or when the table is full (logged
 * once). */
struct relay_route *relay_route_get(struct relay *r, uint64_t src, uint64_t dst, bool create);

/* Loads the state file into `r` (whose validators and destinations are set
 * up): the routes' next nonces and the event cursor, which is kept only when
 * it belongs to one of the --validator URLs (that validator is then used
 * first). A missing file is a fresh state. Returns 0, or -IST_E* with one
 * line in err naming the file (and field). */
int relay_state_load(struct relay *r, char *err, size_t errlen) IST_WUR;

/* Writes the state file atomically (mode 0600) when something changed.
 * Logs a failure; returns 0 or -IST_E*. */
int relay_state_save(struct relay *r);

/* ---- relay_work.c ---- */

/* GET /v1/routes and raise every served route's target to its latest
 * committed tree size (pending routes become idle). Returns 0, -IST_ENET
 * when no validator answered, -IST_ECLOSED when stopping, -IST_ENOMEM. */
int relay_resync(struct relay *r) IST_WUR;

/* One long poll of the current validator's events, and what follows from
 * the answer: targets raised, or a resync (a new boot, missed events, a
 * pending route on an idle answer). Returns 0, -IST_ENET (the validator
 * failed: the next one is in use), -IST_ECLOSED, -IST_ENOMEM. */
int relay_poll(struct relay *r) IST_WUR;

/* Delivers, route by route, every nonce below the route's target that can
 * be delivered now. Returns 0 (nothing left that can be done now),
 * -IST_ENET when no validator answered, -IST_ECLOSED when stopping,
 * -IST_ENOMEM. */
int relay_catch_up(struct relay *r) IST_WUR;

/* How long the next long poll may wait: the configured wait, shortened to
 * the next retry of a destination that is down, or 0 when a route has work
 * now. */
uint32_t relay_wait_ms(struct relay *r);

/* When a destination can be asked again (monotonic ms; 0: now): after its
 * back-off when down, after its hold while it waits for a hand-over. */
uint64_t relay_dest_ready_at(const struct relay_dest *d);

/* Marks the route's next nonce in the metrics. */
void relay_route_changed(struct relay *r, struct relay_route *rt);

#endif
