/*
 * A deterministic simulator of isthmus consensus clusters.
 *
 * Every node is a real struct ist_cons with a real Ed25519 key derived from
 * the seed; the simulator plays the node around it: virtual time (an event
 * queue ordered by time, then by insertion), the network, the disk, the
 * timers, the payload and the faults. The same configuration always gives
 * the same run, bit for bit: one seeded ist_rng_det drives every choice.
 *
 * Network: each link has its own latency distribution (a base in
 * [1, delta/2] plus uniform jitter up to delta/2). Before the global
 * stabilisation time (GST) messages may be lost, duplicated, delayed far
 * longer and cut by partitions; a message sent at t between honest nodes
 * arrives by max(t, GST) + delta unless lost before GST. Duplicates happen at
 * any time.
 *
 * Disk: a PERSIST completes after a latency (in order); only then is the
 * state on "disk" and the PERSISTED event delivered. A crash drops the core
 * and everything volatile; a restart builds a new core from the disk (the
 * last persisted safety state, the committed chain, the epoch), or from a
 * new disk that holds the safety state alone (a moved validator). Crashes
 * can be scheduled, and can also strike right before or right after a
 * persist reaches the disk.
 *
 * Byzantine nodes run a real core too (so they keep a plausible view) and
 * hold their keys; their output is tampered with according to a mask of
 * behaviours.
 *
 * Checks, failing the run at the first violation: two honest nodes commit
 * different blocks at one height; an honest chain that does not link
 * (parent ids) or skips a height; an honest key sends two different votes,
 * two different timeouts or two different proposals for one (epoch, view);
 * two honest nodes disagree on an epoch's set or root. Optionally liveness:
 * after `live_from_ms`, every honest node commits at least
 * `min_new_commits` blocks, with at most `max_view_gap` views between two
 * commits.
 */
#ifndef IST_TESTS_CONSENSUS_SIM_H
#define IST_TESTS_CONSENSUS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/hash.h"

#define IST_SIM_MAX_NODES 128
#define IST_SIM_MAX_PARTITIONS 4
#define IST_SIM_MAX_CRASHES 16

enum ist_sim_byz {
	IST_SIM_BYZ_EQUIVOCATE = 1u << 0,   /* as leader: two different blocks, one to each half */
	IST_SIM_BYZ_DOUBLE_VOTE = 1u << 1,  /* a second, different vote in each view it votes */
	IST_SIM_BYZ_WITHHOLD = 1u << 2,     /* never sends its votes; drops half its proposals */
	IST_SIM_BYZ_BAD_SIG = 1u << 3,      /* corrupts a third of its signatures */
	IST_SIM_BYZ_REPLAY = 1u << 4,       /* sends old messages it received, to anyone */
	IST_SIM_BYZ_FUTURE = 1u << 5,       /* signed timeouts and votes for views far ahead */
	IST_SIM_BYZ_GARBAGE = 1u << 6,      /* random and mutated bytes, through the wire decoder */
	IST_SIM_BYZ_BAD_PAYLOAD = 1u << 7,  /* as leader: payloads honest nodes find invalid */
	IST_SIM_BYZ_ALL = 0xffu,
};

struct ist_sim_partition {
	uint64_t start_ms, end_ms;
	uint8_t side[IST_SIM_MAX_NODES];    /* 0 or 1: messages between sides are lost */
};

struct ist_sim_crash {
	uint32_t node;
	uint64_t at_ms;
	uint64_t down_ms;
	/* The node comes back on a new disk, as a validator moved to a new
	 * machine: the committed chain back to the genesis block, no stored
	 * blocks, epoch 0, and only the safety state taken along (`isthmus
	 * safety import`), or not even that with lose_safety (what the import
	 * prevents: tests show the checker catches it). For runs without an
	 * epoch change: the state of a later epoch does not fit epoch 0. */
	bool new_disk;
	bool lose_safety;
};

