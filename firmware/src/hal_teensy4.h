/*
 * Hardware layer: Teensy 4.0 / 4.1 (i.MX RT1062, 600 MHz), built with Teensyduino (Arduino IDE or
 * arduino-cli with the teensy:avr core: `arduino-cli compile -b teensy:avr:teensy40 firmware/src`, the sketch
 * being spikeloop_daq.cpp). Documented port, not built in CI (no Teensy toolchain in Debian).
 *   sample clock  IntervalTimer (PIT), period in µs as a float: exact for rates dividing 1 MHz
 *   ADC           analogRead, 12-bit, averaging 1 (~1-2 µs per conversion), A0..A7
 *   stimulus      analogWrite on pin 9 at 12 bits (FlexPWM, 36.6 kHz) into an RC filter, or an MCP4725 on I2C
 *                 (LPI2C1, pins 18 SDA / 19 SCL, 400 kHz): a fast write is queued as four words in the LPI2C
 *                 transmit FIFO (START+address, two data bytes, STOP) and the peripheral clocks it out on its
 *                 own, so the sample interrupt never waits for the bus
 *   pulse train   pin 7, toggled by the interrupt of its own PIT channel (IntervalTimer, 24 MHz: 41.7 ns
 *                 steps, ~50 ns interrupt latency at 600 MHz); the i.MX RT's PIT has no output pin, so this is
 *                 a timer interrupt, not a hardware output compare as on AVR
 *   host link     USB serial (480 Mbit/s), the baud rate is ignored
 */
#pragma once
#include <Arduino.h>
#include <IntervalTimer.h>

#include <Wire.h>

#define STIM_T uint16_t
#define SAMPLE_BITS 12
#define STIM_BITS 12
#define ENGINE_MAX_PACKED 240
#define ENGINE_WAVE_BYTES 16384 /* 8192 12-bit entries */
#define ENGINE_MAX_SEGMENTS 128
#define SEG_IDX_T uint16_t
#define HAL_OUTPUTS ((1u << SL_OUT_PWM) | (1u << SL_OUT_MCP4725) | SL_CAP_TIMER_PULSES)
#define HAL_DAC_BITS 12
/* one fast write: 29 SCL clocks at 400 kHz = 72.5 us, clocked out by the LPI2C while the CPU samples */
#define HAL_DAC_MAX_RATE(nadc) (1000000UL / 80UL)
#define HAL_PULSE_MIN_US 2
#define ENGINE_NBLOCK 8
#define ENGINE_RING 64
#define HAL_ANALOG_INPUTS 8
#define HAL_BOARD SL_BOARD_TEENSY4
#define HAL_BOARD_NAME "teensy4"
#define HAL_MAX_CONVERSIONS 1000000UL
#define HAL_LINK_BYTES_PER_S 20000000UL
#define HAL_STIM_PIN 9
#define HAL_PULSE_PIN 7

static IntervalTimer hal_timer;
static float hal_period_us;
static uint8_t hal_cs_bits; /* unused on Teensy; kept for the shared configure code */
static uint16_t hal_ocr;

static inline uint8_t hal_reset_cause(void) { return (uint8_t)(SRC_SRSR & 0xff); }
static inline void hal_kick(void) {}
static inline uint8_t hal_rx_overflowed(void) { return 0; }

static inline void hal_stim_write(uint16_t v) { analogWrite(HAL_STIM_PIN, v); }

/* ---- MCP4725 through the LPI2C1 transmit FIFO ---- */
#define DAC_DEFAULT_ADDR 0x60
#define LPI2C_CMD_TX (0u << 8)
#define LPI2C_CMD_STOP (2u << 8)
#define LPI2C_CMD_START (4u << 8)
static uint8_t stim_out;
static uint8_t dac_addr = DAC_DEFAULT_ADDR;
static volatile uint16_t dac_errors;

static inline void hal_dac_start(uint16_t code) {
  IMXRT_LPI2C_t *i2c = &IMXRT_LPI2C1;
  if (i2c->MSR & LPI2C_MSR_NDF) { i2c->MSR = LPI2C_MSR_NDF; dac_errors++; } /* the last write was NACKed */
  if ((i2c->MFSR & 0x7) != 0) { dac_errors++; return; }                        /* still on the bus */
  i2c->MTDR = LPI2C_CMD_START | (uint32_t)(dac_addr << 1);
  i2c->MTDR = LPI2C_CMD_TX | ((code >> 8) & 0x0f); /* fast mode, PD = 00, D11..D8 */
  i2c->MTDR = LPI2C_CMD_TX | (code & 0xff);
  i2c->MTDR = LPI2C_CMD_STOP;
}

static void hal_dac_write_sync(uint16_t code) {
  IMXRT_LPI2C_t *i2c = &IMXRT_LPI2C1;
  elapsedMicros t;
  while ((i2c->MFSR & 0x7) != 0 && t < 2000) {
  }
  hal_dac_start(code);
  while (!(i2c->MSR & LPI2C_MSR_SDF) && t < 4000) {
  }
  i2c->MSR = LPI2C_MSR_SDF;
}

