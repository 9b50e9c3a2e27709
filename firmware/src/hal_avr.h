/*
 * Hardware layer: ATmega328P (Uno, Nano) and ATmega2560 (Mega) at 16 MHz.
 *   sample clock  Timer1 in CTC mode, interrupt on compare A: exact rate F_CPU / (prescaler * (OCR1A + 1))
 *   ADC           AVcc reference, prescaler 16 (1 MHz ADC clock, 13 us per conversion), started from the
 *                 sample interrupt, one channel after the other from the conversion-complete interrupt; the
 *                 tick's last conversion runs without interrupt and the next sample interrupt reads it
 *   stimulus      Timer2 fast PWM on OC2A (Uno D11 / Mega D10), 62.5 kHz carrier, 8-bit; an RC filter on the
 *                 pin makes the analog voltage (docs/daq/wiring.md)
 *   pulse train   D7, switched at the sample tick
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

#define STIM_T uint8_t
#define SAMPLE_BITS 10
#define STIM_BITS 8
#define ENGINE_MAX_PACKED 240
#define ENGINE_MAX_WAVE 256
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
#define PULSE_DDR DDRH
#define PULSE_PORT PORTH
#define PULSE_BIT PH4 /* D7 on the Mega */
#define HAL_USART_RX_vect USART0_RX_vect
#else
#define PULSE_DDR DDRD
#define PULSE_PORT PORTD
#define PULSE_BIT PD7 /* D7 on Uno/Nano */
#define HAL_USART_RX_vect USART_RX_vect
#endif

static uint8_t hal_reset_cause_value;
/* Set by an interrupt that leaves work for the main loop (tick complete, byte received, frame sent). */
static volatile uint8_t hal_wake;
/* ADC: enable + prescaler (hal_adc_clock); the tick in the conversion pipeline (conversions started, not yet
 * published): its ring slot (0: ring full, the tick is dropped when complete) and where its results go */
static uint8_t hal_adcsra = _BV(ADEN) | _BV(ADPS2);
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

static inline __attribute__((always_inline)) void hal_stim_write(uint8_t v) {
  OCR2A = v;
}

static inline __attribute__((always_inline)) void hal_pulse_write(uint8_t level) {
  if (level) PULSE_PORT |= _BV(PULSE_BIT);
  else PULSE_PORT &= (uint8_t)~_BV(PULSE_BIT);
}

static void hal_outputs_zero(void) {
  OCR2A = 0;
  TCCR2A &= (uint8_t)~(_BV(COM2A1) | _BV(COM2A0)); /* pin back to PORT: a hard low, no 1-cycle glitch */
  STIM_PORT &= (uint8_t)~_BV(STIM_BIT);
  hal_pulse_write(0);
}

static void hal_outputs_enable(void) {
  TCCR2A |= _BV(COM2A1); /* non-inverting PWM on OC2A */
}

static void hal_init(void) {
  STIM_DDR |= _BV(STIM_BIT);
  PULSE_DDR |= _BV(PULSE_BIT);
  /* Timer2: fast PWM 8-bit, no prescaler; output disconnected until a run starts */
  TCCR2A = _BV(WGM21) | _BV(WGM20);
  TCCR2B = _BV(CS20);
  hal_outputs_zero();
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
    if (top >= 2 && top <= 65536UL) {
      *cs_bits = (uint8_t)(i + 1);
      *ocr = (uint16_t)(top - 1);
      return top * presc[i];
    }
  }
  return 0;
}

static uint8_t hal_cs_bits;
static uint16_t hal_ocr;

static void hal_sampling_start(void) {
  hal_pend = 0;
  hal_gap = 0;
  TCCR1B = 0;
  TCNT1 = 0;
  OCR1A = hal_ocr;
  TIFR1 = _BV(OCF1A);
  TCCR1B = _BV(WGM12) | hal_cs_bits; /* CTC, TOP = OCR1A */
  TIMSK1 = _BV(OCIE1A);
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
