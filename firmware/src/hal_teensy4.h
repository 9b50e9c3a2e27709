/*
 * Hardware layer: Teensy 4.0 / 4.1 (i.MX RT1062, 600 MHz), built with Teensyduino (Arduino IDE or
 * arduino-cli with the teensy:avr core: `arduino-cli compile -b teensy:avr:teensy40 firmware/src`, the sketch
 * being spikeloop_daq.cpp). Documented port, not built in CI (no Teensy toolchain in Debian).
 *   sample clock  IntervalTimer (PIT), period in µs as a float: exact for rates dividing 1 MHz
 *   ADC           analogRead, 12-bit, averaging 1 (~1-2 µs per conversion), A0..A7
 *   stimulus      analogWrite on pin 9 at 12 bits (FlexPWM, 36.6 kHz) into an RC filter, or an MCP4725 on I2C
 *   pulse train   pin 7
 *   host link     USB serial (480 Mbit/s), the baud rate is ignored
 */
#pragma once
#include <Arduino.h>
#include <IntervalTimer.h>

#define STIM_T uint16_t
#define SAMPLE_BITS 12
#define STIM_BITS 12
#define ENGINE_MAX_PACKED 240
#define ENGINE_MAX_WAVE 4096
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
static inline void hal_pulse_write(uint8_t level) { digitalWriteFast(HAL_PULSE_PIN, level ? HIGH : LOW); }

static void hal_outputs_zero(void) {
  analogWrite(HAL_STIM_PIN, 0);
  digitalWriteFast(HAL_PULSE_PIN, LOW);
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
static void hal_sampling_start(void) { hal_timer.begin(hal_timer_isr, hal_period_us); }
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