static void hal_stim_select(uint8_t out, uint8_t addr7) {
  stim_out = out;
  if (out == SL_OUT_MCP4725) {
    dac_addr = addr7 ? addr7 : DAC_DEFAULT_ADDR;
    Wire.begin(); /* pins, clock gate and LPI2C1 master setup */
    Wire.setClock(400000);
    analogWrite(HAL_STIM_PIN, 0);
    hal_dac_write_sync(0);
  }
}

/* ---- pulse train: a PIT channel whose interrupt toggles the pin at the edge times ---- */
static IntervalTimer hal_pulse_timer;
static uint32_t pl_d, pl_w, pl_p, pl_count, pl_left; /* in PIT ticks (24 MHz) */
static volatile uint8_t pl_level, pl_active;
static volatile uint16_t pl_late;
#define PL_TICKS_PER_US 24UL
static inline uint16_t hal_pulse_prescaler(void) { return 1; } /* resolution 1 / 24 MHz (HAL_PULSE_CLOCK_HZ) */
static inline uint16_t hal_pulse_late(void) { return pl_late; }
static inline uint16_t hal_dac_errors(void) { return dac_errors; }

static uint8_t hal_pulse_setup(uint32_t delay_us, uint32_t width_us, uint32_t period_us, uint32_t count) {
  if (width_us == 0 || width_us >= period_us || period_us > 0xffffffffUL / PL_TICKS_PER_US) return 0;
  pl_d = delay_us * PL_TICKS_PER_US;
  pl_w = width_us * PL_TICKS_PER_US;
  pl_p = period_us * PL_TICKS_PER_US;
  pl_count = count;
  return 1;
}

/* PIT semantics: a new load value takes effect at the next reload, so when edge k fires (and the interval to
 * edge k + 1 is already counting) the interval to edge k + 2 is loaded; the edges do not drift. */
static void hal_pulse_edge(void) {
  pl_level ^= 1;
  digitalWriteFast(HAL_PULSE_PIN, pl_level ? HIGH : LOW);
  if (pl_count && --pl_left == 0) { hal_pulse_timer.end(); pl_active = 0; return; }
  hal_pulse_timer.update((float)(pl_level ? pl_p - pl_w : pl_w) / PL_TICKS_PER_US);
}

static void hal_pulse_stop(void) {
  hal_pulse_timer.end();
  pl_active = 0;
  pl_level = 0;
  digitalWriteFast(HAL_PULSE_PIN, LOW);
}

static void hal_outputs_zero(void) {
  analogWrite(HAL_STIM_PIN, 0);
  hal_pulse_stop();
  if (stim_out == SL_OUT_MCP4725) hal_dac_write_sync(0);
}

static void hal_outputs_enable(void) {}

static void hal_init(void) {
  pinMode(HAL_PULSE_PIN, OUTPUT);
  analogWriteResolution(12);
  analogWriteFrequency(HAL_STIM_PIN, 36621.09);
  hal_outputs_zero();
  analogReadResolution(12);
  analogReadAveraging(1);
  Serial.begin(1000000);
  Serial.write((uint8_t)0); /* lone delimiter: ends any partial frame at the host (PROTOCOL.md) */
}

static void hal_adc_clock(uint32_t conversions_per_s) { (void)conversions_per_s; }
/* conversions are done inside the sample interrupt: nothing pipelined to collect at stop */
#define hal_adc_finish() ((void)0)
#define hal_ring_reset() ((void)0)

/* Divider in 1 MHz ticks (the PIT runs at 24 MHz but IntervalTimer takes µs); clock reported as 1 MHz. */
#define HAL_CLOCK_HZ 1000000UL
static uint32_t hal_sampling_configure(uint32_t rate_hz, uint8_t *cs_bits, uint16_t *ocr) {
  if (rate_hz == 0 || rate_hz > 1000000UL) return 0;
  uint32_t div = (1000000UL + rate_hz / 2) / rate_hz;
  if (div < 1) div = 1;
  *cs_bits = 0;
  *ocr = 0;
  hal_period_us = (float)div;
  return div;
}

static void hal_timer_isr(void);
static uint8_t pl_first_pending;
static void hal_sampling_start(uint8_t pulses) {
  pl_level = 0;
  pl_left = pl_count ? 2 * pl_count : 0;
  pl_active = pulses;
  pl_first_pending = pulses; /* the delay is counted from tick 0: the first tick starts the pulse timer */
  pl_late = 0;
  hal_timer.begin(hal_timer_isr, hal_period_us);
}
static void hal_sampling_stop(void) { hal_timer.end(); }

static inline uint8_t hal_rx_pending(void) { return Serial.available() > 0; }
static inline int16_t hal_uart_read(void) { return Serial.available() ? (int16_t)Serial.read() : -1; }

/* TX: whole frames in wire form; USB serial buffers them, so the transmitter is never busy for long. */
static volatile uint8_t hal_wake;
static inline void hal_tx_start(const uint8_t *frame, uint16_t len) { Serial.write(frame, len); }
static inline uint8_t hal_tx_busy(void) { return 0; }

static inline void hal_wait(void) {
  hal_wake = 0;
  if (!Serial.available()) asm volatile("wfi");
}
