/*
 * spikeloop DAQ firmware: samples up to 6 (AVR) analog inputs on a hardware sample clock, plays a stimulus
 * program (tables + segments, stimulus.h) on the same clock through PWM or an I2C DAC, makes a pulse train with
 * a hardware output-compare timer, and streams packed samples to the host in COBS/CRC frames.
 * The wire protocol is specified in ../PROTOCOL.md; the hardware layer per board family is hal_*.h.
 *
 * Safety: outputs are zero after reset and on STOP; if no valid host frame arrives for HOST_TIMEOUT_MS
 * while a run is active, acquisition stops, every output goes to zero and an ERROR(WATCHDOG) frame is sent.
 */
#include <Arduino.h>
#include "sl_protocol.h"

#if defined(__AVR__)
#include "hal_avr.h"
#include "daq_engine.h"
#include "hal_avr_isr.h"
#elif defined(__IMXRT1062__)
#include "hal_teensy4.h"
#include "daq_engine.h"
#include "hal_teensy4_isr.h"
#else
#error "spikeloop firmware: unsupported board (AVR ATmega328P/2560 or Teensy 4.x)"
#endif

#define FW_MAJOR 0
#define FW_MINOR 2
#define FW_PATCH 0
/* The host sends a heartbeat every 50 ms; the board gives up after 240 ms so outputs are at zero within
 * 250 ms of the last host frame even with the 1 ms millis() granularity. */
#define HOST_TIMEOUT_MS 240
/* Longest host frame body: WAVEFORM chunks of 96 bytes of codes, SEGMENTS chunks of 12 segments. */
#define RX_FRAME_CAP 104

static uint8_t rx_buf[RX_FRAME_CAP];
static sl_cobs_rx rx;
static uint8_t ctrl[56]; /* a control frame in wire form (COBS, CRC, delimiter); longest: HELLO_REPLY, 40 bytes + board name (8 on the Mega) + 6 */
static uint16_t ctrl_len;
static volatile uint8_t ctrl_pending; /* 1 queued, 2 on the wire; the buffer is free again at 0 */
static volatile uint8_t tx_block = ENGINE_NONE; /* data block on the wire */
static uint32_t last_host_ms;
static uint16_t rx_errors;
static uint8_t configured;
static uint8_t outputs_live;
static uint8_t cfg_mask, cfg_flags;
static uint8_t pulses_set;
static uint32_t pulse_us[4]; /* delay, period, width, count */
static uint32_t cfg_divider;
static uint8_t pending_error; /* error code to report once the control buffer is free */
static uint32_t pending_error_info;

static void send_ctrl(uint8_t type, uint8_t seq, const uint8_t *payload, uint8_t n) {
  ctrl[1] = type;
  ctrl[2] = seq;
  for (uint8_t i = 0; i < n; i++) ctrl[3 + i] = payload[i];
  ctrl_len = sl_frame_seal(ctrl, (uint16_t)(n + 2));
  ctrl_pending = 1;
}

static void send_ack(uint8_t type, uint8_t seq, uint8_t status, uint16_t info) {
  uint8_t p[5] = {type, seq, status, 0, 0};
  sl_put_u16(p + 3, info);
  send_ctrl(SL_T_ACK, seq, p, 5);
}

static void send_error(uint8_t code, uint8_t type, uint8_t seq, uint32_t info) {
  uint8_t p[7] = {code, type, seq};
  sl_put_u32(p + 3, info);
  send_ctrl(SL_T_ERROR, seq, p, 7);
}

/* Board -> host: control frames first, then data blocks in order. Every frame is already in wire form. The
 * frame just sent is done with (its block freed); returns the next one (length in *len) or 0. Runs in the
 * transmit interrupt at the end of each frame, and from the main loop with interrupts off. */
static const uint8_t *tx_next(uint16_t *len) {
  if (tx_block != ENGINE_NONE) { block_state[tx_block] = BLK_FREE; tx_block = ENGINE_NONE; }
  if (ctrl_pending == 2) ctrl_pending = 0;
  if (ctrl_pending) {
    ctrl_pending = 2;
    *len = ctrl_len;
    return ctrl;
  }
  if (engine_ready()) {
    uint8_t i = ready_q[ready_head];
    ready_head = (uint8_t)(ready_head == ENGINE_NBLOCK ? 0 : ready_head + 1);
    block_state[i] = BLK_SENDING;
    tx_block = i;
    *len = blocks[i].len;
    return blocks[i].wire;
  }
  return 0;
}

