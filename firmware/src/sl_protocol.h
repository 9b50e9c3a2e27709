/*
 * spikeloop DAQ wire protocol: framing primitives shared by the firmware (AVR, Teensy) and the host-side
 * C unit tests. Portable C99, no allocation, no I/O. The byte layouts are specified in ../PROTOCOL.md.
 *
 * A frame on the wire is COBS(body) followed by one 0x00 delimiter, where
 *   body = type u8 | seq u8 | payload (0..SL_MAX_PAYLOAD bytes) | crc16 u16 little-endian
 * and crc16 is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout) over type..payload.
 */
#ifndef SL_PROTOCOL_H
#define SL_PROTOCOL_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_PROTOCOL_VERSION 1
/* Minor version (HELLO_REPLY byte 24): 1 = stimulus programs (SEGMENTS), output select, timer pulses in us. */
#define SL_PROTOCOL_MINOR 1
/* Longest body (type + seq + payload + crc); COBS then adds exactly one byte, the delimiter one more. */
#define SL_MAX_BODY 254
#define SL_MAX_PAYLOAD (SL_MAX_BODY - 4)

/* Host -> board */
#define SL_T_HELLO 0x01
#define SL_T_CONFIGURE 0x02
#define SL_T_WAVEFORM 0x03
#define SL_T_PULSES 0x04
#define SL_T_START 0x05
#define SL_T_STOP 0x06
#define SL_T_HEARTBEAT 0x07
#define SL_T_SEGMENTS 0x08
/* Board -> host */
#define SL_T_ACK 0x80
#define SL_T_HELLO_REPLY 0x81
#define SL_T_CONFIGURED 0x82
#define SL_T_DATA 0x83
#define SL_T_ERROR 0x84
#define SL_T_BOOT 0x85
#define SL_T_STATUS 0x87

/* Error codes (ERROR frame, ACK status) */
#define SL_E_OK 0
#define SL_E_CRC 1
#define SL_E_FRAME 2
#define SL_E_UNKNOWN_TYPE 3
#define SL_E_BAD_ARG 4
#define SL_E_BAD_STATE 5
#define SL_E_WATCHDOG 6
#define SL_E_OVERRUN 7
#define SL_E_VERSION 8
#define SL_E_BUDGET 9
#define SL_E_DAC_RATE 10
#define SL_E_CPU_RATE 11

/* Stimulus outputs (CONFIGURE output byte; HELLO_REPLY outputs bitmask bit n = output n available) */
#define SL_OUT_PWM 0
#define SL_OUT_MCP4725 1
/* HELLO_REPLY outputs bitmask bit 7: digital pulse train on a hardware output-compare timer */
#define SL_CAP_TIMER_PULSES 0x80

/* Board identifiers (HELLO_REPLY) */
#define SL_BOARD_UNO 1
#define SL_BOARD_MEGA 2
#define SL_BOARD_TEENSY4 3

uint16_t sl_crc16_update(uint16_t crc, uint8_t b);
/* The same CRC step without a table (shift/xor form of poly 0x1021), cheap enough to inline on an AVR. */
static inline __attribute__((always_inline)) uint16_t sl_crc16_step(uint16_t crc, uint8_t b) {
  uint8_t x = (uint8_t)((crc >> 8) ^ b);
  x ^= (uint8_t)(x >> 4);
  return (uint16_t)((crc << 8) ^ ((uint16_t)x << 12) ^ ((uint16_t)x << 5) ^ x);
}
uint16_t sl_crc16(const uint8_t *p, size_t n);

/* Table-driven CRC step: crc' = (crc << 8) ^ T[(crc >> 8) ^ b], T split into high and low bytes so a step is
 * two byte loads (from flash on AVR) and one xor. This is what the firmware's hot paths use. */
#if defined(__AVR__)
#include <avr/pgmspace.h>
#define SL_ROM PROGMEM
#define SL_ROM_BYTE(p) pgm_read_byte(p)
#else
#define SL_ROM
#define SL_ROM_BYTE(p) (*(p))
#endif
/* sl_crc16_table[i] = high byte of T[i], sl_crc16_table[256 + i] = low byte; 256-byte aligned, so on AVR
 * the index is the low byte of the flash address. */