struct ist_sim_config {
	uint64_t seed;
	uint32_t n;                          /* validators of epoch 0 (nodes 0..n-1) */
	uint64_t stakes[IST_SIM_MAX_NODES];  /* per node; 0 = 1 */
	uint32_t n_byz;
	uint32_t byz_nodes[IST_SIM_MAX_NODES];
	uint32_t byz_mask;                   /* enum ist_sim_byz */

	uint64_t delta_ms;                   /* honest latency bound after GST */
	uint64_t gst_ms;
	uint32_t loss_pm;                    /* per mille, before GST */
	uint32_t dup_pm;                     /* per mille, always */
	uint32_t slow_pm;                    /* per mille of messages delayed up to 8 delta before GST */
	uint32_t n_partitions;
	struct ist_sim_partition partitions[IST_SIM_MAX_PARTITIONS];
	uint32_t n_crashes;
	struct ist_sim_crash crashes[IST_SIM_MAX_CRASHES];
	uint32_t persist_crash_pm;           /* per mille of persists with a crash right before/after the write */
	uint64_t persist_ms;                 /* disk latency, up to */

	uint64_t timeout_base_ms;
	uint64_t timeout_max_ms;
	uint64_t end_ms;
	uint32_t notyet_pm;                  /* per mille of validations answering NOT_YET first */
	uint64_t epoch_change_height;        /* 0: none; else the block at this height hands over to nodes 1..n */
	/* Many epochs (not with epoch_change_height): 0 = none; else every
	 * block at a height multiple of epoch_every ends its epoch, up to the
	 * simulator's epoch bound. Each epoch's set is nodes 0..n-1, except
	 * out_node in epochs out_from..out_to-1 (when out_to > out_from): a
	 * validator jailed out of the set, which follows as an observer. */
	uint64_t epoch_every;
	uint32_t out_node;
	uint64_t out_from, out_to;
	bool sigcache;                       /* share signature verifications between nodes */
	bool codec;                          /* every message through encode + decode */
	bool digest;                         /* hash every action of every node */

	bool check_liveness;
	uint64_t live_from_ms;
	uint64_t min_new_commits;
	uint64_t max_view_gap;
	bool stop_when_live;                 /* end as soon as every honest node has min_new_commits */

	FILE *trace;                         /* event trace, or NULL */
};

struct ist_sim_result {
	bool ok;
	char why[512];
	uint64_t min_height, max_height;     /* committed, over honest nodes */
	uint64_t max_view;
	uint64_t min_new_commits;            /* after live_from_ms, over honest nodes */
	uint64_t max_view_gap;
	uint64_t msgs_proposal, msgs_vote, msgs_timeout, msgs_sync;  /* sent, per recipient */
	uint64_t blocks;                     /* distinct committed heights */
	uint64_t events;
	uint64_t epochs;                     /* highest epoch reached by an honest node */
	uint64_t min_epoch;                  /* lowest epoch of an honest node at the end */
	uint64_t drops[32];                  /* summed over nodes, by enum ist_cons_drop */
	uint64_t verifications;              /* real signature checks, summed over running cores */
	uint64_t signed_msgs;                /* votes, timeouts and proposals signed, the same */
	uint8_t digest[IST_HASH_BYTES];
};

/* A configuration with sane defaults for n validators and no faults. */
void ist_sim_config_default(struct ist_sim_config *cfg, uint64_t seed, uint32_t n);

/*
 * A random schedule drawn from `seed`: up to f = (n-1)/3 Byzantine nodes with
 * random behaviours (stake below 1/3), random stakes sometimes, loss,
 * duplication, slow links, partitions that heal, crashes and restarts (also
 * around persists), a GST, sometimes an epoch change, payload validation that
 * defers. Liveness is checked when every crash and partition ends before GST.
 */
void ist_sim_config_random(struct ist_sim_config *cfg, uint64_t seed, uint32_t n);

/* Runs one simulation. Returns 0 (see res->ok for the verdict) or a
 * negative -IST_E* when it could not run (bad configuration, memory). */
int ist_sim_run(const struct ist_sim_config *cfg, struct ist_sim_result *res);

#endif
