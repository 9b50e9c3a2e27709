/* Teensy 4.x sample-clock interrupt; included after daq_engine.h. Conversions are done in the interrupt
 * (analogRead takes ~1-2 us at 12 bits), one input after the other. DAC output: the value for tick n + 1 is
 * queued in the LPI2C FIFO once tick n's inputs are converted (as on AVR). Not built in CI (hal_teensy4.h). */
#pragma once

static STIM_T dac_next;
static uint8_t hal_gap;

/* Tick 0: the pulse delay is counted from here. */
static void hal_pulse_first(void) {
  if (pl_d) {
    hal_pulse_timer.begin(hal_pulse_edge, (float)pl_d / PL_TICKS_PER_US);
    hal_pulse_timer.update((float)pl_w / PL_TICKS_PER_US);
    return;
  }
  pl_level = 1; /* the first rise is now */
  digitalWriteFast(HAL_PULSE_PIN, HIGH);
  if (pl_count) pl_left--;
  hal_pulse_timer.begin(hal_pulse_edge, (float)pl_w / PL_TICKS_PER_US);
  hal_pulse_timer.update((float)(pl_p - pl_w) / PL_TICKS_PER_US);
}

static void hal_timer_isr(void) {
  if (pl_first_pending) { pl_first_pending = 0; hal_pulse_first(); }
  STIM_T s;
  if (stim_out == SL_OUT_MCP4725) {
    s = dac_next;
    dac_next = engine_stimulus();
  } else {
    s = engine_stimulus();
    hal_stim_write(s);
  }
  uint32_t idx = tick_index;
  tick_index = idx + 1;
  uint8_t h = ring_head, n = (uint8_t)((h + 1) & (ENGINE_RING - 1));
  if (n == ring_tail) { /* the packer or the link is behind */
    dropped_ticks++;
    hal_gap = 1;
  } else {
    TickSlot *slot = &ring[h];
    slot->idx = idx;
    slot->gap = hal_gap;
    hal_gap = 0;
    uint16_t *v = slot->v;
    if (eng_record_stim) *v++ = s;
    for (uint8_t i = 0; i < eng_nadc; i++) *v++ = (uint16_t)analogRead(A0 + eng_adc_ch[i]);
    ring_head = n;
  }
  if (stim_out == SL_OUT_MCP4725) hal_dac_start(dac_next);
}
