/* Teensy 4.x sample-clock interrupt; included after daq_engine.h. Conversions are done in the interrupt
 * (analogRead takes ~1-2 µs at 12 bits), one input after the other. */
#pragma once

static uint8_t hal_gap;
static void hal_timer_isr(void) {
  STIM_T s = engine_stimulus();
  hal_stim_write(s);
  hal_pulse_write(engine_pulse());
  uint32_t idx = tick_index;
  tick_index = idx + 1;
  uint8_t h = ring_head, n = (uint8_t)((h + 1) & (ENGINE_RING - 1));
  if (n == ring_tail) { dropped_ticks++; hal_gap = 1; return; } /* the packer or the link is behind */
  TickSlot *slot = &ring[h];
  slot->idx = idx;
  slot->gap = hal_gap;
  hal_gap = 0;
  uint16_t *v = slot->v;
  if (eng_record_stim) *v++ = s;
  for (uint8_t i = 0; i < eng_nadc; i++) *v++ = (uint16_t)analogRead(A0 + eng_adc_ch[i]);
  ring_head = n;
}