extern const uint8_t sl_crc16_table[512] SL_ROM;
static inline __attribute__((always_inline)) uint16_t sl_crc16_tab_step(uint16_t crc, uint8_t b) {
  uint8_t i = (uint8_t)((uint8_t)(crc >> 8) ^ b);
  return (uint16_t)(((uint16_t)(uint8_t)((uint8_t)crc ^ SL_ROM_BYTE(sl_crc16_table + i)) << 8) |
                    SL_ROM_BYTE(sl_crc16_table + 256 + i));
}

/* Seals a frame built in its wire buffer: the body (n bytes, n + 2 <= SL_MAX_BODY) sits at wire + 1; appends
 * the CRC, COBS-encodes the body in place (wire[0] becomes the first code byte; a body this short never needs
 * a 254-byte group, so every zero just becomes a code pointing at the next) and the 0x00 delimiter. Returns
 * the wire length, delimiter included (n + 4). Two tight passes over the frame, once per frame: cheaper on an
 * AVR than CRC-ing and stuffing byte by byte as samples are packed. */
uint16_t sl_frame_seal(uint8_t *wire, uint16_t n);
/* The two halves of sl_frame_seal, for sealing in steps: the CRC over n more bytes, and the rest (CRC appended,
 * COBS in place, delimiter; returns the wire length). */
uint16_t sl_crc16_run(uint16_t crc, const uint8_t *p, uint16_t n);
uint16_t sl_frame_finish(uint8_t *wire, uint16_t n, uint16_t crc);

/* One-shot COBS encode of n bytes (n <= SL_MAX_BODY) into out (>= n + 2 bytes); returns the encoded
 * length without the delimiter. */
size_t sl_cobs_encode(const uint8_t *in, size_t n, uint8_t *out);

/* Streaming COBS encoder: emits the encoded frame byte by byte straight from the body buffer (no copy),
 * the final 0x00 delimiter included. */
typedef struct {
  const uint8_t *buf;
  uint16_t len;
  uint16_t pos;
  uint8_t remaining; /* data bytes left in the current group */
  uint8_t full;      /* current group is a full 254-byte group (code 0xFF) */
  uint8_t phase;     /* 0 code, 1 data, 2 delimiter, 3 done */
} sl_cobs_tx;

void sl_cobs_tx_begin(sl_cobs_tx *tx, const uint8_t *buf, uint16_t len);
/* Next byte of the encoded frame, or -1 when the delimiter has been emitted. */
int16_t sl_cobs_tx_next(sl_cobs_tx *tx);

/* COBS-encodes len bytes straight to put() (one call per encoded byte, the 0x00 delimiter last). This is
 * what the firmware sends with: no copy, no per-byte state machine. */
void sl_cobs_send(const uint8_t *buf, uint16_t len, void (*put)(uint8_t));

/* Streaming COBS decoder with a capped buffer. Feed every received byte; at a delimiter it returns the
 * decoded length (>= 1), or SL_RX_ERROR for a frame that was malformed or longer than the buffer (the
 * frame is dropped, never delivered in part). Returns 0 while a frame is in progress and for empty frames. */
#define SL_RX_ERROR (-1)
typedef struct {
  uint8_t *buf;
  uint16_t cap;
  uint16_t len;
  uint8_t left;     /* data bytes left in the current group */
  uint8_t code;     /* current group's code, 0 before the first */
  uint8_t overflow; /* frame exceeded cap or was malformed */
} sl_cobs_rx;

void sl_cobs_rx_init(sl_cobs_rx *rx, uint8_t *buf, uint16_t cap);
int16_t sl_cobs_rx_feed(sl_cobs_rx *rx, uint8_t b);

/* Builds a body in buf (cap >= n + 4): type, seq, payload, crc. Returns the body length. */
uint16_t sl_body_build(uint8_t *buf, uint8_t type, uint8_t seq, const uint8_t *payload, uint16_t n);
/* Checks length and CRC of a decoded body; returns SL_E_OK, SL_E_FRAME or SL_E_CRC. */
uint8_t sl_body_check(const uint8_t *body, uint16_t len);

/* LSB-first bit packing of `bits`-wide samples (1..16): sample i occupies bits [bits*i, bits*i + bits). */
void sl_pack(uint8_t *dst, uint16_t i, uint16_t value, uint8_t bits);
uint16_t sl_unpack(const uint8_t *src, uint16_t i, uint8_t bits);
/* Bytes needed for n samples of `bits` bits. */
uint16_t sl_packed_len(uint16_t n, uint8_t bits);

static inline void sl_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void sl_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint16_t sl_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
static inline uint32_t sl_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#ifdef __cplusplus
}
#endif
#endif