#ifdef HAL_TX_CHAINED
/* the transmit interrupt after a frame's delimiter: chain the next frame, or stop and tell the main loop */
extern "C" void hal_tx_end(void) {
  uint16_t len;
  const uint8_t *f = tx_next(&len);
  if (f) hal_tx_ptr = f; /* the interrupt stays on: the next byte goes out in the next byte slot */
  else hal_tx_stop();
}
#endif

/* Starts the transmitter if it is idle and something is waiting. */
static void tx_service(void) {
  if (hal_tx_busy()) return;
  noInterrupts();
  uint16_t len;
  const uint8_t *f = tx_next(&len);
  if (f) hal_tx_start(f, len);
  interrupts();
}

static void stop_run(void) {
  hal_sampling_stop();
  noInterrupts();
  running = 0;
  seg_n = 0;
  interrupts();
  hal_outputs_zero();
  outputs_live = 0;
  /* everything sampled so far goes out, the last block partial, before any reply to the host */
  engine_drain();
  while (ring_tail != ring_head) { /* packed as blocks come free */
    if (engine_can_pack()) engine_pack();
    engine_service();
    tx_service();
    hal_kick();
  }
  engine_close_partial();
  while (ready_head != ready_tail || tx_block != ENGINE_NONE) {
    engine_service();
    tx_service();
    hal_kick();
  }
}

/* Out of line: its reply buffer is on the stack only while it runs (the Uno's stack is ~180 bytes). */
static void __attribute__((noinline)) send_hello(uint8_t seq) {
  static const char name[] = HAL_BOARD_NAME;
  uint8_t r[40 + sizeof(name) - 1];
  r[0] = SL_PROTOCOL_VERSION;
  r[1] = FW_MAJOR;
  r[2] = FW_MINOR;
  r[3] = FW_PATCH;
  r[4] = HAL_BOARD;
  r[5] = HAL_ANALOG_INPUTS;
  r[6] = SAMPLE_BITS;
  r[7] = STIM_BITS;
  sl_put_u32(r + 8, HAL_CLOCK_HZ);
  sl_put_u32(r + 12, HAL_MAX_CONVERSIONS);
  sl_put_u32(r + 16, HAL_LINK_BYTES_PER_S);
  sl_put_u16(r + 20, (uint16_t)(ENGINE_WAVE_BYTES / ((STIM_BITS + 7) / 8)));
  sl_put_u16(r + 22, (uint16_t)(ENGINE_MAX_PACKED * 8 / SAMPLE_BITS));
  /* protocol 1.1 capability block */
  r[24] = SL_PROTOCOL_MINOR;
  r[25] = HAL_OUTPUTS;
  sl_put_u16(r + 26, ENGINE_MAX_SEGMENTS);
  sl_put_u16(r + 28, ENGINE_WAVE_BYTES);
  r[30] = HAL_DAC_BITS;
  r[31] = 0;
  sl_put_u32(r + 32, HAL_DAC_MAX_RATE(1));
  sl_put_u16(r + 36, RX_FRAME_CAP - 4);
  sl_put_u16(r + 38, HAL_PULSE_MIN_US);
  for (uint8_t i = 0; i < sizeof(name) - 1; i++) r[40 + i] = (uint8_t)name[i];
  send_ctrl(SL_T_HELLO_REPLY, seq, r, sizeof(r));
}

