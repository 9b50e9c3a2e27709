/*
 * The sampling engine shared by every board family.
 *
 * Interrupt side: the sample-clock interrupt applies the stimulus value and starts the first conversion
 * (engine_tick), each conversion result is packed straight into the DATA frame body being filled as it
 * arrives (engine_sample; 10-bit: 4 samples in 5 bytes, 12-bit: 2 in 3), the stimulus echo by engine_tick.
 * No per-tick copy, no per-tick main-loop work. A block that holds its ticks is closed and queued; a tick that
 * finds no free block is dropped whole and counted; its index is still consumed, so the host sees the gap.
 *
 * Main-loop side (engine_service): seals each closed block in place (CRC by table, COBS, delimiter:
 * sl_frame_seal, two tight passes once per frame) and marks it ready; the transmit interrupt then sends it
 * byte by byte, untouched. A block always holds consecutive indices: a dropped tick ends it early.
 * Budget and measured cycle counts: docs/daq/overview.md.
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
/* in wire form: COBS code byte + body + delimiter */
#define BLOCK_WIRE (BLOCK_BYTES + 2)

enum { BLK_FREE = 0, BLK_FILLING = 1, BLK_CLOSED = 2, BLK_READY = 3, BLK_SENDING = 4 };

struct Block {
  uint8_t wire[BLOCK_WIRE]; /* body at offset 1, sealed in place */
  uint16_t len;             /* body length once closed, wire length (delimiter included) once ready */
};

static Block blocks[ENGINE_NBLOCK];
static volatile uint8_t block_state[ENGINE_NBLOCK];
static uint8_t ready_q[ENGINE_NBLOCK + 1]; /* closed blocks in order: sealed by the main loop, then sent */
static volatile uint8_t ready_head, ready_tail;
static uint8_t seal_head;                  /* next block of ready_q to seal */

/* configuration (written only while stopped) */
static uint8_t eng_nadc;       /* ADC channels per tick */
static uint8_t eng_adc_ch[8];  /* their pins, ascending */
static uint8_t eng_record_stim;
static uint8_t eng_nvals;      /* values per tick */
static uint8_t eng_ticks_per_block;
static uint8_t eng_data_seq;

/* interrupt side */
static volatile uint8_t cur_ch = ENGINE_NONE; /* input being converted (position in eng_adc_ch) */
static volatile uint32_t tick_index;
static volatile uint16_t dropped_ticks, overruns;
static uint8_t fill = ENGINE_NONE; /* block being filled */
static uint8_t *fill_p;            /* next byte of its body */
static uint8_t fill_acc;           /* the started, not yet complete byte of a packing group */
static uint8_t fill_k;             /* position in the group (10-bit: 0..3; 12-bit: 0..1) */
static uint8_t fill_left;          /* ticks still to come in this block */
static uint8_t fill_break;         /* a tick was lost: the next one starts a new block */

/* stimulus */
static STIM_T wave[ENGINE_MAX_WAVE];
static uint16_t wave_len, wave_pos;
static uint8_t wave_loop;
static volatile uint8_t running;
static uint16_t pulse_delay, pulse_period, pulse_width, pulse_count, pulse_phase, pulse_done;

#if SAMPLE_BITS != 10 && SAMPLE_BITS != 12
#error "SAMPLE_BITS must be 10 or 12"
#endif

/* ---------------- interrupt side ---------------- */

/* One value into the body being filled (interrupt context). */
ENGINE_INLINE void engine_put(uint16_t x) {
  uint8_t *p = fill_p;
#if SAMPLE_BITS == 10
  switch (fill_k) {
    case 0: *p++ = (uint8_t)x; fill_acc = (uint8_t)(x >> 8); fill_k = 1; break;
    case 1: *p++ = (uint8_t)(fill_acc | (uint8_t)(x << 2)); fill_acc = (uint8_t)(x >> 6); fill_k = 2; break;
    case 2: *p++ = (uint8_t)(fill_acc | (uint8_t)(x << 4)); fill_acc = (uint8_t)(x >> 4); fill_k = 3; break;
    default: p[0] = (uint8_t)(fill_acc | (uint8_t)(x << 6)); p[1] = (uint8_t)(x >> 2); p += 2; fill_k = 0; break;
  }
#else
  if (fill_k == 0) { *p++ = (uint8_t)x; fill_acc = (uint8_t)((x >> 8) & 0x0f); fill_k = 1; }
  else { p[0] = (uint8_t)(fill_acc | (uint8_t)(x << 4)); p[1] = (uint8_t)(x >> 4); p += 2; fill_k = 0; }
#endif
  fill_p = p;
}

/* Ends the block being filled and queues it for sealing (interrupt context, or interrupts off). Inlined: a
 * call from an interrupt handler would make it save every call-clobbered register on every tick. */
