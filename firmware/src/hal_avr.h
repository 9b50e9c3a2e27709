/*
 * Hardware layer: ATmega328P (Uno, Nano) and ATmega2560 (Mega) at 16 MHz.
 *   sample clock  Timer1 in CTC mode, interrupt on compare A: exact rate F_CPU / (prescaler * (OCR1A + 1))
 *   ADC           AVcc reference, prescaler 16 (1 MHz ADC clock, 13 us per conversion), started from the
 *                 sample interrupt, one channel after the other from the conversion-complete interrupt; the
 *                 tick's last conversion runs without interrupt and the next sample interrupt reads it
 *   stimulus      Timer2 fast PWM on OC2A (Uno D11 / Mega D10), 62.5 kHz carrier, 8-bit; an RC filter on the
 *                 pin makes the analog voltage (docs/daq/wiring.md); or an MCP4725 12-bit DAC on the TWI (I2C)
 *                 bus at 400 kHz (Uno A4/A5, Mega D20/D21), fast-write command, interrupt driven
 *   pulse train   OC1B (Uno D10, Mega D12): Timer1's second compare unit toggles the pin in hardware at
 *                 programmed counts of the sample-clock timer (resolution = Timer1 prescaler / 16 MHz:
 *                 62.5 ns at sample rates >= 245 S/s), scheduled by the compare interrupts (pulse_sched.h)
 *   host link     USART0 at 1,000,000 baud (U2X, UBRR 1: exact), RX by interrupt, TX of whole frames (already
 *                 in wire form) by the data-register-empty interrupt
 *   safety        the AVR hardware watchdog (120 ms) resets a hung firmware; outputs are zero after reset
 */
#pragma once
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/wdt.h>
#include <avr/sleep.h>
#include <util/atomic.h>
#include <util/delay_basic.h>

#define STIM_T uint16_t
#define SAMPLE_BITS 10
#define STIM_BITS 8 /* PWM; the MCP4725 takes 12-bit codes */
#define ENGINE_MAX_PACKED 240
#if defined(__AVR_ATmega2560__)
#define ENGINE_WAVE_BYTES 2048
#define ENGINE_MAX_SEGMENTS 64
#define SEG_IDX_T uint16_t
#else
/* 2 KiB of SRAM: 256 bytes of table memory (256 PWM codes or 128 DAC codes) and 16 segments */
#define ENGINE_WAVE_BYTES 256
#define ENGINE_MAX_SEGMENTS 16
#define SEG_IDX_T uint8_t
#endif
#define HAL_OUTPUTS ((1u << SL_OUT_PWM) | (1u << SL_OUT_MCP4725) | SL_CAP_TIMER_PULSES)
#define HAL_DAC_BITS 12
#define HAL_ANALOG_INPUTS 6
#define HAL_BAUD 1000000UL
#define HAL_CLOCK_HZ F_CPU
/* conversions per second the ADC sustains with interrupt overhead (13 us each + ~3 us of code) */
#define HAL_MAX_CONVERSIONS 60000UL

#if defined(__AVR_ATmega2560__)
#define HAL_BOARD SL_BOARD_MEGA
#define HAL_BOARD_NAME "mega2560"
#define STIM_DDR DDRB
#define STIM_PORT PORTB
#define STIM_BIT PB4 /* OC2A = D10 */
#else
#define HAL_BOARD SL_BOARD_UNO
#define HAL_BOARD_NAME "uno"
#define STIM_DDR DDRB
#define STIM_PORT PORTB
#define STIM_BIT PB3 /* OC2A = D11 */
#endif
#if defined(__AVR_ATmega2560__)
#define PULSE_DDR DDRB
#define PULSE_PORT PORTB
#define PULSE_BIT PB6 /* OC1B = D12 on the Mega */
#define HAL_USART_RX_vect USART0_RX_vect
#else
#define PULSE_DDR DDRB
#define PULSE_PORT PORTB
#define PULSE_BIT PB2 /* OC1B = D10 on Uno/Nano */
#define HAL_USART_RX_vect USART_RX_vect
#endif