static void handle_configure(uint8_t seq, const uint8_t *p, uint16_t n) {
  if (running) { send_error(SL_E_BAD_STATE, SL_T_CONFIGURE, seq, 0); return; }
  if (n < 7) { send_error(SL_E_BAD_ARG, SL_T_CONFIGURE, seq, 0); return; }
  uint8_t mask = p[0], flags = p[1], tpb = p[6];
  uint8_t out = n >= 8 ? p[7] : SL_OUT_PWM, addr = n >= 9 ? p[8] : 0;
  uint32_t rate = sl_get_u32(p + 2);
  if (out > 7 || !(HAL_OUTPUTS & (1u << out))) { send_error(SL_E_BAD_ARG, SL_T_CONFIGURE, seq, 5); return; }
  if (mask == 0 || mask >= (1u << HAL_ANALOG_INPUTS)) { send_error(SL_E_BAD_ARG, SL_T_CONFIGURE, seq, 1); return; }
  uint8_t nadc = 0;
  for (uint8_t c = 0; c < HAL_ANALOG_INPUTS; c++) {
    if (mask & (1u << c)) eng_adc_ch[nadc++] = c;
  }
  uint8_t nvals = (uint8_t)(nadc + ((flags & 1) ? 1 : 0));
  uint8_t cs = 0;
  uint16_t ocr = 0;
  uint32_t divider = hal_sampling_configure(rate, &cs, &ocr);
  if (!divider) { send_error(SL_E_BAD_ARG, SL_T_CONFIGURE, seq, 2); return; }
  if (rate * nadc > HAL_MAX_CONVERSIONS) { send_error(SL_E_BUDGET, SL_T_CONFIGURE, seq, rate * nadc); return; }
  uint8_t wide = out == SL_OUT_MCP4725 || STIM_BITS > 8;
#ifdef HAL_DAC_MAX_RATE
  if (out == SL_OUT_MCP4725) {
    /* the I2C bus must finish one DAC write per sample period */
    uint32_t max_rate = HAL_DAC_MAX_RATE(nadc);
    if ((uint32_t)(HAL_CLOCK_HZ / divider) > max_rate) { send_error(SL_E_DAC_RATE, SL_T_CONFIGURE, seq, max_rate); return; }
    /* a 12-bit code does not fit a 10-bit sample: the host records the program's codes instead */
    if ((flags & 1) && HAL_DAC_BITS > SAMPLE_BITS) { send_error(SL_E_BAD_ARG, SL_T_CONFIGURE, seq, 3); return; }
  }
#endif
#ifdef HAL_TICK_CYCLES
  /* CPU budget: refuse a rate whose ticks the board would lose (info = the highest rate it sustains) */
  uint32_t cpu_max = hal_max_tick_rate(nvals, out == SL_OUT_MCP4725, 0);
  if ((uint32_t)(HAL_CLOCK_HZ / divider) > cpu_max) { send_error(SL_E_CPU_RATE, SL_T_CONFIGURE, seq, cpu_max); return; }
#endif
  /* wire budget: packed bytes per second plus 4 % framing must fit the link (10 line bits per byte) */
  uint32_t bytes_per_s = (uint32_t)(((uint64_t)rate * nvals * SAMPLE_BITS / 8) * 104 / 100);
  if (bytes_per_s > HAL_LINK_BYTES_PER_S) { send_error(SL_E_BUDGET, SL_T_CONFIGURE, seq, bytes_per_s); return; }
  uint16_t max_vals = (uint16_t)(ENGINE_MAX_PACKED * 8 / SAMPLE_BITS);
  uint16_t max_tpb = (uint16_t)(max_vals / nvals);
  if (max_tpb > 255) max_tpb = 255;
  if (tpb == 0 || tpb > max_tpb) tpb = (uint8_t)max_tpb;
  hal_adc_clock(rate * nadc);
  hal_cs_bits = cs;
  hal_ocr = ocr;
  eng_nadc = nadc;
  eng_record_stim = flags & 1;
  eng_nvals = nvals;
  eng_ticks_per_block = tpb;
  cfg_mask = mask;
  cfg_flags = flags;
  cfg_divider = divider;
  if (!configured || out != stim_out || wide != stim_wide) stim_clear(); /* the table layout depends on the output */
  pulses_set = 0; /* pulse times are converted for the sample clock: send PULSES after CONFIGURE */
  stim_wide = wide;
  hal_stim_select(out, addr);
  configured = 1;
  uint8_t r[21];
  sl_put_u32(r, HAL_CLOCK_HZ);
  sl_put_u32(r + 4, divider);
  r[8] = nvals;
  r[9] = tpb;
  r[10] = SAMPLE_BITS;
  r[11] = mask;
  r[12] = flags;
  r[13] = out;
  r[14] = out == SL_OUT_MCP4725 ? HAL_DAC_BITS : STIM_BITS;
  sl_put_u16(r + 15, stim_capacity());
  sl_put_u16(r + 17, ENGINE_MAX_SEGMENTS);
  sl_put_u16(r + 19, hal_pulse_prescaler());
  send_ctrl(SL_T_CONFIGURED, seq, r, 21);
}

