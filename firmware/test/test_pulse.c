/* Host-side tests of the pulse-train edge schedule (src/pulse_sched.h), built with the host gcc:
 *   make -C firmware test
 * The incremental (period, compare value) walk the interrupts use must give, edge for edge, the times of the
 * direct formula: rise k at delay + k * period, fall k at that + width (counts after tick 0), and each edge's
 * compare value must lie in 0..top1-1 of its period. Prints "ok N checks" and exits 0, or the first failure. */
#include <stdio.h>
#include <stdlib.h>
#include "pulse_sched.h"

static int checks;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); exit(1); } } while (0)

static uint32_t rng = 2463534242u;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static void walk(uint16_t top1, uint32_t delay, uint32_t width, uint32_t period, uint32_t count) {
  ps_t s;
  ps_init(&s, top1, delay, width, period, count);
  uint32_t edges = count ? 2 * count : 5000;
  for (uint32_t k = 0; k < edges; k++) {
    uint64_t want = (uint64_t)delay + (uint64_t)(k / 2) * period + (k % 2 ? width : 0);
    CHECK(ps_time(&s) == want, "top1 %u d %u w %u p %u: edge %u at %llu, want %llu", top1, delay, width, period, k,
          (unsigned long long)ps_time(&s), (unsigned long long)want);
    CHECK(s.oe < top1, "compare value %u outside the period (%u)", s.oe, top1);
    CHECK(s.level == (k % 2 ? 0 : 1), "edge %u sets level %u", k, s.level);
    uint8_t more = ps_next(&s);
    if (count) CHECK(more == (k + 1 < edges), "edge %u: ps_next says %u", k, more);
  }
}

int main(void) {
  /* edges on tick boundaries, right after them and right before, periods shorter and longer than a tick */
  walk(3200, 0, 3200, 6400, 20);
  walk(3200, 1, 640, 1280, 50);
  walk(3200, 3199, 1, 3200, 10);
  walk(1600, 48, 640, 1280, 100);
  walk(65535, 65534, 65535, 131069, 30);
  walk(2, 0, 1, 3, 100);
  for (int i = 0; i < 2000; i++) {
    uint16_t top1 = (uint16_t)(2 + rnd() % 65534);
    uint32_t width = 1 + rnd() % (i % 2 ? 100000u : 200u);
    uint32_t period = width + 1 + rnd() % (i % 3 ? 300000u : 500u);
    walk(top1, rnd() % 1000000u, width, period, 1 + rnd() % 40);
  }
  walk(3200, 5, 100, 300, 0); /* endless: ps_next never ends the train */
  printf("ok %d checks\n", checks);
  return 0;
}
