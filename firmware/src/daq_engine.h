/*
 * The sampling engine shared by every board family.
 *
 * Interrupt side (kept minimal, so the link never waits long for the CPU): the sample-clock interrupt applies
 * the stimulus value and starts the first conversion (engine_tick), each conversion result goes into a
 * per-tick slot of a small ring (engine_sample). A tick that finds the ring full is dropped whole and
 * counted; its index is still consumed, so the host sees the gap.
 *
 * Main-loop side (engine_service, also called while waiting for the UART): packs ticks from the ring into
 * DATA frame bodies (10-bit: 4 samples in 5 bytes; 12-bit: 2 in 3), CRC computed as bytes complete, and queues
 * full bodies for sending. A block always holds consecutive indices: a dropped tick ends it early.
 */
#pragma once
#include <stdint.h>
#include "sl_protocol.h"

#ifndef ENGINE_NBLOCK
#define ENGINE_NBLOCK 3
#endif
#ifndef ENGINE_RING
#define ENGINE_RING 16 /* ticks of slack between the interrupt and the packer (a power of two) */
#endif
#define ENGINE_NONE 0xff
#define ENGINE_MAXV (HAL_ANALOG_INPUTS + 1)
#define ENGINE_INLINE static inline __attribute__((always_inline))
/* DATA body: type, seq, first index u32, packed samples, crc u16 */
#define BLOCK_HDR 6
#define BLOCK_BYTES (BLOCK_HDR + ENGINE_MAX_PACKED + 2)

#define ENGINE_CRC(c, b) sl_crc16_step((c), (b))

enum { BLK_FREE = 0, BLK_FILLING = 1, BLK_READY = 2, BLK_SENDING = 3 };

struct Block {
  uint8_t body[BLOCK_BYTES];
  uint16_t len; /* body length once ready */
};

struct TickSlot {
  uint32_t idx;
  uint16_t v[ENGINE_MAXV];
};

static Block blocks[ENGINE_NBLOCK];
static uint8_t block_state[ENGINE_NBLOCK];
static uint8_t ready_q[ENGINE_NBLOCK + 1];
static uint8_t ready_head, ready_tail;

/* configuration (written only while stopped) */
static uint8_t eng_nadc;       /* ADC channels per tick */
static uint8_t eng_adc_ch[8];  /* their pins, ascending */
static uint8_t eng_record_stim;
static uint8_t eng_nvals;      /* values per tick */
static uint8_t eng_ticks_per_block;
static uint8_t eng_data_seq;

/* interrupt side */
static TickSlot ring[ENGINE_RING];
static volatile uint8_t ring_head, ring_tail; /* ISR publishes head, main consumes tail */
static TickSlot *cur_slot;
static volatile uint8_t cur_ch = ENGINE_NONE; /* value position within the tick being converted */
static volatile uint32_t tick_index;
static volatile uint16_t dropped_ticks, overruns;

/* packer (main loop only) */
static uint8_t fill = ENGINE_NONE;
static uint8_t *fill_ptr;
static uint8_t fill_k;
static uint8_t fill_ticks;
static uint16_t fill_crc;
static uint32_t fill_next_idx;

static volatile uint8_t running;

ENGINE_INLINE void crc_byte(uint8_t b) { fill_crc = ENGINE_CRC(fill_crc, b); }

#if SAMPLE_BITS == 10
/* bytes of a partial 4-in-5 group that are started but not yet in the CRC */
ENGINE_INLINE uint8_t *engine_flush_group(void) {
  if (fill_k) { crc_byte(fill_ptr[fill_k]); return fill_ptr + fill_k + 1; }
  return fill_ptr;
}
#elif SAMPLE_BITS == 12
ENGINE_INLINE uint8_t *engine_flush_group(void) {
  if (fill_k) { crc_byte(fill_ptr[1]); return fill_ptr + 2; }
  return fill_ptr;
}
#else
#error "SAMPLE_BITS must be 10 or 12"
#endif

/* ---------------- interrupt side ---------------- */

#include "stimulus.h"

/* Sample-clock interrupt, after the stimulus is applied: returns 1 if the hardware layer must start
 * converting eng_adc_ch[0]. */
ENGINE_INLINE uint8_t engine_tick(STIM_T s) {
  uint32_t idx = tick_index;
  tick_index = idx + 1;
  if (cur_ch != ENGINE_NONE) { overruns++; return 0; } /* previous tick still converting */
  uint8_t h = ring_head, n = (uint8_t)((h + 1) % ENGINE_RING);
  if (n == ring_tail) { dropped_ticks++; return 0; } /* packer or link behind: a gap the host sees */
  TickSlot *t = &ring[h];
  t->idx = idx;
  uint8_t k = 0;
  if (eng_record_stim) t->v[k++] = (uint16_t)s;
  cur_slot = t;
  cur_ch = k;
  return 1;
}