static void handle_frame(uint8_t *b, uint16_t len) {
  uint8_t e = sl_body_check(b, len);
  if (e != SL_E_OK) {
    rx_errors++;
    send_error(e, len > 0 ? b[0] : 0, len > 1 ? b[1] : 0, len);
    return;
  }
  last_host_ms = millis();
  uint8_t type = b[0], seq = b[1];
  const uint8_t *p = b + 2;
  uint16_t n = (uint16_t)(len - 4);
  switch (type) {
    case SL_T_HELLO: {
      if (n < 1 || p[0] < SL_PROTOCOL_VERSION) { send_error(SL_E_VERSION, type, seq, SL_PROTOCOL_VERSION); break; }
      send_hello(seq);
      break;
    }
    case SL_T_CONFIGURE:
      handle_configure(seq, p, n);
      break;
    case SL_T_WAVEFORM: {
      /* table memory, in acknowledged chunks: offset u16, total u16, codes (u8, or u16 for a 12-bit output) */
      if (running || !configured) { send_error(SL_E_BAD_STATE, type, seq, configured); break; }
      uint8_t w = stim_wide ? 2 : 1;
      if (n < 4 || ((n - 4) % w) != 0) { send_error(SL_E_BAD_ARG, type, seq, 0); break; }
      uint16_t offset = sl_get_u16(p), total = sl_get_u16(p + 2), count = (uint16_t)((n - 4) / w);
      if (total > stim_capacity() || offset + count > total) { send_error(SL_E_BAD_ARG, type, seq, stim_capacity()); break; }
      if (offset == 0) { wave_table_len = 0; seg_count = 0; }
      if (offset != wave_table_len) { send_error(SL_E_BAD_ARG, type, seq, wave_table_len); break; }
      uint16_t limit = (uint16_t)(1u << (w == 2 ? HAL_DAC_BITS : 8));
      uint8_t bad = 0;
      for (uint16_t i = 0; i < count; i++) {
        uint16_t v = w == 2 ? sl_get_u16(p + 4 + 2 * i) : p[4 + i];
        if (v >= limit) bad = 1;
        if (w == 2) sl_put_u16(wave + 2 * (offset + i), v);
        else wave[offset + i] = (uint8_t)v;
      }
      if (bad) { wave_table_len = 0; send_error(SL_E_BAD_ARG, type, seq, limit); break; }
      wave_table_len = (uint16_t)(offset + count);
      send_ack(type, seq, SL_E_OK, wave_table_len);
      break;
    }
    case SL_T_SEGMENTS: {
      /* offset u8, total u8, then per segment: table start u16, table length u16, samples u32 */
      if (running || !configured) { send_error(SL_E_BAD_STATE, type, seq, configured); break; }
      if (n < 2 || ((n - 2) % 8) != 0) { send_error(SL_E_BAD_ARG, type, seq, 0); break; }
      uint8_t offset = p[0], total = p[1], count = (uint8_t)((n - 2) / 8);
      if (total > ENGINE_MAX_SEGMENTS || offset + count > total) { send_error(SL_E_BAD_ARG, type, seq, ENGINE_MAX_SEGMENTS); break; }
      if (offset == 0) seg_count = 0;
      if (offset != seg_count) { send_error(SL_E_BAD_ARG, type, seq, seg_count); break; }
      uint8_t bad = 0;
      for (uint8_t i = 0; i < count; i++) {
        const uint8_t *q = p + 2 + 8 * i;
        uint16_t start = sl_get_u16(q), len = sl_get_u16(q + 2);
        uint32_t samples = sl_get_u32(q + 4);
        if (len == 0 || samples == 0 || (uint32_t)start + len > stim_capacity()) { bad = 1; break; }
        segs[offset + i].start = (SEG_IDX_T)start;
        segs[offset + i].last = (SEG_IDX_T)(len - 1);
        segs[offset + i].samples = samples;
      }
      if (bad) { seg_count = 0; send_error(SL_E_BAD_ARG, type, seq, stim_capacity()); break; }
      seg_count = (uint8_t)(offset + count);
      send_ack(type, seq, SL_E_OK, seg_count);
      break;
    }
    case SL_T_PULSES: {
      /* delay, period, width, count (times in us); width 0 = off. Needs the sample clock (CONFIGURE) first:
       * the timer that makes the edges is the sample-clock timer. ACK info = timer prescaler. */
      if (running || !configured) { send_error(SL_E_BAD_STATE, type, seq, configured); break; }
      if (n < 16) { send_error(SL_E_BAD_ARG, type, seq, 0); break; }
      for (uint8_t i = 0; i < 4; i++) pulse_us[i] = sl_get_u32(p + 4 * i);
      pulses_set = 0;
      if (pulse_us[2] == 0) { send_ack(type, seq, SL_E_OK, hal_pulse_prescaler()); break; }
      if (pulse_us[2] < HAL_PULSE_MIN_US || pulse_us[1] < pulse_us[2] + HAL_PULSE_MIN_US) {
        send_error(SL_E_BAD_ARG, type, seq, HAL_PULSE_MIN_US); /* high and low phases at least this long */
        break;
      }
#ifdef HAL_TICK_CYCLES
      {
        /* a pulse train runs the special tick and costs each edge: refuse a sample rate it would make lossy */
        uint32_t cpu_max = hal_max_tick_rate(eng_nvals, 1, (2000000UL + pulse_us[1] - 1) / pulse_us[1]);
        if ((uint32_t)(HAL_CLOCK_HZ / cfg_divider) > cpu_max) { send_error(SL_E_CPU_RATE, type, seq, cpu_max); break; }
      }
#endif
      if (!hal_pulse_setup(pulse_us[0], pulse_us[2], pulse_us[1], pulse_us[3])) { send_error(SL_E_BAD_ARG, type, seq, 0); break; }
      pulses_set = 1;
      send_ack(type, seq, SL_E_OK, hal_pulse_prescaler());
      break;
    }
    case SL_T_START: {
      if (running || !configured) { send_error(SL_E_BAD_STATE, type, seq, configured); break; }
      noInterrupts();
      uint8_t bad = stim_begin((n >= 1) ? (p[0] & 1) : 0);
      interrupts();
      if (bad) { send_error(SL_E_BAD_ARG, type, seq, bad); break; } /* a segment reaches past the table */
      if (pulses_set) hal_pulse_setup(pulse_us[0], pulse_us[2], pulse_us[1], pulse_us[3]);
      if (stim_out == SL_OUT_MCP4725) {
        dac_next = engine_stimulus(); /* value 0 on the DAC before tick 0 */
        hal_dac_write_sync(dac_next);
      }
      noInterrupts();
      engine_reset(); /* blocks of an earlier run still queued are dropped */
      running = 1;
      interrupts();
      outputs_live = 1;
      hal_outputs_enable();
      send_ack(type, seq, SL_E_OK, 0);
      noInterrupts();
      hal_sampling_start(pulses_set);
      interrupts();
      break;
    }
    case SL_T_STOP:
      if (running || outputs_live) stop_run();
      send_ack(type, seq, SL_E_OK, 0);
      break;
    case SL_T_HEARTBEAT: {
      uint8_t r[15];
      noInterrupts();
      uint32_t idx = tick_index;
      uint16_t dropped = dropped_ticks, ovr = overruns, late = hal_pulse_late(), dacerr = hal_dac_errors();
      interrupts();
      r[0] = running;
      sl_put_u32(r + 1, idx);
      sl_put_u16(r + 5, dropped);
      sl_put_u16(r + 7, rx_errors);
      sl_put_u16(r + 9, ovr);
      sl_put_u16(r + 11, late);
      sl_put_u16(r + 13, dacerr);
      send_ctrl(SL_T_STATUS, seq, r, 15);
      break;
    }
    default:
      send_error(SL_E_UNKNOWN_TYPE, type, seq, 0);
  }
}

