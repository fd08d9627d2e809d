/*
 * The pacemaker: the current view and its timer (liveness only; nothing here
 * can make the core sign anything unsafe). A view is entered through a QC or
 * a TC for the view before it (or by joining timeouts that more than 1/3 of
 * the stake signed for a later view). The timer of a view lasts
 * base * 2^k, capped at max, where k counts the views in a row that ended
 * without a QC; a QC brings k back to 0.
 */
#ifndef IST_CONSENSUS_PACEMAKER_H
#define IST_CONSENSUS_PACEMAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"

struct ist_cons_pacemaker {
	uint64_t view;       /* current view, >= 1 */
	uint32_t fails;      /* views in a row ended without a QC */
	uint64_t base_ms;
	uint64_t max_ms;
};

/* Starts at `view` with no failure behind. base_ms >= 1, max_ms >= base_ms. */
void ist_cons_pacemaker_init(struct ist_cons_pacemaker *pm, uint64_t base_ms, uint64_t max_ms, uint64_t view);

/*
 * Enters `view` when it is above the current one. `progress` tells whether a
 * QC brought it (the back-off restarts) or not (a TC or a join: one more
 * failed view). Returns true when the view changed.
 */
bool ist_cons_pacemaker_enter(struct ist_cons_pacemaker *pm, uint64_t view, bool progress);

/* The timer duration for the current view: min(base * 2^fails, max). */
uint64_t ist_cons_pacemaker_duration(const struct ist_cons_pacemaker *pm) IST_WUR;

#endif
