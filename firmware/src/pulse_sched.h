/*
 * Pulse-train edge schedule for an output-compare timer that also makes the sample clock (CTC, TOP = one
 * sample period). Portable C, no hardware access, unit-tested on the host (firmware/test/test_pulse.c).
 *
 * Time base: timer counts after the compare match of sample tick 0 (the moment stimulus 0 is applied).
 * "Period j" is the span that ends with the compare match of tick j (period 0 ends at tick 0; it begins at
 * START). A compare value x in period j switches the pin x + 1 counts after the match of tick j - 1, so an
 * edge at t counts lies in period floor(a / top1) at compare value a mod top1, with a = t + top1 - 1.
 * Keeping the next edge as (period, compare value) and every interval as (whole periods, remainder) means
 * the interrupt handlers only add and compare; the one division per interval is done before the run.
 */
#ifndef PULSE_SCHED_H
#define PULSE_SCHED_H
#include <stdint.h>

typedef struct {
  uint32_t pe;   /* period of the next edge */
  uint16_t oe;   /* its compare value, 0..top1-1 */
  uint16_t top1; /* counts per sample period */
  uint32_t hq;   /* high time = hq periods + hr counts */
  uint16_t hr;
  uint32_t lq;   /* low time (period - width) */
  uint16_t lr;
  uint32_t left; /* edges still to make; 0xffffffff = endless */
  uint8_t level; /* level the next edge sets */
} ps_t;

/* delay, width and period in counts (width >= 1, period > width); count pulses, 0 = endless. */
static inline void ps_init(ps_t *s, uint16_t top1, uint32_t delay, uint32_t width, uint32_t period, uint32_t count) {
  uint32_t a = delay + top1 - 1u;
  s->top1 = top1;
  s->pe = a / top1;
  s->oe = (uint16_t)(a % top1);
  s->hq = width / top1;
  s->hr = (uint16_t)(width % top1);
  s->lq = (period - width) / top1;
  s->lr = (uint16_t)((period - width) % top1);
  s->left = count ? 2u * count : 0xffffffffu;
  s->level = 1;
}

/* The current edge is done: moves to the next one. Returns 0 when the train is over. */
static inline uint8_t ps_next(ps_t *s) {
  if (s->left != 0xffffffffu && --s->left == 0) return 0;
  uint16_t r = s->level ? s->hr : s->lr;
  s->pe += s->level ? s->hq : s->lq;
  uint16_t o = (uint16_t)(s->oe + r);
  if (o >= s->top1 || o < s->oe) { o = (uint16_t)(o - s->top1); s->pe++; }
  s->oe = o;
  s->level ^= 1;
  return 1;
}

/* Edge time in counts after tick 0 (for tests and the host's event timeline). */
static inline uint64_t ps_time(const ps_t *s) { return (uint64_t)s->pe * s->top1 + s->oe + 1u - s->top1; }

#endif
