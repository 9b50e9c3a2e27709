/*
 * The sampling engine shared by every board family.
 *
 * Interrupt side: the sample-clock interrupt applies the stimulus value and starts the conversions of the
 * tick; the conversion results land in a slot of a small ring of complete raw ticks (on AVR the tick's last
 * conversion is read by the next sample interrupt, which publishes the slot). A tick that finds the ring full
 * is dropped whole and counted; its index is still consumed, so the host sees the gap.
 *
 * Main-loop side (engine_service): packs the ring's ticks straight into the DATA frame body being filled
 * (engine_pack; 10-bit: 4 samples in 5 bytes, 12-bit: 2 in 3), seals each full block in place (CRC by
 * table, COBS, delimiter: sl_frame_seal, two tight passes once per frame) and marks it ready; the transmit
 * interrupt then sends it byte by byte, untouched. Everything here runs with interrupts on, so the
 * transmitter's interrupt never waits behind packing. A block always holds consecutive indices: a dropped tick ends it early.
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
/* ticks the ring collects before it wakes the packer: one call packs several (the call and its state loads
 * cost about as much as packing a tick) */
#ifndef ENGINE_BATCH
#define ENGINE_BATCH 8
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
static volatile uint8_t seal_head;         /* next block of ready_q to seal */

/* configuration (written only while stopped) */
static uint8_t eng_nadc;       /* ADC channels per tick */
static uint8_t eng_adc_ch[8];  /* their pins, ascending */
static uint8_t eng_record_stim;
static uint8_t eng_nvals;      /* values per tick */
static uint8_t eng_ticks_per_block;
static uint8_t eng_data_seq;

/* interrupt side: complete raw ticks for the packer */
struct TickSlot {
  uint16_t v[ENGINE_MAXV]; /* the tick's values in wire order: stimulus echo (if recorded), then the inputs */
  uint8_t gap;             /* ticks were lost just before this one */
  uint32_t idx;
};
static TickSlot ring[ENGINE_RING];
static volatile uint8_t ring_head, ring_tail; /* interrupt publishes head, main loop consumes tail */
static volatile uint8_t cur_ch = ENGINE_NONE; /* input being converted (position in eng_adc_ch) */
static volatile uint32_t tick_index;
static volatile uint16_t dropped_ticks, overruns;
/* packer (main loop) */
static uint8_t fill = ENGINE_NONE; /* block being filled */
static uint8_t *fill_p;            /* next byte of its body */
static uint16_t fill_stage[4];     /* values of the packing group not yet written (10-bit: 4 make 5 bytes) */
static uint8_t fill_k;             /* how many */
static uint8_t fill_left;          /* ticks still to come in this block */

static volatile uint8_t running;

#if SAMPLE_BITS != 10 && SAMPLE_BITS != 12
#error "SAMPLE_BITS must be 10 or 12"
#endif

/* ---------------- interrupt side ---------------- */

/* A full packing group into the body: 10-bit: 4 values in 5 bytes, 12-bit: 2 in 3 (LSB first). */
#if SAMPLE_BITS == 10
#define ENGINE_GROUP 4
ENGINE_INLINE uint8_t *engine_group(uint8_t *p, const uint16_t *g) {
  uint16_t a = g[0], b = g[1], c = g[2], d = g[3];
  p[0] = (uint8_t)a;
  p[1] = (uint8_t)((uint8_t)(a >> 8) | (uint8_t)((uint8_t)b << 2));
  p[2] = (uint8_t)((uint8_t)(b >> 6) | (uint8_t)((uint8_t)c << 4));
  p[3] = (uint8_t)((uint8_t)(c >> 4) | (uint8_t)((uint8_t)d << 6));
  p[4] = (uint8_t)(d >> 2);
  return p + 5;
}
#else
#define ENGINE_GROUP 2
ENGINE_INLINE uint8_t *engine_group(uint8_t *p, const uint16_t *g) {
  uint16_t a = g[0], b = g[1];
  p[0] = (uint8_t)a;
  p[1] = (uint8_t)((uint8_t)((a >> 8) & 0x0f) | (uint8_t)((uint8_t)b << 4));
  p[2] = (uint8_t)(b >> 4);
  return p + 3;
}
#endif

/* Ends the block being filled and queues it for sealing (interrupt context, or interrupts off). Inlined: a
 * call from an interrupt handler would make it save every call-clobbered register on every tick. */
