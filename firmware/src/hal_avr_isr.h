/* AVR interrupt handlers; included after daq_engine.h. */
#pragma once

/* ---- interrupts: the sample clock drives everything ---- */
/* DAC output: the value for tick n + 1 is written over I2C once tick n's conversions are done, so it is on
 * the DAC before tick n + 1 samples (the sample rate is capped so that a write always fits, HAL_DAC_MAX_RATE). */
static STIM_T dac_next;


/* Queues the DAC write of `code` (interrupt context). */
static inline __attribute__((always_inline)) void hal_dac_queue(uint16_t code) {
  if (twi_step) { dac_errors++; return; } /* the previous write is still on the bus */
  twi_hi = (uint8_t)((code >> 8) & 0x0f);
  twi_lo = (uint8_t)code;
  twi_step = 1;
  dac_kick = _BV(TWINT) | _BV(TWSTA) | _BV(TWEN) | _BV(TWIE);
}

/* ---- pulse train scheduling (hal_avr.h: the compare unit, pulse_sched.h: the edge arithmetic) ---- */
/* Called from the Timer1 interrupts only, with `now` the sample period the counter value c (TCNT1) is in:
 * puts the next edge in OCR1B if the counter will reach it in the edge's own period. An edge early in the next
 * period (before the tick interrupt could arm it) gets an alarm first: a compare with the pin disconnected
 * (COM1B = 0, the pin holds its PORT level, kept equal to the output) later in this period, whose interrupt
 * then arms the edge. An edge whose time has passed (interrupts held up too long) is made now and counted. */
static inline __attribute__((always_inline)) void hal_pulse_arm_at(uint32_t now, uint16_t c) {
  if (!pl_active || pl_armed) return;
  if (pl.pe == now) {
    if (pl.oe > c + pl_guard) { OCR1B = pl.oe; pl_armed = 1; return; }
  } else if (pl.pe == now + 1) {
    if ((uint16_t)(pl.oe + pl_guard) < c) { OCR1B = pl.oe; pl_armed = 1; return; }
    if (pl.oe < pl_window) {
      uint16_t a = (uint16_t)((pl.oe > c ? pl.oe : c) + pl_guard);
      if (a < OCR1A) {
        TCCR1A &= (uint8_t)~PL_COM_TOGGLE; /* the alarm's match leaves the pin alone */
        OCR1B = a;
        pl_alarm = 1;
        pl_armed = 1;
      }
    }
    return; /* else the tick interrupt of the edge's period arms it */
  } else if (pl.pe > now) {
    /* two or more periods ahead: the tick interrupts until the one before the edge's period need not look
     * (one tick fewer than that, as a tick pending while a compare interrupt arms sees the same period) */
    uint32_t d = pl.pe - now;
    pl_skip = d >= 3 ? (d - 3 > 0xffffu ? 0xffffu : (uint16_t)(d - 3)) : 0;
    return;
  }
  /* late */
  uint16_t soon = (uint16_t)(c + pl_guard);
  if (soon < OCR1A) { OCR1B = soon; pl_armed = 1; pl_late++; }
}

/* TCNT1 and the period it belongs to (tick_index: sample periods begun since START), consistent even if the counter wraps while we look (the tick
 * interrupt, which counts periods, may still be pending). */
static inline __attribute__((always_inline)) void hal_pulse_arm(void) {
  uint8_t f = TIFR1 & _BV(OCF1A);
  uint16_t c = TCNT1;
  if (f != (TIFR1 & _BV(OCF1A))) { f = _BV(OCF1A); c = TCNT1; }
  hal_pulse_arm_at(tick_index + (f ? 1 : 0), c);
}