static uint8_t hal_reset_cause_value;
/* Set by an interrupt that leaves work for the main loop (tick complete, byte received, frame sent). */
static volatile uint8_t hal_wake;
/* ADC: enable + prescaler (hal_adc_clock); the tick in the conversion pipeline (conversions started, not yet
 * published): its ring slot (0: ring full, the tick is dropped when complete) and where its results go */
static uint8_t hal_adcsra = _BV(ADEN) | _BV(ADPS2);
static uint8_t hal_adcsra_last = _BV(ADEN) | _BV(ADPS2); /* for a tick's last conversion: + ADIE with the DAC output */
static volatile uint8_t hal_pend;
static uint8_t hal_gap; /* a tick was lost: the next slot says so */
static struct TickSlot *hal_slot;
static uint16_t *volatile hal_v;
static uint16_t *hal_last;            /* where the tick's last conversion goes */
static struct TickSlot *hal_next_slot; /* &ring[ring_head] */
#define hal_ring_reset() (hal_next_slot = ring) /* engine_reset, ring_head = 0 */
static uint16_t hal_scratch[HAL_ANALOG_INPUTS];

/* Runs before main(): a watchdog reset leaves the watchdog enabled, so turn it off first thing. */
void hal_early_init(void) __attribute__((naked, used, section(".init3")));
void hal_early_init(void) {
  hal_reset_cause_value = MCUSR;
  MCUSR = 0;
  wdt_disable();
}

static inline __attribute__((always_inline)) void hal_stim_write(uint16_t v) {
  OCR2A = (uint8_t)v;
}

/* ---- MCP4725 on the TWI at 400 kHz: fast-write command (2 bytes after the address), interrupt driven ---- */
#define HAL_TWI_HZ 400000UL
/* One fast write: START, address, 2 data bytes (9 clocks each), STOP: 29 SCL clocks = 72.5 us at 400 kHz,
 * plus 4 TWI interrupts (~4 us): 80 us. It starts when the tick's conversions are done, so a sample period
 * must hold the conversions (13 us each at the 1 MHz ADC clock) and one write. */
#define HAL_DAC_WRITE_US 80UL
#define HAL_DAC_MAX_RATE(nadc) (1000000UL / (HAL_DAC_WRITE_US + 13UL * (nadc) + 10UL))
#define DAC_DEFAULT_ADDR 0x60

static uint8_t stim_out; /* SL_OUT_PWM or SL_OUT_MCP4725 */
static uint8_t dac_addr_w = DAC_DEFAULT_ADDR << 1;
static volatile uint8_t twi_step; /* 0 idle, 1 START sent, 2 address sent, 3 first byte sent, 4 second byte sent */
static uint8_t twi_hi, twi_lo;
static volatile uint16_t dac_errors; /* NACKs, bus errors, writes skipped because the previous one was busy */

/* TWCR value that starts the queued DAC write once the tick's conversions are done (0: none due; hal_avr_isr.h) */
static volatile uint8_t dac_kick;

static inline void hal_dac_start(uint16_t code) {
  if (twi_step) { dac_errors++; return; }
  twi_hi = (uint8_t)((code >> 8) & 0x0f); /* C2 C1 = 00 (fast mode), PD1 PD0 = 00 (normal), D11..D8 */
  twi_lo = (uint8_t)code;
  twi_step = 1;
  TWCR = _BV(TWINT) | _BV(TWSTA) | _BV(TWEN) | _BV(TWIE);
}

/* From the main loop: waits for the bus (at most ~2 ms), writes, waits until the DAC has the code. */
static void hal_dac_write_sync(uint16_t code) {
  for (uint16_t i = 0; twi_step && i < 4000; i++) _delay_loop_2(8);
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    twi_step = 0;
    dac_kick = 0; /* a write queued by the last tick of a run whose conversion interrupt never came is dropped */
  }
  hal_dac_start(code);
  for (uint16_t i = 0; twi_step && i < 4000; i++) _delay_loop_2(8);
}

