#include "consensus/pacemaker.h"

void ist_cons_pacemaker_init(struct ist_cons_pacemaker *pm, uint64_t base_ms, uint64_t max_ms, uint64_t view)
{
	IST_REQUIRE(base_ms >= 1 && max_ms >= base_ms && view >= 1);
	pm->view = view;
	pm->fails = 0;
	pm->base_ms = base_ms;
	pm->max_ms = max_ms;
}

bool ist_cons_pacemaker_enter(struct ist_cons_pacemaker *pm, uint64_t view, bool progress)
{
	if (view <= pm->view)
		return false;
	pm->view = view;
	if (progress)
		pm->fails = 0;
	else if (pm->fails < 64)
		pm->fails++;
	return true;
}

uint64_t ist_cons_pacemaker_duration(const struct ist_cons_pacemaker *pm)
{
	uint64_t d = pm->base_ms;
	/* doubling stops at the cap, so it never overflows */
	for (uint32_t i = 0; i < pm->fails && d < pm->max_ms; i++)
		d = d > pm->max_ms / 2 ? pm->max_ms : d * 2;
	return d < pm->max_ms ? d : pm->max_ms;
}
