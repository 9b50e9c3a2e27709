/* AVR interrupt handlers; included after daq_engine.h. */
#pragma once

/* ---- interrupts: the sample clock drives everything ---- */
ISR(TIMER1_COMPA_vect) {
  STIM_T s = engine_stimulus();
  hal_stim_write(s);
  hal_pulse_write(engine_pulse());
  /* Interrupts stay off to the end: re-enabling them here (to let the transmitter's interrupt in) lets a
   * late conversion interrupt of the previous tick start that tick's last conversion after this tick's
   * stimulus is applied, a sample taken against the wrong stimulus. */
  uint32_t idx = tick_index;
  tick_index = idx + 1;
  /* the previous tick's conversions still running (rate beyond the ADC): this tick is lost, a gap */
  if (cur_ch != ENGINE_NONE) { overruns++; hal_gap = 1; return; }
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
    ADCSRA = (uint8_t)(hal_adcsra | _BV(ADSC) | _BV(ADIF));
  }
  hal_pend = 1;
}

/* Every input of a tick but the last: store the result, start the next input; the last one runs without
 * interrupt (the next sample interrupt reads it), one interrupt less per tick. */
ISR(ADC_vect, ISR_NAKED) {
  /* Hand-written (avr-gcc needs ~95 cycles for it, this ~50): it runs once per tick per input but the last,
   * at 97 % CPU load every cycle counts. Same as:
   *   c = cur_ch; hal_v[c] = ADC; c++; ADMUX = REFS0 | eng_adc_ch[c];
   *   if (c + 1 < eng_nadc) { cur_ch = c; ADCSRA = hal_adcsra | ADSC | ADIE; }   (more inputs after this one)
   *   else { cur_ch = NONE; ADCSRA = hal_adcsra | ADSC; }                          (the last: no interrupt)
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
      "cpi r26, 0xff\n\t"   /* nothing converting (never expected) */
      "breq 9f\n\t"
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
      "lds r24, %[adcsra]\n\t"
      "lds r25, %[nadc]\n\t"
      "mov r27, r26\n\t"
      "inc r27\n\t"
      "cp r27, r25\n\t"
      "brsh 1f\n\t"
      "sts %[cur], r26\n\t"
      "ori r24, 0x48\n\t"   /* ADSC | ADIE */
      "sts 0x7a, r24\n\t"
      "rjmp 9f\n\t"
      "1:\n\t"
      "ldi r25, 0xff\n\t"   /* the tick's last input: no interrupt, the next sample interrupt reads it */
      "sts %[cur], r25\n\t"
      "ori r24, 0x40\n\t"   /* ADSC */
      "sts 0x7a, r24\n\t"
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
      : [cur] "i"(&cur_ch), [hv] "i"(&hal_v), [ch] "i"(eng_adc_ch), [adcsra] "i"(&hal_adcsra), [nadc] "i"(&eng_nadc));
}
static_assert(_SFR_MEM_ADDR(ADCSRA) == 0x7a && _SFR_MEM_ADDR(ADCL) == 0x78 && _SFR_MEM_ADDR(ADMUX) == 0x7c && ADSC == 6 &&
                  ADIE == 3 && REFS0 == 6,
              "ADC register layout assumed by the conversion interrupt");

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
