/*
 * Stimulus program, played one value per sample tick (PROTOCOL.md, "Stimulus programs"): tables in one
 * table memory (8-bit codes, or 16-bit little-endian codes for a 12-bit output), and a segment list; segment
 * i plays `samples` values cycling through table entries [start, start + len). After the last segment the
 * output is 0, or the program starts over (START flag 0). A table uploaded without segments plays as one
 * segment of its own length (protocol 1.0 behaviour).
 *
 * Included by daq_engine.h; the hardware layer defines STIM_T, ENGINE_WAVE_BYTES, ENGINE_MAX_SEGMENTS and
 * SEG_IDX_T (an integer wide enough for any table index).
 */
#pragma once

struct StimSegment {
  SEG_IDX_T start;
  SEG_IDX_T last; /* len - 1 */
  uint32_t samples;
};

static uint8_t wave[ENGINE_WAVE_BYTES];
static uint8_t stim_wide;        /* entries are 16-bit (12-bit DAC codes) */
static uint16_t wave_table_len;  /* entries uploaded */
static StimSegment segs[ENGINE_MAX_SEGMENTS];
static uint8_t seg_count;        /* segments uploaded */

/* playback (interrupt side): the current segment as pointers into table memory, its sample count split in
 * two 16-bit halves (lo = 0 with hi > 0 stands for 65,536), so the per-tick path is a load and two compares */
static uint8_t seg_i, seg_n, prog_loop;
static const uint8_t *stim_p, *stim_tbl, *stim_end;
static uint16_t seg_lo, seg_hi;

static inline uint16_t stim_capacity(void) { return (uint16_t)(stim_wide ? ENGINE_WAVE_BYTES / 2 : ENGINE_WAVE_BYTES); }

static void stim_load_segment(void) {
  const StimSegment *g = &segs[seg_i];
  uint8_t w = stim_wide ? 2 : 1;
  stim_tbl = wave + (uint16_t)g->start * w;
  stim_end = stim_tbl + ((uint16_t)g->last + 1u) * w;
  stim_p = stim_tbl;
  seg_lo = (uint16_t)g->samples;
  seg_hi = (uint16_t)(g->samples >> 16);
  if (seg_lo == 0) seg_hi--; /* lo 0 = 65,536 */
}

/* The current segment is done: the next one, the program's start again, or the end (output 0). */
static void __attribute__((noinline)) stim_segment_end(void) {
  if (++seg_i >= seg_n) {
    seg_i = 0;
    if (!prog_loop) { seg_n = 0; return; }
  }
  stim_load_segment();
}

/* Next stimulus value (one per tick). */
ENGINE_INLINE STIM_T engine_stimulus(void) {
  if (!seg_n) return 0;
  const uint8_t *q = stim_p;
  STIM_T s;
  if (stim_wide) { s = (STIM_T)(q[0] | ((uint16_t)q[1] << 8)); q += 2; }
  else s = *q++;
  stim_p = q == stim_end ? stim_tbl : q;
  if (--seg_lo == 0) {
    if (seg_hi == 0) stim_segment_end();
    else seg_hi--;
  }
  return s;
}

/* Before START (interrupts off): 0 if the program is playable, else the index + 1 of the first segment that
 * reaches past the uploaded table. */
static uint8_t stim_begin(uint8_t loop) {
  seg_i = 0;
  prog_loop = loop;
  seg_n = 0;
  if (seg_count) {
    for (uint8_t i = 0; i < seg_count; i++) {
      if ((uint16_t)segs[i].start + segs[i].last >= wave_table_len) return (uint8_t)(i + 1);
    }
    seg_n = seg_count;
  } else if (wave_table_len) {
    segs[0].start = 0;
    segs[0].last = (SEG_IDX_T)(wave_table_len - 1);
    segs[0].samples = wave_table_len;
    seg_n = 1;
  }
  if (seg_n) stim_load_segment();
  return 0;
}

static void stim_clear(void) {
  seg_n = 0;
  seg_count = 0;
  wave_table_len = 0;
}