/* The tick's acquisition (both variants): the previous tick's last conversion completes it (hal_adc_finish),
 * this tick gets a ring slot and its conversions start. Interrupts stay off to the end: re-enabling them here (to
 * let the transmitter's interrupt in) lets a late conversion interrupt of the previous tick start that tick's last
 * conversion after this tick's stimulus is applied, a sample taken against the wrong stimulus. The tick's last
 * conversion is started with hal_adcsra_last (ADIE only with the DAC output: the DAC write waits for it). Returns 0
 * if the previous tick's conversions were still running (no conversion started: this tick is lost, a gap). */
static inline __attribute__((always_inline)) uint8_t hal_tick_acquire(STIM_T s) {
  uint32_t idx = tick_index;
  tick_index = idx + 1;
  /* the previous tick's conversions still running (rate beyond the ADC): this tick is lost, a gap */
  if (cur_ch != ENGINE_NONE) { overruns++; hal_gap = 1; return 0; }
  /* the previous tick: its last conversion (long done) completes it; it goes to the packer */
  hal_adc_finish();
  /* this tick: a ring slot for its results, then its conversions (ADIF written 1 clears the last one's flag) */
  uint8_t h = ring_head;
  if ((uint8_t)((h + 1) & (ENGINE_RING - 1)) != ring_tail) {
    TickSlot *slot = hal_next_slot; /* = &ring[h], kept as a pointer (no multiply here) */
    hal_next_slot = h == ENGINE_RING - 1 ? ring : slot + 1;
    slot->idx = idx;
    slot->gap = hal_gap;
    hal_gap = 0;
    slot->v[0] = s; /* the stimulus echo, if recorded (else overwritten by the first input) */
    hal_slot = slot;
    hal_v = slot->v + eng_record_stim; /* hal_last = hal_v + eng_nadc - 1 */
    hal_last = slot->v + (eng_nvals - 1);
  } else {
    hal_slot = 0;
    hal_v = hal_scratch;
  }
  ADMUX = (uint8_t)(_BV(REFS0) | eng_adc_ch[0]);
  if (eng_nadc > 1) {
    cur_ch = 0;
    ADCSRA = (uint8_t)(hal_adcsra | _BV(ADSC) | _BV(ADIE) | _BV(ADIF));
  } else {
    ADCSRA = (uint8_t)(hal_adcsra_last | _BV(ADSC) | _BV(ADIF));
  }
  hal_pend = 1;
  return 1;
}

/* The tick interrupt comes in two variants: the plain one is the PWM acquisition path, cycle for cycle (the
 * 20 kS/s x 2 budget is that tight); the special one (GPIOR0 bit 0, set at START when a pulse train runs or the DAC
 * is the output; bit 1: the DAC) adds the pulse scheduling and the DAC. The vector dispatches with one sbic (no
 * register, no flags touched). */
extern "C" void __vector_sl_tick_plain(void) __attribute__((signal, used, externally_visible));
extern "C" void __vector_sl_tick_special(void) __attribute__((signal, used, externally_visible));

void __vector_sl_tick_plain(void) {
  STIM_T s = engine_stimulus();
  hal_stim_write(s);
  hal_tick_acquire(s);
}

/* Out of line, so the tick interrupt saves no more registers than the plain one for the ticks that only count
 * down pl_skip (the call-clobbered ones it saves anyway). tick_index + 1: the period this tick begins. */
static void __attribute__((noinline)) hal_pulse_tick(void) { hal_pulse_arm_at(tick_index + 1, TCNT1); }