ENGINE_INLINE void engine_close_block(void) {
  uint8_t i = fill;
  Block &b = blocks[i];
  uint8_t *p = fill_p;
  if (fill_k) { /* a partial group: its bytes up to the last value's last bit (zero-padded) */
    uint8_t k = fill_k, bytes = (uint8_t)((k * SAMPLE_BITS + 7) / 8), tmp[5];
    for (uint8_t j = k; j < ENGINE_GROUP; j++) fill_stage[j] = 0;
    engine_group(tmp, fill_stage);
    for (uint8_t j = 0; j < bytes; j++) *p++ = tmp[j];
    fill_k = 0;
  }
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

#include "stimulus.h"

/* ---------------- main-loop side ---------------- */

/* Seals the oldest closed block, a step at a time: the CRC, then COBS in place, at most ENGINE_SEAL_STEP bytes
 * per call, so the packer gets a turn between steps (with the interrupts taking most of the CPU at full rate, a
 * whole frame at once would hold it off for longer than the ring holds). Same result as sl_frame_seal. */
#ifndef ENGINE_SEAL_STEP
#define ENGINE_SEAL_STEP 32
#endif
static uint8_t seal_pos, seal_phase; /* phase 0: CRC over body[0..seal_pos); 1: COBS over body[0..seal_pos) */
static uint16_t seal_crc = 0xffff;
static uint8_t *seal_code;
static void engine_seal(void) {
  uint8_t i = ready_q[seal_head];
  Block &b = blocks[i];
  uint8_t n = (uint8_t)b.len, pos = seal_pos, step;
  uint8_t *body = b.wire + 1;
  if (seal_phase == 0) {
    step = (uint8_t)(n - pos);
    if (step > ENGINE_SEAL_STEP) step = ENGINE_SEAL_STEP;
    seal_crc = sl_crc16_run(seal_crc, body + pos, step);
    pos = (uint8_t)(pos + step);
    if (pos < n) { seal_pos = pos; return; }
    body[n] = (uint8_t)seal_crc; /* the CRC is part of what COBS encodes */
    body[n + 1] = (uint8_t)(seal_crc >> 8);
    seal_phase = 1;
    seal_pos = 0;
    seal_code = b.wire;
    return;
  }
  uint8_t total = (uint8_t)(n + 2), end = (uint8_t)(pos + ENGINE_SEAL_STEP);
  if (end > total || end < pos) end = total;
  uint8_t *q = body + pos, *qend = body + end, *code = seal_code;
  for (; q != qend; q++) {
    if (!*q) {
      *code = (uint8_t)(q - code);
      code = q;
    }
  }
  seal_code = code;
  if (end < total) { seal_pos = end; return; }
  *code = (uint8_t)(qend - code);
  *qend = 0;
  b.len = (uint16_t)(qend + 1 - b.wire);
  seal_pos = 0;
  seal_phase = 0;
  seal_crc = 0xffff;
  block_state[i] = BLK_READY;
  seal_head = (uint8_t)(seal_head == ENGINE_NBLOCK ? 0 : seal_head + 1);
}

/* Packs the ticks waiting in the ring into the block being filled, opening one if needed; a tick after a gap
 * closes the block first, so blocks hold consecutive indices. A tick that finds no free block is dropped
 * and counted. State lives in locals across the ticks of one call. */
static void engine_pack(void) {
  uint8_t t = ring_tail, k = fill_k, nv = eng_nvals;
  uint8_t *p = fill_p;
  /* the staged values of the open group live in registers across the batch */
  uint16_t s0 = fill_stage[0], s1 = fill_stage[1];
#if ENGINE_GROUP == 4
  uint16_t s2 = fill_stage[2];
#endif
  const TickSlot *slot = &ring[t];
  while (t != ring_head) {
    if (slot->gap && fill != ENGINE_NONE) {
      fill_p = p; fill_k = k; fill_stage[0] = s0; fill_stage[1] = s1;
#if ENGINE_GROUP == 4
      fill_stage[2] = s2;
#endif
      engine_close_block();
    }
    if (fill == ENGINE_NONE) {
      if (!engine_open_block(slot->idx)) { /* link behind: every block queued or on the wire */
        noInterrupts();
        dropped_ticks++;
        interrupts();
        t = (uint8_t)((t + 1) & (ENGINE_RING - 1));
        ring_tail = t;
        slot = &ring[t];
        continue; /* the next tick opens a block of its own */
      }
      p = fill_p;
      k = 0;
    }
    const uint16_t *v = slot->v;
    uint8_t n = nv;
    do {
      uint16_t x = *v++;
#if ENGINE_GROUP == 4
      if (k == 0) { s0 = x; k = 1; }
      else if (k == 1) { s1 = x; k = 2; }
      else if (k == 2) { s2 = x; k = 3; }
      else {
        p[0] = (uint8_t)s0;
        p[1] = (uint8_t)((uint8_t)(s0 >> 8) | (uint8_t)((uint8_t)s1 << 2));
        p[2] = (uint8_t)((uint8_t)(s1 >> 6) | (uint8_t)((uint8_t)s2 << 4));
        p[3] = (uint8_t)((uint8_t)(s2 >> 4) | (uint8_t)((uint8_t)x << 6));
        p[4] = (uint8_t)(x >> 2);
        p += 5;
        k = 0;
      }
#else
      if (k == 0) { s0 = x; k = 1; }
      else {
        p[0] = (uint8_t)s0;
        p[1] = (uint8_t)((uint8_t)((s0 >> 8) & 0x0f) | (uint8_t)((uint8_t)x << 4));
        p[2] = (uint8_t)(x >> 4);
        p += 3;
        k = 0;
      }
#endif
    } while (--n);
    t = (uint8_t)((t + 1) & (ENGINE_RING - 1));
    ring_tail = t;
    slot = t ? slot + 1 : ring;
    if (--fill_left == 0) {
      fill_p = p; fill_k = k; fill_stage[0] = s0; fill_stage[1] = s1;
#if ENGINE_GROUP == 4
      fill_stage[2] = s2;
#endif
      engine_close_block();
    }
  }
  fill_p = p;
  fill_k = k;
  fill_stage[0] = s0;
  fill_stage[1] = s1;
#if ENGINE_GROUP == 4
  fill_stage[2] = s2;
#endif
}

/* The cheap checks first: the main loop calls this on every wake-up. */
ENGINE_INLINE uint8_t engine_service(void) {
  uint8_t did = 0;
  if (ring_tail != ring_head) { engine_pack(); did = 1; }
  if (seal_head != ready_tail) { engine_seal(); did = 1; } /* one step */
  return did;
}
/* The packer has a batch waiting (the main loop sleeps on fewer; it packs them at its next wake-up anyway). */
ENGINE_INLINE uint8_t engine_busy(void) { return (uint8_t)((ring_head - ring_tail) & (ENGINE_RING - 1)) >= ENGINE_BATCH; }
/* A block sealed and waiting for the transmitter. */
ENGINE_INLINE uint8_t engine_ready(void) { return ready_head != seal_head; }

/* After the sample clock stopped: the tick still converting goes to the ring. */
static void engine_drain(void) {
  while (cur_ch != ENGINE_NONE) {
  }
  noInterrupts();
  hal_adc_finish(); /* the tick still in the conversion pipeline */
  interrupts();
}

/* The packer can take a tick now (a block is being filled or one is free). */
static uint8_t engine_can_pack(void) {
  if (fill != ENGINE_NONE) return 1;
  for (uint8_t i = 0; i < ENGINE_NBLOCK; i++) {
    if (block_state[i] == BLK_FREE) return 1;
  }
  return 0;
}

/* After the last tick is packed: close the partial block. */
static void engine_close_partial(void) {
  if (fill != ENGINE_NONE) {
    if (fill_left != eng_ticks_per_block) engine_close_block();
    else { block_state[fill] = BLK_FREE; fill = ENGINE_NONE; }
  }
}

static void engine_reset(void) {
  for (uint8_t i = 0; i < ENGINE_NBLOCK; i++) {
    if (block_state[i] != BLK_SENDING) block_state[i] = BLK_FREE;
  }
  ready_head = ready_tail = seal_head = 0;
  seal_pos = 0;
  seal_phase = 0;
  seal_crc = 0xffff;
  fill = ENGINE_NONE;
  ring_head = ring_tail = 0;
  hal_ring_reset();
  cur_ch = ENGINE_NONE;
  tick_index = 0;
  dropped_ticks = 0;
  overruns = 0;
  eng_data_seq = 0;
}
