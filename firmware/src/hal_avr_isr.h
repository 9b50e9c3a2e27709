/* AVR interrupt handlers; included after daq_engine.h. */
#pragma once

/* ---- interrupts: the sample clock drives everything ---- */
ISR(TIMER1_COMPA_vect) {
  STIM_T s = engine_stimulus();
  hal_stim_write(s);
  hal_pulse_write(engine_pulse());
  if (engine_tick(s)) hal_adc_start(eng_adc_ch[0]);
}

ISR(ADC_vect) {
  uint16_t v = ADC;
  uint8_t next = engine_sample(v);
  if (next != ENGINE_NONE) hal_adc_start(next);
}

/* One byte of the frame on the wire per interrupt; the frame's 0x00 delimiter ends it and wakes the main
 * loop to start the next one. */
#if defined(__AVR_ATmega2560__)
ISR(USART0_UDRE_vect) {
#else
ISR(USART_UDRE_vect) {
#endif
  const uint8_t *p = hal_tx_ptr;
  uint8_t b = *p;
  UDR0 = b;
  hal_tx_ptr = p + 1;
  if (!b) {
    UCSR0B = HAL_UCSR0B_IDLE;
    hal_tx_on = 0;
    hal_wake = 1;
  }
}
