/* Teensy 4.x sample-clock interrupt; included after daq_engine.h. Conversions are done in the interrupt
 * (analogRead takes ~1-2 µs at 12 bits), one input after the other. */
#pragma once

static void hal_timer_isr(void) {
  STIM_T s = engine_stimulus();
  hal_stim_write(s);
  hal_pulse_write(engine_pulse());
  if (!engine_tick(s)) return;
  uint8_t pin = eng_adc_ch[0];
  while (pin != ENGINE_NONE) pin = engine_sample((uint16_t)analogRead(A0 + pin));
}