void __vector_sl_tick_special(void) {
  if (pl_active) {
    uint16_t k = pl_skip;
    if (k) pl_skip = (uint16_t)(k - 1); /* the next edge is periods away: nothing to look at */
    else if (!pl_armed) hal_pulse_tick();
  }
  STIM_T s;
  if (GPIOR0 & 2) { /* the MCP4725 is the output */
    /* the previous tick's write still waits for its last conversion's interrupt, which has not run: the
     * conversion is done (a tick never comes before it at a DAC-limited rate) and starting this tick's
     * conversions would clear its flag, so the write goes now */
    uint8_t k = dac_kick;
    if (k && cur_ch == ENGINE_NONE) { dac_kick = 0; TWCR = k; }
    s = dac_next; /* on the DAC since the previous tick (or START) */
    dac_next = engine_stimulus();
    hal_dac_queue(dac_next);
  } else {
    s = engine_stimulus();
    hal_stim_write(s);
  }
  hal_tick_acquire(s); /* an overrun (no conversions started) leaves the write to the running ones */
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

/* Every input of a tick but the last: store the result, start the next input; the last one runs without
 * interrupt (the next sample interrupt reads it), one interrupt less per tick. */
ISR(ADC_vect, ISR_NAKED) {
  /* Hand-written (avr-gcc needs ~95 cycles for it, this ~50): it runs once per tick per input but the last,
   * at 97 % CPU load every cycle counts. Same as:
   *   c = cur_ch; hal_v[c] = ADC; c++; ADMUX = REFS0 | eng_adc_ch[c];
   *   if (c + 1 < eng_nadc) { cur_ch = c; ADCSRA = hal_adcsra | ADSC | ADIE; }   (more inputs after this one)
   *   else { cur_ch = NONE; ADCSRA = hal_adcsra_last | ADSC; }                     (the last: no interrupt, but
   *                                                                                  see the DAC below)
   * With the MCP4725 as the output the tick's last conversion interrupts too (hal_adcsra_last has ADIE): it
   * arrives with cur_ch = NONE, leaves its result in the ADC for the next sample interrupt and starts the queued
   * DAC write (TWCR = dac_kick), now that the tick's inputs are in.
   * Uses r24-r27, r30, r31 and SREG; r1 is not assumed to be zero. I/O addresses written as literals (0x78 ADCL,
   * 0x7a ADCSRA, 0x7c ADMUX; the same on the 328P and 2560). */
  __asm__ __volatile__(
      "push r24\n\t"
      "in r24, __SREG__\n\t"
      "push r24\n\t"
      "push r25\n\t"
      "push r26\n\t"
      "push r27\n\t"
      "push r30\n\t"
      "push r31\n\t"
      "lds r26, %[cur]\n\t" /* c */
      "cpi r26, 0xff\n\t"   /* the tick's last conversion (DAC output only) */
      "breq 8f\n\t"
      "lds r30, %[hv]\n\t"
      "lds r31, %[hv]+1\n\t"
      "mov r27, r26\n\t"
      "lsl r27\n\t"
      "add r30, r27\n\t"
      "clr r27\n\t"
      "adc r31, r27\n\t"    /* Z = &hal_v[c]; r27 = 0 from here */
      "lds r24, 0x78\n\t"   /* ADCL first */
      "lds r25, 0x79\n\t"
      "st Z, r24\n\t"
      "std Z+1, r25\n\t"
      "inc r26\n\t"         /* c + 1: the next input */
      "ldi r30, lo8(%[ch])\n\t"
      "ldi r31, hi8(%[ch])\n\t"
      "add r30, r26\n\t"
      "adc r31, r27\n\t"
      "ld r24, Z\n\t"
      "ori r24, 0x40\n\t"   /* REFS0 */
      "sts 0x7c, r24\n\t"
      "lds r25, %[nadc]\n\t"
      "mov r27, r26\n\t"
      "inc r27\n\t"
      "cp r27, r25\n\t"
      "brsh 1f\n\t"
      "lds r24, %[adcsra]\n\t"
      "sts %[cur], r26\n\t"
      "ori r24, 0x48\n\t"   /* ADSC | ADIE */
      "sts 0x7a, r24\n\t"
      "rjmp 9f\n\t"
      "1:\n\t"
      "lds r24, %[adcsra_last]\n\t"
      "ldi r25, 0xff\n\t"   /* the tick's last input: the next sample interrupt reads it */
      "sts %[cur], r25\n\t"
      "ori r24, 0x40\n\t"   /* ADSC */
      "sts 0x7a, r24\n\t"
      "rjmp 9f\n\t"
      "8:\n\t"              /* the last conversion is done: the DAC write queued by the sample interrupt starts */
      "lds r24, %[kick]\n\t"
      "tst r24\n\t"
      "breq 9f\n\t"
      "clr r25\n\t"
      "sts %[kick], r25\n\t"
      "sts 0xbc, r24\n\t"   /* TWCR */
      "9:\n\t"
      "pop r31\n\t"
      "pop r30\n\t"
      "pop r27\n\t"
      "pop r26\n\t"
      "pop r25\n\t"
      "pop r24\n\t"
      "out __SREG__, r24\n\t"
      "pop r24\n\t"
      "reti\n\t"
      :
      : [cur] "i"(&cur_ch), [hv] "i"(&hal_v), [ch] "i"(eng_adc_ch), [adcsra] "i"(&hal_adcsra),
        [adcsra_last] "i"(&hal_adcsra_last), [nadc] "i"(&eng_nadc), [kick] "i"(&dac_kick));
}
static_assert(_SFR_MEM_ADDR(ADCSRA) == 0x7a && _SFR_MEM_ADDR(ADCL) == 0x78 && _SFR_MEM_ADDR(ADMUX) == 0x7c && ADSC == 6 &&
                  ADIE == 3 && REFS0 == 6 && _SFR_MEM_ADDR(TWCR) == 0xbc,
              "ADC register layout assumed by the conversion interrupt");

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

/* One byte of the frame on the wire per interrupt; after the frame's 0x00 delimiter hal_tx_end starts the next
 * frame at once (no round trip through the main loop, which may be sealing a block) or stops. Hand-written: this runs for every byte on the link (4 per tick at 20 kS/s x 2
 * + stimulus echo), and avr-gcc's prologue for the C version (r0, r1, SREG and four registers) costs half
 * again as much. The per-byte path uses r24, r30, r31 and SREG only; r1 is not assumed to be zero. */
#if defined(__AVR_ATmega2560__)
ISR(USART0_UDRE_vect, ISR_NAKED) {
#else
ISR(USART_UDRE_vect, ISR_NAKED) {
#endif
  __asm__ __volatile__(
      "push r24\n\t"
      "in r24, __SREG__\n\t"
      "push r24\n\t"
      "push r30\n\t"
      "push r31\n\t"
      "lds r30, %[ptr]\n\t"
      "lds r31, %[ptr]+1\n\t"
      "ld r24, Z+\n\t" /* the next byte of the frame */
      "sts %[udr], r24\n\t"
      "sts %[ptr], r30\n\t"
      "sts %[ptr]+1, r31\n\t"
      "tst r24\n\t"
      "brne 1f\n\t"
      /* the delimiter went out: hal_tx_end (C) chains the next frame or stops; once per frame, so the
       * full save of the call-clobbered registers is cheap here */
      "push r0\n\t"
      "push r1\n\t"
      "push r18\n\t"
      "push r19\n\t"
      "push r20\n\t"
      "push r21\n\t"
      "push r22\n\t"
      "push r23\n\t"
      "push r25\n\t"
      "push r26\n\t"
      "push r27\n\t"
      "clr r1\n\t"
      "call hal_tx_end\n\t"
      "pop r27\n\t"
      "pop r26\n\t"
      "pop r25\n\t"
      "pop r23\n\t"
      "pop r22\n\t"
      "pop r21\n\t"
      "pop r20\n\t"
      "pop r19\n\t"
      "pop r18\n\t"
      "pop r1\n\t"
      "pop r0\n\t"
      "1:\n\t"
      "pop r31\n\t"
      "pop r30\n\t"
      "pop r24\n\t"
      "out __SREG__, r24\n\t"
      "pop r24\n\t"
      "reti\n\t"
      :
      : [ptr] "i"(&hal_tx_ptr), [udr] "n"(_SFR_MEM_ADDR(UDR0)));
}