static void hal_stim_select(uint8_t out, uint8_t addr7) {
  stim_out = out;
  if (out == SL_OUT_MCP4725) {
    dac_addr_w = (uint8_t)((addr7 ? addr7 : DAC_DEFAULT_ADDR) << 1);
    TWSR = 0; /* prescaler 1 */
    TWBR = (uint8_t)((F_CPU / HAL_TWI_HZ - 16) / 2);
    TWCR = _BV(TWEN);
    hal_dac_write_sync(0);
  } else {
    TWCR = 0;
    twi_step = 0;
  }
}

/* ---- pulse train on OC1B (Timer1 compare B, toggle mode) ---- */
#include "pulse_sched.h"
static ps_t pl;
static volatile uint8_t pl_active, pl_armed;
static uint16_t pl_skip;          /* ticks before the tick interrupt must look at the next edge again */
static uint8_t pl_guard;          /* counts between reading TCNT1 and the compare being safely ahead */
static uint16_t pl_window;       /* edges this early in a period are armed from the period before */
static volatile uint16_t pl_late;
#define PL_PARK 0xffff /* above TOP: never matches */

/* Shortest high or low phase: the compare interrupt that schedules the next edge must have run (it can wait
 * for the sample-clock and ADC interrupts, then needs ~10 us of guard); measured on the emulated Uno with 2
 * channels at 10 kS/s: 60 us phases made every edge on time, 40 us phases made ~7 % of them late. */
#define HAL_PULSE_MIN_US 60

/* CPU budget: the highest sample rate the board sustains without losing ticks. Cycles per tick measured in simavr
 * (busy cycles near the limits, docs/daq/overview.md "Rate limits"): ~400 + ~205 per value (an input or the echo) on the
 * plain tick; the special tick (pulse train or MCP4725) ~40 more, and each pulse edge ~400. The plain path may use
 * 85 % of the CPU, the special one 70 % (its edge and TWI interrupts hold the packer up longer). */
#define HAL_TICK_CYCLES(nvals) (400UL + 205UL * (nvals))
#define HAL_SPECIAL_TICK_CYCLES 40UL
#define HAL_EDGE_CYCLES 400UL
/* With a pulse train, ticks are lost above 10 kS/s even where the cycle count fits (2 channels: 250 us train, 4 of
 * 50,000 lost at 12.5 kS/s; 1 ms train, 3 of 60,000 at 15 kS/s; none at 10 kS/s): the edge interrupts' timing. */
#define HAL_PULSE_MAX_RATE 10000UL
static uint32_t hal_max_tick_rate(uint8_t nvals, uint8_t special, uint32_t edges_per_s) {
  uint32_t budget = special ? HAL_CLOCK_HZ / 100 * 70 : HAL_CLOCK_HZ / 100 * 85;
  uint32_t edges = edges_per_s * HAL_EDGE_CYCLES;
  if (edges >= budget) return 0;
  uint32_t max = (budget - edges) / (HAL_TICK_CYCLES(nvals) + (special ? HAL_SPECIAL_TICK_CYCLES : 0));
  if (edges_per_s && max > HAL_PULSE_MAX_RATE) max = HAL_PULSE_MAX_RATE;
  /* the highest rate the sample clock makes exactly at or below the limit */
  if (max == 0) return 0;
  uint32_t div = (HAL_CLOCK_HZ + max - 1) / max;
  return HAL_CLOCK_HZ / div;
}
static inline uint16_t hal_pulse_late(void) { return pl_late; }
static inline uint16_t hal_dac_errors(void) { return dac_errors; }

static void hal_pulse_stop(void) {
  pl_active = 0;
  pl_armed = 0;
  pl_skip = 0;
  OCR1B = PL_PARK;
  TCCR1A &= (uint8_t)~(_BV(COM1B1) | _BV(COM1B0)); /* pin back to PORT */
  PULSE_PORT &= (uint8_t)~_BV(PULSE_BIT);
}

static uint8_t pl_alarm;
#define PL_COM_TOGGLE _BV(COM1B0)
/* Arms the next edge from the Timer1 interrupts (hal_avr_isr.h: the period count is the engine's tick_index). */
static inline __attribute__((always_inline)) void hal_pulse_arm(void);