ENGINE_INLINE void engine_close_block(void) {
  uint8_t i = fill;
  Block &b = blocks[i];
  uint8_t *p = fill_p;
  if (fill_k) *p++ = fill_acc; /* a partial group's started byte */
  b.len = (uint16_t)(p - (b.wire + 1));
  block_state[i] = BLK_CLOSED;
  uint8_t t = ready_tail;
  ready_q[t] = i;
  ready_tail = (uint8_t)(t == ENGINE_NBLOCK ? 0 : t + 1);
  fill = ENGINE_NONE;
  hal_wake = 1;
}

/* Starts a block at tick idx; returns 0 if every block is still queued or on the wire. */
ENGINE_INLINE uint8_t engine_open_block(uint32_t idx) {
  uint8_t i;
  for (i = 0; i < ENGINE_NBLOCK; i++) {
    if (block_state[i] == BLK_FREE) break;
  }
  if (i == ENGINE_NBLOCK) return 0;
  block_state[i] = BLK_FILLING;
  fill = i;
  uint8_t *h = blocks[i].wire + 1;
  h[0] = SL_T_DATA;
  h[1] = eng_data_seq++;
  sl_put_u32(h + 2, idx);
  fill_p = h + BLOCK_HDR;
  fill_k = 0;
  fill_left = eng_ticks_per_block;
  return 1;
}

/* Stimulus value for this tick (table on the sample clock; zero after a one-shot table ends). */
ENGINE_INLINE STIM_T engine_stimulus(void) {
  STIM_T s = 0;
  if (wave_len) {
    s = wave[wave_pos];
    if (++wave_pos >= wave_len) {
      wave_pos = 0;
      if (!wave_loop) wave_len = 0;
    }
  }
  return s;
}

/* Pulse-train level for this tick (all times in ticks). */
ENGINE_INLINE uint8_t engine_pulse(void) {
  if (!pulse_width) return 0;
  if (pulse_delay) { pulse_delay--; return 0; }
  if (pulse_count && pulse_done >= pulse_count) return 0;
  uint8_t level = pulse_phase < pulse_width;
  if (++pulse_phase >= pulse_period) { pulse_phase = 0; pulse_done++; }
  return level;
}

/* Sample-clock interrupt, after the stimulus is applied: returns 1 if the hardware layer must start
 * converting eng_adc_ch[0]. */
ENGINE_INLINE uint8_t engine_tick(STIM_T s) {
  uint32_t idx = tick_index;
  tick_index = idx + 1;
  if (cur_ch != ENGINE_NONE) { overruns++; fill_break = 1; return 0; } /* previous tick still converting */
  if (fill != ENGINE_NONE && (fill_left == 0 || fill_break)) engine_close_block(); /* full, or a tick lost */
  fill_break = 0;
  if (fill == ENGINE_NONE && !engine_open_block(idx)) { dropped_ticks++; fill_break = 1; return 0; } /* link behind */
  if (eng_record_stim) engine_put((uint16_t)s);
  cur_ch = 0;
  return 1;
}

/* Conversion result; returns the next pin to convert, or ENGINE_NONE when the tick is complete. */
ENGINE_INLINE uint8_t engine_sample(uint16_t v) {
  engine_put(v);
  uint8_t c = (uint8_t)(cur_ch + 1);
  if (c < eng_nadc) { cur_ch = c; return eng_adc_ch[c]; }
  cur_ch = ENGINE_NONE;
  fill_left--; /* the next tick closes a full block (no call from this handler) */
  return ENGINE_NONE;
}

/* ---------------- main-loop side ---------------- */

/* Seals the closed blocks, in order. Returns 1 if it sealed any. */
static uint8_t engine_seal(void) {
  uint8_t did = 0;
  while (seal_head != ready_tail) {
    uint8_t i = ready_q[seal_head];
    blocks[i].len = sl_frame_seal(blocks[i].wire, blocks[i].len);
    block_state[i] = BLK_READY;
    seal_head = (uint8_t)(seal_head == ENGINE_NBLOCK ? 0 : seal_head + 1);
    did = 1;
  }
  return did;
}

/* The cheap check first: the main loop calls this on every wake-up. */
ENGINE_INLINE uint8_t engine_service(void) { return seal_head != ready_tail ? engine_seal() : 0; }
/* A block sealed and waiting for the transmitter. */
ENGINE_INLINE uint8_t engine_ready(void) { return ready_head != seal_head; }

/* After the sample clock stopped: close the partial block and seal everything. */
static void engine_drain(void) {
  while (cur_ch != ENGINE_NONE) {
  }
  noInterrupts();
  if (fill != ENGINE_NONE) {
    if (fill_left != eng_ticks_per_block) engine_close_block(); /* full or partial */
    else { block_state[fill] = BLK_FREE; fill = ENGINE_NONE; }
  }
  interrupts();
  engine_service();
}

static void engine_reset(void) {
  for (uint8_t i = 0; i < ENGINE_NBLOCK; i++) {
    if (block_state[i] != BLK_SENDING) block_state[i] = BLK_FREE;
  }
  ready_head = ready_tail = seal_head = 0;
  fill = ENGINE_NONE;
  fill_break = 0;
  cur_ch = ENGINE_NONE;
  tick_index = 0;
  dropped_ticks = 0;
  overruns = 0;
  eng_data_seq = 0;
}
