/*
 * The sampling engine shared by every board family: block buffers that the sample-clock interrupt fills
 * with packed samples (CRC computed as bytes complete, so a finished block goes on the wire without a
 * second pass), the stimulus table and the pulse train. Included once, by spikeloop_daq.cpp; the board's
 * hardware layer (hal_*.h) calls engine_tick() from its timer interrupt and engine_sample() for every
 * conversion result.
 */
#pragma once
#include <stdint.h>
#include "sl_protocol.h"

#ifndef ENGINE_NBLOCK
#define ENGINE_NBLOCK 4
#endif
#define ENGINE_NONE 0xff
#define ENGINE_INLINE static inline __attribute__((always_inline))
/* DATA body: type, seq, first index u32, packed samples, crc u16 */
#define BLOCK_HDR 6
#define BLOCK_BYTES (BLOCK_HDR + ENGINE_MAX_PACKED + 2)

enum { BLK_FREE = 0, BLK_FILLING = 1, BLK_READY = 2, BLK_SENDING = 3 };

struct Block {
  uint8_t body[BLOCK_BYTES];
  uint16_t len; /* body length once ready */
};

static Block blocks[ENGINE_NBLOCK];
static volatile uint8_t block_state[ENGINE_NBLOCK];
static volatile uint8_t ready_q[ENGINE_NBLOCK + 1];
static volatile uint8_t ready_head, ready_tail; /* ISR writes tail, main loop reads head */

/* configuration (written only while stopped) */
static uint8_t eng_nadc;              /* ADC channels per tick */
static uint8_t eng_adc_ch[8];         /* their pins, ascending */
static uint8_t eng_record_stim;       /* stimulus value recorded as the first value of each tick */
static uint8_t eng_ticks_per_block;
static uint8_t eng_data_seq;

/* filling state (ISR only) */
static uint8_t fill = ENGINE_NONE;
static uint8_t *fill_ptr;
static uint8_t fill_k;     /* position in the 4-values-in-5-bytes group (10-bit) or 2-in-3 (12-bit) */
static uint8_t fill_ticks;
static uint16_t fill_crc;

static volatile uint32_t tick_index;
static volatile uint8_t cur_ch = ENGINE_NONE; /* ADC channel position within the current tick */
static volatile uint16_t dropped_ticks, overruns;

/* stimulus */
static STIM_T wave[ENGINE_MAX_WAVE];
static uint16_t wave_len, wave_pos;
static uint8_t wave_loop;
static volatile uint8_t running;
static uint32_t pulse_delay, pulse_period, pulse_width, pulse_count, pulse_phase, pulse_done;

#if defined(__AVR__)
#include <util/crc16.h>
/* inline in the interrupt: a call would make the ISR save every call-clobbered register */
ENGINE_INLINE void crc_byte(uint8_t b) { fill_crc = _crc_xmodem_update(fill_crc, b); }
#else
ENGINE_INLINE void crc_byte(uint8_t b) { fill_crc = sl_crc16_update(fill_crc, b); }
#endif

#if SAMPLE_BITS == 10
/* 4 samples in 5 bytes, LSB first; each byte's CRC is taken the moment it is complete. */
ENGINE_INLINE void engine_push(uint16_t v) {
  uint8_t *p = fill_ptr;
  switch (fill_k) {
    case 0: p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); crc_byte(p[0]); fill_k = 1; break;
    case 1: p[1] |= (uint8_t)(v << 2); p[2] = (uint8_t)(v >> 6); crc_byte(p[1]); fill_k = 2; break;
    case 2: p[2] |= (uint8_t)(v << 4); p[3] = (uint8_t)(v >> 4); crc_byte(p[2]); fill_k = 3; break;
    default: p[3] |= (uint8_t)(v << 6); p[4] = (uint8_t)(v >> 2); crc_byte(p[3]); crc_byte(p[4]);
      fill_ptr = p + 5; fill_k = 0; break;
  }
}
/* bytes of a partial group that are started but not yet in the CRC */
ENGINE_INLINE uint8_t *engine_flush_group(void) {
  if (fill_k) { crc_byte(fill_ptr[fill_k]); return fill_ptr + fill_k + 1; }
  return fill_ptr;
}
#elif SAMPLE_BITS == 12
/* 2 samples in 3 bytes, LSB first */
ENGINE_INLINE void engine_push(uint16_t v) {
  uint8_t *p = fill_ptr;
  if (fill_k == 0) { p[0] = (uint8_t)v; p[1] = (uint8_t)((v >> 8) & 0x0f); crc_byte(p[0]); fill_k = 1; }
  else { p[1] |= (uint8_t)(v << 4); p[2] = (uint8_t)(v >> 4); crc_byte(p[1]); crc_byte(p[2]); fill_ptr = p + 3; fill_k = 0; }
}
ENGINE_INLINE uint8_t *engine_flush_group(void) {
  if (fill_k) { crc_byte(fill_ptr[1]); return fill_ptr + 2; }
  return fill_ptr;
}
#else
#error "SAMPLE_BITS must be 10 or 12"
#endif