void setup(void) {
  hal_init();
#ifdef DEBUG_PIN
  DDRB |= 1;
#endif
  sl_cobs_rx_init(&rx, rx_buf, RX_FRAME_CAP);
  uint8_t boot[2] = {hal_reset_cause(), SL_PROTOCOL_VERSION};
  send_ctrl(SL_T_BOOT, 0, boot, 2);
  last_host_ms = millis();
}

void loop(void) {
  for (;;) {
    hal_kick();
    engine_service();
    tx_service();
    /* host -> board: decode while the control buffer is free (replies are never dropped) */
    while (!ctrl_pending) {
      int16_t c = hal_uart_read();
      if (c < 0) break;
      int16_t r = sl_cobs_rx_feed(&rx, (uint8_t)c);
      if (r > 0) handle_frame(rx_buf, (uint16_t)r);
      else if (r == SL_RX_ERROR) { rx_errors++; send_error(SL_E_FRAME, 0, 0, 0); }
    }
    if (hal_rx_overflowed()) rx_errors++;
    if (!ctrl_pending && pending_error) {
      send_error(pending_error, 0, 0, pending_error_info);
      pending_error = 0;
    }
    tx_service();
    /* host silent: stop and zero everything */
    if ((running || outputs_live) && (uint32_t)(millis() - last_host_ms) >= HOST_TIMEOUT_MS) {
      stop_run();
      pending_error = SL_E_WATCHDOG;
      pending_error_info = (uint32_t)(millis() - last_host_ms);
      continue;
    }
    /* nothing left to do: sleep until an interrupt leaves work (saves power; lets the emulator skip idle time) */
    if (!engine_busy() && seal_head == ready_tail && !hal_rx_pending() && (hal_tx_busy() || (!ctrl_pending && !engine_ready()))) hal_wait();
  }
}