static inline void hal_outputs_zero_stim(void) {
  OCR2A = 0;
  TCCR2A &= (uint8_t)~(_BV(COM2A1) | _BV(COM2A0)); /* pin back to PORT: a hard low, no 1-cycle glitch */
  STIM_PORT &= (uint8_t)~_BV(STIM_BIT);
}

static void hal_outputs_zero(void) {
  hal_outputs_zero_stim();
  hal_pulse_stop();
  if (stim_out == SL_OUT_MCP4725) hal_dac_write_sync(0);
}

static void hal_outputs_enable(void) {
  if (stim_out == SL_OUT_PWM) TCCR2A |= _BV(COM2A1); /* non-inverting PWM on OC2A */
}

static void hal_init(void) {
  STIM_DDR |= _BV(STIM_BIT);
  PULSE_DDR |= _BV(PULSE_BIT);
  /* Timer2: fast PWM 8-bit, no prescaler; output disconnected until a run starts */
  TCCR2A = _BV(WGM21) | _BV(WGM20);
  TCCR2B = _BV(CS20);
  hal_outputs_zero_stim();
  PULSE_PORT &= (uint8_t)~_BV(PULSE_BIT);
  TWCR = 0;
  /* Timer1 stopped */
  TCCR1A = 0;
  TCCR1B = 0;
  TIMSK1 = 0;
  /* ADC: AVcc reference, prescaler 16, interrupt on completion */
  ADMUX = _BV(REFS0);
  ADCSRB = 0;
  ADCSRA = _BV(ADEN) | _BV(ADIE) | _BV(ADPS2);
  DIDR0 = 0x3f;
  /* USART0: 1 Mbaud, 8N1 */
  UCSR0A = _BV(U2X0);
  UBRR0 = (uint16_t)(F_CPU / (8UL * HAL_BAUD) - 1);
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
  /* A lone delimiter first: it ends any partial frame the host's decoder holds from before the reset
   * (PROTOCOL.md). The transmitter is empty after reset, so this write never waits. */
  UDR0 = 0;
  wdt_enable(WDTO_120MS);
}

/* Finds prescaler and compare value for the rate; returns the divider (clock ticks per sample) or 0. */
static uint32_t hal_sampling_configure(uint32_t rate_hz, uint8_t *cs_bits, uint16_t *ocr) {
  static const uint16_t presc[5] = {1, 8, 64, 256, 1024};
  if (rate_hz == 0) return 0;
  for (uint8_t i = 0; i < 5; i++) {
    uint32_t top = (F_CPU / presc[i] + rate_hz / 2) / rate_hz; /* nearest */
    if (top >= 2 && top <= 65535UL) { /* OCR1A <= 0xfffe: OCR1B = 0xffff parks the pulse compare unit */
      *cs_bits = (uint8_t)(i + 1);
      *ocr = (uint16_t)(top - 1);
      return top * presc[i];
    }
  }
  return 0;
}

static uint8_t hal_cs_bits;
static uint16_t hal_ocr;

static inline uint16_t hal_pulse_prescaler(void) {
  switch (hal_cs_bits) {
    case 1: return 1;
    case 2: return 8;
    case 3: return 64;
    case 4: return 256;
    case 5: return 1024;
    default: return 0;
  }
}

/* Largest pulse time in us (times 16 counts per us stays in 32 bits). */
#define HAL_PULSE_MAX_US 0x0fffffffUL

/* Converts the pulse train (us) to Timer1 counts for the configured sample clock; 0 if it does not fit. */
static uint8_t hal_pulse_setup(uint32_t delay_us, uint32_t width_us, uint32_t period_us, uint32_t count) {
  uint16_t presc = hal_pulse_prescaler();
  if (!presc || delay_us > HAL_PULSE_MAX_US || period_us > HAL_PULSE_MAX_US) return 0;
  const uint32_t cpu = F_CPU / 1000000UL;
  uint32_t d = (delay_us * cpu + presc / 2) / presc, w = (width_us * cpu + presc / 2) / presc,
           p = (period_us * cpu + presc / 2) / presc;
  if (w == 0 || w >= p) return 0;
  ps_init(&pl, (uint16_t)(hal_ocr + 1u), d, w, p, count);
  /* the guard covers the ~120 cycles from reading TCNT1 to the compare register write; the window the tick
   * interrupt's worst latency plus the guard */
  pl_guard = presc == 1 ? 160 : presc == 8 ? 20 : 3;
  pl_window = (uint16_t)(presc == 1 ? 800 : presc == 8 ? 100 : 13);
  return 1;
}

