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

#if defined(__AVR_ATmega2560__)
ISR(USART0_UDRE_vect) {
#else
ISR(USART_UDRE_vect) {
#endif
  uint8_t t = tx_tail;
  if (t == tx_head) {
    UCSR0B &= (uint8_t)~_BV(UDRIE0);
    return;
  }
  UDR0 = tx_ring[t];
  tx_tail = (uint8_t)((t + 1) & (TX_RING - 1));
}