/* Finishes the filling block (ISR context or interrupts off): CRC, length, into the ready queue. */
ENGINE_INLINE void engine_finish_block(void) {
  Block &b = blocks[fill];
  uint8_t *end = engine_flush_group();
  sl_put_u16(end, fill_crc);
  b.len = (uint16_t)(end + 2 - b.body);
  block_state[fill] = BLK_READY;
  ready_q[ready_tail] = fill;
  ready_tail = (uint8_t)((ready_tail + 1) % (ENGINE_NBLOCK + 1));
  fill = ENGINE_NONE;
}

/* Sample clock interrupt: returns the stimulus value to apply now, and whether to start conversions. */
ENGINE_INLINE STIM_T engine_stimulus(void) {
  STIM_T s = 0;
  if (wave_len) {
    s = wave[wave_pos];
    if (++wave_pos >= wave_len) {
      wave_pos = 0;
      if (!wave_loop) wave_len = 0; /* played once: zero from the next tick on */
    }
  }
  return s;
}

ENGINE_INLINE uint8_t engine_pulse(void) {
  uint8_t level = 0;
  if (pulse_width) {
    if (pulse_delay) pulse_delay--;
    else if (!pulse_count || pulse_done < pulse_count) {
      level = pulse_phase < pulse_width;
      if (++pulse_phase >= pulse_period) { pulse_phase = 0; pulse_done++; }
    }
  }
  return level;
}

/* Called once per sample tick with the stimulus value just applied; returns 1 if the hardware layer must
 * start converting eng_adc_ch[0]. */
ENGINE_INLINE uint8_t engine_tick(STIM_T s) {
  uint32_t idx = tick_index++;
  if (cur_ch != ENGINE_NONE) { overruns++; return 0; } /* previous tick still converting */
  if (fill == ENGINE_NONE) {
    uint8_t i;
    for (i = 0; i < ENGINE_NBLOCK; i++) {
      if (block_state[i] == BLK_FREE) break;
    }
    if (i == ENGINE_NBLOCK) { dropped_ticks++; return 0; } /* host link too slow: a gap, recorded by index */
    block_state[i] = BLK_FILLING;
    fill = i;
    uint8_t *h = blocks[i].body;
    h[0] = SL_T_DATA;
    h[1] = eng_data_seq++;
    sl_put_u32(h + 2, idx);
    fill_crc = 0xffff;
    for (uint8_t k = 0; k < BLOCK_HDR; k++) crc_byte(h[k]);
    fill_ptr = h + BLOCK_HDR;
    fill_k = 0;
    fill_ticks = 0;
  }
  if (eng_record_stim) engine_push((uint16_t)s);
  cur_ch = 0;
  return 1;
}

/* Conversion result for position cur_ch; returns the next pin to convert, or ENGINE_NONE at tick end. */
ENGINE_INLINE uint8_t engine_sample(uint16_t v) {
  engine_push(v);
  uint8_t c = (uint8_t)(cur_ch + 1);
  if (c < eng_nadc) { cur_ch = c; return eng_adc_ch[c]; }
  cur_ch = ENGINE_NONE;
  if (++fill_ticks >= eng_ticks_per_block) engine_finish_block();
  return ENGINE_NONE;
}