static void hal_sampling_start(uint8_t pulses) {
  hal_pend = 0;
  hal_gap = 0;
  TCCR1B = 0;
  TCNT1 = 0;
  OCR1A = hal_ocr;
  OCR1B = PL_PARK;
  pl_skip = 0;
  pl_armed = 0;
  pl_alarm = 0;
  pl_late = 0;
  pl_active = pulses;
  /* the tick interrupt's special variant (hal_avr_isr.h): bit 0 pulses or DAC, bit 1 DAC */
  GPIOR0 = (uint8_t)((pulses || stim_out == SL_OUT_MCP4725 ? 1 : 0) | (stim_out == SL_OUT_MCP4725 ? 2 : 0));
  /* the tick's last conversion interrupts only when the DAC write waits for it (hal_avr_isr.h) */
  hal_adcsra_last = (uint8_t)(hal_adcsra | (stim_out == SL_OUT_MCP4725 ? _BV(ADIE) : 0));
  /* OC1B latch to low (force a compare in clear mode), then toggle on every compare match */
  TCCR1A = _BV(COM1B1);
  TCCR1C = _BV(FOC1B);
  PULSE_PORT &= (uint8_t)~_BV(PULSE_BIT);
  TCCR1A = pulses ? _BV(COM1B0) : 0;
  TIFR1 = _BV(OCF1A) | _BV(OCF1B);
  TCCR1B = _BV(WGM12) | hal_cs_bits; /* CTC, TOP = OCR1A */
  if (pulses) hal_pulse_arm();
  TIMSK1 = pulses ? (uint8_t)(_BV(OCIE1A) | _BV(OCIE1B)) : _BV(OCIE1A);
}

static void hal_sampling_stop(void) {
  TIMSK1 = 0;
  TCCR1B = 0;
}

/* ADC clock: F_CPU/16 (1 MHz, 13 us per conversion) when the budget allows, else F_CPU/8 (2 MHz, 6.5 us;
 * about 9 effective bits on a real ATmega328P). Chosen per configuration by hal_adc_clock(). */
static void hal_adc_clock(uint32_t conversions_per_s) {
  uint8_t ps = conversions_per_s > 30000UL ? (_BV(ADPS1) | _BV(ADPS0)) : _BV(ADPS2);
  ADCSRA = (uint8_t)((ADCSRA & ~(_BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0))) | ps);
  hal_adcsra = (uint8_t)(_BV(ADEN) | ps);
}

static inline __attribute__((always_inline)) void hal_adc_start(uint8_t pin) {
  ADMUX = (uint8_t)(_BV(REFS0) | (pin & 0x07));
  ADCSRA |= _BV(ADSC);
}

/* Pipelined conversions (hal_avr_isr.h): ADCSRA is written whole (enable + prescaler from hal_adc_clock); the
 * conversion-complete interrupt stores the inputs before a tick's last one; the last runs without interrupt
 * and the next sample interrupt reads it and packs the whole tick (or hal_adc_finish when sampling stops). */
static inline __attribute__((always_inline)) uint16_t hal_adc_read_last(void) {
  while (ADCSRA & _BV(ADSC)) {
  } /* done long ago unless the rate is at the ADC's limit */
  return ADC;
}
/* Publishes the pipelined tick, its last conversion read from the ADC (sample interrupt, or at stop with
 * interrupts off; used by daq_engine.h). */