/* Conversion result; returns the next pin to convert, or ENGINE_NONE when the tick is complete. */
ENGINE_INLINE uint8_t engine_sample(uint16_t v) {
  uint8_t c = cur_ch;
  cur_slot->v[c] = v;
  c++;
  if (c < eng_nvals) { cur_ch = c; return eng_adc_ch[c - eng_record_stim]; }
  cur_ch = ENGINE_NONE;
  ring_head = (uint8_t)((ring_head + 1) % ENGINE_RING);
  return ENGINE_NONE;
}

/* ---------------- main-loop side ---------------- */

static void engine_finish_block(void) {
  Block &b = blocks[fill];
  uint8_t *end = engine_flush_group();
  sl_put_u16(end, fill_crc);
  b.len = (uint16_t)(end + 2 - b.body);
  block_state[fill] = BLK_READY;
  ready_q[ready_tail] = fill;
  ready_tail = (uint8_t)((ready_tail + 1) % (ENGINE_NBLOCK + 1));
  fill = ENGINE_NONE;
}

/* Packs at most one tick from the ring. Returns 1 if it did something. */
static uint8_t engine_service(void) {
  uint8_t t = ring_tail;
  if (t == ring_head) return 0;
  TickSlot *slot = &ring[t];
  if (fill != ENGINE_NONE && slot->idx != fill_next_idx) engine_finish_block(); /* gap: keep blocks contiguous */
  if (fill == ENGINE_NONE) {
    uint8_t i;
    for (i = 0; i < ENGINE_NBLOCK; i++) {
      if (block_state[i] == BLK_FREE) break;
    }
    if (i == ENGINE_NBLOCK) return 0; /* all blocks queued or on the wire: the ring absorbs the wait */
    block_state[i] = BLK_FILLING;
    fill = i;
    uint8_t *h = blocks[i].body;
    h[0] = SL_T_DATA;
    h[1] = eng_data_seq++;
    sl_put_u32(h + 2, slot->idx);
    fill_crc = 0xffff;
    for (uint8_t k = 0; k < BLOCK_HDR; k++) crc_byte(h[k]);
    fill_ptr = h + BLOCK_HDR;
    fill_k = 0;
    fill_ticks = 0;
  }
  {
    /* the packing loop works on locals: this runs once per tick and is most of the main loop's work */
    uint8_t *p = fill_ptr, k = fill_k, n = eng_nvals;
    uint16_t crc = fill_crc;
    const uint16_t *v = slot->v;
    do {
      uint16_t x = *v++;
#if SAMPLE_BITS == 10
      switch (k) {
        case 0: p[0] = (uint8_t)x; p[1] = (uint8_t)(x >> 8); crc = ENGINE_CRC(crc, p[0]); k = 1; break;
        case 1: p[1] |= (uint8_t)(x << 2); p[2] = (uint8_t)(x >> 6); crc = ENGINE_CRC(crc, p[1]); k = 2; break;
        case 2: p[2] |= (uint8_t)(x << 4); p[3] = (uint8_t)(x >> 4); crc = ENGINE_CRC(crc, p[2]); k = 3; break;
        default: p[3] |= (uint8_t)(x << 6); p[4] = (uint8_t)(x >> 2); crc = ENGINE_CRC(crc, p[3]); crc = ENGINE_CRC(crc, p[4]);
          p += 5; k = 0; break;
      }
#else
      if (k == 0) { p[0] = (uint8_t)x; p[1] = (uint8_t)((x >> 8) & 0x0f); crc = ENGINE_CRC(crc, p[0]); k = 1; }
      else { p[1] |= (uint8_t)(x << 4); p[2] = (uint8_t)(x >> 4); crc = ENGINE_CRC(crc, p[1]); crc = ENGINE_CRC(crc, p[2]); p += 3; k = 0; }
#endif
    } while (--n);
    fill_ptr = p;
    fill_k = k;
    fill_crc = crc;
  }
  fill_next_idx = slot->idx + 1;
  ring_tail = (uint8_t)((t + 1) % ENGINE_RING);
  if (++fill_ticks >= eng_ticks_per_block) engine_finish_block();
  return 1;
}

/* After the sample clock stopped: pack what is left and close the partial block. */
static void engine_drain(void) {
  while (cur_ch != ENGINE_NONE) {
  }
  while (engine_service()) {
  }
  if (fill != ENGINE_NONE) {
    if (fill_ticks) engine_finish_block();
    else { block_state[fill] = BLK_FREE; fill = ENGINE_NONE; }
  }
}

static void engine_reset(void) {
  for (uint8_t i = 0; i < ENGINE_NBLOCK; i++) {
    if (block_state[i] != BLK_SENDING) block_state[i] = BLK_FREE;
  }
  ready_head = ready_tail = 0;
  fill = ENGINE_NONE;
  ring_head = ring_tail = 0;
  cur_ch = ENGINE_NONE;
  tick_index = 0;
  dropped_ticks = 0;
  overruns = 0;
  eng_data_seq = 0;
}
