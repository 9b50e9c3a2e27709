/* AVR interrupt handlers; included after daq_engine.h. */
#pragma once

/* ---- interrupts: the sample clock drives everything ---- */
/* DAC output: the value for tick n + 1 is written over I2C once tick n's conversions are done, so it is on
 * the DAC before tick n + 1 samples (the sample rate is capped so that a write always fits, HAL_DAC_MAX_RATE). */
static STIM_T dac_next;

/* TWCR value that starts the next DAC write once the tick's conversions are done (0: none due) */
static volatile uint8_t dac_kick;

/* Queues the DAC write of `code` (interrupt context). */
static inline __attribute__((always_inline)) void hal_dac_queue(uint16_t code) {
  if (twi_step) { dac_errors++; return; } /* the previous write is still on the bus */
  twi_hi = (uint8_t)((code >> 8) & 0x0f);
  twi_lo = (uint8_t)code;
  twi_step = 1;
  dac_kick = _BV(TWINT) | _BV(TWSTA) | _BV(TWEN) | _BV(TWIE);
}

/* The tick interrupt comes in two variants, chosen by GPIOR0 bit 0 (set at START when a pulse train runs or
 * the DAC is the output): the plain one is the 1.0 PWM tick, cycle for cycle (the acquisition budget is that
 * tight), the other adds the pulse scheduling and the DAC. The vector dispatches with one sbic (no register,
 * no flags touched). */
extern "C" void __vector_sl_tick_plain(void) __attribute__((signal, used, externally_visible));
extern "C" void __vector_sl_tick_special(void) __attribute__((signal, used, externally_visible));

void __vector_sl_tick_plain(void) {
  STIM_T s = engine_stimulus();
  hal_stim_write(s);
  if (engine_tick(s)) hal_adc_start(eng_adc_ch[0]);
}

void __vector_sl_tick_special(void) {
  if (pl_active) hal_pulse_arm_at(++pl_now, TCNT1);
  STIM_T s;
  if (stim_out == SL_OUT_MCP4725) {
    s = dac_next; /* on the DAC since the previous tick (or START) */
    dac_next = engine_stimulus();
    hal_dac_queue(dac_next);
  } else {
    s = engine_stimulus();
    hal_stim_write(s);
  }
  if (engine_tick(s)) hal_adc_start(eng_adc_ch[0]);
  else {
    uint8_t k = dac_kick; /* no conversions this tick: write now */
    if (k) { dac_kick = 0; TWCR = k; }
  }
}

ISR(TIMER1_COMPA_vect, ISR_NAKED) {
  asm volatile(
      "sbic %0, 0\n\t"
      "jmp __vector_sl_tick_special\n\t"
      "jmp __vector_sl_tick_plain\n\t" ::"I"(_SFR_IO_ADDR(GPIOR0)));
}

/* A pulse edge was made by the hardware (or an alarm came): schedule the next one. */
ISR(TIMER1_COMPB_vect) {
  OCR1B = PL_PARK;
  pl_armed = 0;
  if (pl_alarm) {
    pl_alarm = 0;
    TCCR1A |= PL_COM_TOGGLE;
  } else {
    /* PORT follows the output, so disconnecting it for an alarm never glitches the pin */
    if (pl.level) PULSE_PORT |= _BV(PULSE_BIT);
    else PULSE_PORT &= (uint8_t)~_BV(PULSE_BIT);
    if (!ps_next(&pl)) { pl_active = 0; return; }
  }
  hal_pulse_arm();
}

ISR(ADC_vect) {
  uint16_t v = ADC;
  uint8_t next = engine_sample(v);
  if (next != ENGINE_NONE) hal_adc_start(next);
  else {
    uint8_t k = dac_kick; /* DAC output: the next value goes out once this tick's inputs are converted */
    if (k) { dac_kick = 0; TWCR = k; }
  }
}

/* MCP4725 fast write. simavr reports 0x28 after the address when TWDR was loaded early, so the step, not
 * the status code, says where the transfer is. */
ISR(TWI_vect) {
  uint8_t st = TWSR & 0xf8, k = twi_step;
  if (k == 1 && (st == 0x08 || st == 0x10)) { TWDR = dac_addr_w; twi_step = 2; TWCR = _BV(TWINT) | _BV(TWEN) | _BV(TWIE); return; }
  if (k == 2 && (st == 0x18 || st == 0x28)) { TWDR = twi_hi; twi_step = 3; TWCR = _BV(TWINT) | _BV(TWEN) | _BV(TWIE); return; }
  if (k == 3 && st == 0x28) { TWDR = twi_lo; twi_step = 4; TWCR = _BV(TWINT) | _BV(TWEN) | _BV(TWIE); return; }
  if (k != 4 || st != 0x28) dac_errors++;
  TWCR = _BV(TWINT) | _BV(TWEN) | _BV(TWSTO);
  twi_step = 0;
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