#define hal_adc_finish()                                                                       \
  do {                                                                                         \
    if (hal_pend) {                                                                            \
      uint16_t last_ = hal_adc_read_last();                                                    \
      hal_pend = 0;                                                                            \
      if (hal_slot) {                                                                          \
        *hal_last = last_;                                                                     \
        uint8_t h_ = (uint8_t)((ring_head + 1) & (ENGINE_RING - 1));                           \
        ring_head = h_;                                                                        \
        if ((uint8_t)((h_ - ring_tail) & (ENGINE_RING - 1)) >= ENGINE_BATCH) hal_wake = 1;     \
      } else {                                                                                 \
        dropped_ticks++; /* the ring was full when it started: the packer or the link is behind */ \
        hal_gap = 1;                                                                           \
      }                                                                                        \
    }                                                                                          \
  } while (0)

/* ---- host link ---- */
#define RX_RING 64
static volatile uint8_t rx_ring[RX_RING];
static volatile uint8_t rx_head, rx_tail;
static volatile uint8_t rx_overflow;

ISR(HAL_USART_RX_vect) {
  uint8_t b = UDR0;
  uint8_t n = (uint8_t)((rx_tail + 1) & (RX_RING - 1));
  if (n == rx_head) { rx_overflow = 1; return; }
  rx_ring[rx_tail] = b;
  rx_tail = n;
  hal_wake = 1;
}

static inline uint8_t hal_rx_pending(void) { return rx_head != rx_tail; }

static inline int16_t hal_uart_read(void) {
  if (rx_head == rx_tail) return -1;
  uint8_t b = rx_ring[rx_head];
  rx_head = (uint8_t)((rx_head + 1) & (RX_RING - 1));
  return b;
}

/* TX: one frame at a time, in wire form (COBS-encoded, ending with its 0x00 delimiter), sent by the
 * data-register-empty interrupt (hal_avr_isr.h) straight from the frame buffer; the delimiter ends it. */
#define HAL_UCSR0B_IDLE (_BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0))
static const uint8_t *hal_tx_ptr;
static volatile uint8_t hal_tx_on;

static inline void hal_tx_start(const uint8_t *frame, uint16_t len) {
  (void)len;
  hal_tx_ptr = frame;
  hal_tx_on = 1;
  __asm__ __volatile__("" ::: "memory"); /* the pointer is in place before the interrupt can fire */
  UCSR0B = HAL_UCSR0B_IDLE | _BV(UDRIE0);
}
static inline uint8_t hal_tx_busy(void) { return hal_tx_on; }
static inline void hal_tx_stop(void) {
  UCSR0B = HAL_UCSR0B_IDLE;
  hal_tx_on = 0;
  hal_wake = 1;
}
/* Transmit interrupt, frame done: the next frame (tx_next, spikeloop_daq.cpp) or stop. */
extern "C" void hal_tx_end(void);
#define HAL_TX_CHAINED 1
static inline void hal_kick(void) { wdt_reset(); }
static inline uint8_t hal_reset_cause(void) { return hal_reset_cause_value; }


/* link budget: 10 line bits per byte */
#define HAL_LINK_BYTES_PER_S (HAL_BAUD / 10)

static inline uint8_t hal_rx_overflowed(void) {
  if (!rx_overflow) return 0;
  rx_overflow = 0;
  return 1;
}

/* Idle: sleeps until an interrupt leaves work for the main loop (hal_wake) or the millisecond clock moves
 * (the host watchdog is checked every millisecond). Every other wake-up (a byte sent, a conversion, the
 * millisecond timer) costs only this loop's few cycles. The check and the sleep are atomic: `sei` lets one
 * more instruction (the sleep) run before any interrupt. */
extern "C" volatile unsigned long timer0_millis; /* the Arduino core's millisecond counter (wiring.c) */
static inline void hal_wait(void) {
  uint8_t ms = *(volatile uint8_t *)&timer0_millis;
  SMCR = _BV(SE); /* idle mode: timers, ADC and USART keep running */
  for (;;) {
    cli();
    if (hal_wake || *(volatile uint8_t *)&timer0_millis != ms) break;
    sei();
    sleep_cpu();
    /* simavr services an interrupt that was already pending at `sei` only two instructions later (the AVR:
     * one); without this the `cli` above would follow the (skipped) sleep and hold it off for good */
    __asm__ __volatile__("nop");
  }
  hal_wake = 0;
  sei();
  SMCR = 0;
}
