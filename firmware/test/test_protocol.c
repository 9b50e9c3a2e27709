/* Host-side unit tests of the wire-protocol C code (sl_protocol.c), built with the host gcc:
 *   make -C firmware test
 * Prints "ok N checks" and exits 0, or prints the first failure and exits 1. With "--emit FILE" it also
 * writes a sample of encoded frames for the TypeScript decoder's cross-check (test/daq-protocol.test.ts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sl_protocol.h"

static int checks;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); exit(1); } } while (0)

static uint8_t sent[600];
static size_t sent_n;
static void put(uint8_t b) { sent[sent_n++] = b; }

static uint32_t rng = 12345;
static uint32_t rnd(void) { rng = rng * 1103515245u + 12345u; return rng >> 8; }

static void roundtrip(const uint8_t *in, uint16_t n) {
  uint8_t enc[600], dec[600];
  size_t k = sl_cobs_encode(in, n, enc);
  CHECK(k <= (size_t)n + 1 + n / 254, "cobs overhead %zu for %u", k, n);
  for (size_t i = 0; i < k; i++) CHECK(enc[i] != 0, "zero inside encoded frame");
  sent_n = 0;
  sl_cobs_send(in, n, put);
  CHECK(sent_n == k + 1 && memcmp(sent, enc, k) == 0 && sent[k] == 0, "sl_cobs_send differs from sl_cobs_encode (n=%u)", n);
  sl_cobs_tx tx;
  sl_cobs_tx_begin(&tx, in, n);
  size_t j = 0;
  int16_t b;
  while ((b = sl_cobs_tx_next(&tx)) >= 0) {
    CHECK(j < sizeof sent && sent[j] == (uint8_t)b, "streaming encoder differs at %zu (n=%u)", j, n);
    j++;
  }
  CHECK(j == k + 1, "streaming encoder length %zu != %zu", j, k + 1);
  sl_cobs_rx rx;
  sl_cobs_rx_init(&rx, dec, sizeof dec);
  int16_t r = 0;
  for (size_t i = 0; i <= k; i++) {
    r = sl_cobs_rx_feed(&rx, i < k ? enc[i] : 0);
    if (i < k) CHECK(r == 0, "early result");
  }
  if (n == 0) CHECK(r == 0, "empty body decodes to nothing");
  else CHECK(r == (int16_t)n && memcmp(dec, in, n) == 0, "roundtrip mismatch n=%u r=%d", n, r);
}

int main(int argc, char **argv) {
  /* CRC-16/CCITT-FALSE check value */
  CHECK(sl_crc16((const uint8_t *)"123456789", 9) == 0x29b1, "crc check value %04x", sl_crc16((const uint8_t *)"123456789", 9));
  /* the inline shift/xor CRC step the firmware uses equals the table version */
  for (uint32_t c = 0; c < 0x10000; c += 251) {
    for (int b = 0; b < 256; b++) CHECK(sl_crc16_step((uint16_t)c, (uint8_t)b) == sl_crc16_update((uint16_t)c, (uint8_t)b), "crc step %x %x", c, b);
  }
  /* the table step (the firmware's hot path) equals the bitwise CRC for every register and byte */
  for (uint32_t c = 0; c < 0x10000; c++) {
    for (int b = 0; b < 256; b += (c % 257 == 0) ? 1 : 37) CHECK(sl_crc16_tab_step((uint16_t)c, (uint8_t)b) == sl_crc16_update((uint16_t)c, (uint8_t)b), "crc table step %x %x", c, b);
  }
  /* sealing a frame in place gives exactly COBS(body crc) 0x00, for every body length */
  for (int mode = 0; mode < 3; mode++) {
    for (uint16_t n = 0; n <= SL_MAX_BODY - 2; n++) {
      uint8_t body[SL_MAX_BODY], wire[SL_MAX_BODY + 4], enc[SL_MAX_BODY + 4];
      for (uint16_t i = 0; i < n; i++) {
        uint8_t v = (uint8_t)rnd();
        body[i] = mode == 0 ? v : mode == 1 ? (uint8_t)(v & 1 ? 0 : v) : (uint8_t)(v | 1);
        wire[1 + i] = body[i];
      }
      uint16_t len = sl_frame_seal(wire, n);
      sl_put_u16(body + n, sl_crc16(body, n));
      size_t k = sl_cobs_encode(body, (size_t)n + 2, enc);
      CHECK(len == k + 1 && len == n + 4 && memcmp(wire, enc, k) == 0 && wire[k] == 0, "sealed frame differs from COBS(body crc) (n=%u mode %d)", n, mode);
    }
  }
  /* COBS: known vectors (Cheshire & Baker) */
  {
    uint8_t enc[16];
    const uint8_t a[] = {0x00};
    CHECK(sl_cobs_encode(a, 1, enc) == 2 && enc[0] == 1 && enc[1] == 1, "cobs 00");
    const uint8_t b[] = {0x11, 0x22, 0x00, 0x33};
    CHECK(sl_cobs_encode(b, 4, enc) == 5 && !memcmp(enc, "\x03\x11\x22\x02\x33", 5), "cobs 11 22 00 33");
    const uint8_t c[] = {0x11, 0x00, 0x00, 0x00};
    CHECK(sl_cobs_encode(c, 4, enc) == 5 && !memcmp(enc, "\x02\x11\x01\x01\x01", 5), "cobs 11 00 00 00");
  }
  /* roundtrips of every length 0..254 with random content, zero-heavy and zero-free */
  uint8_t buf[300];
  for (int mode = 0; mode < 3; mode++) {
    for (uint16_t n = 0; n <= SL_MAX_BODY; n++) {
      for (uint16_t i = 0; i < n; i++) {
        uint8_t v = (uint8_t)rnd();
        buf[i] = mode == 0 ? v : mode == 1 ? (uint8_t)(v & 1 ? 0 : v) : (uint8_t)(v | 1);
      }
      roundtrip(buf, n);
    }
  }
  /* decoder: oversize frames are dropped whole and the next frame decodes */
  {
    uint8_t dec[8];
    sl_cobs_rx rx;
    sl_cobs_rx_init(&rx, dec, sizeof dec);
    int16_t r = 0;
    for (int i = 0; i < 20; i++) r = sl_cobs_rx_feed(&rx, 0x55);
    CHECK(r == 0, "no result mid-frame");
    CHECK(sl_cobs_rx_feed(&rx, 0) == SL_RX_ERROR, "oversize frame reported");
    const uint8_t ok[] = {0x03, 0x11, 0x22, 0x00};
    for (int i = 0; i < 4; i++) r = sl_cobs_rx_feed(&rx, ok[i]);
    CHECK(r == 2 && dec[0] == 0x11 && dec[1] == 0x22, "recovers after oversize frame");
    /* truncated group: code says 4 data bytes, only 1 before the delimiter */
    const uint8_t bad[] = {0x05, 0x11, 0x00};
    for (int i = 0; i < 3; i++) r = sl_cobs_rx_feed(&rx, bad[i]);
    CHECK(r == SL_RX_ERROR, "truncated group reported");
  }
  /* body build/check, single-bit corruption always detected */
  {
    uint8_t body[SL_MAX_BODY], payload[64];
    for (int i = 0; i < 64; i++) payload[i] = (uint8_t)rnd();
    uint16_t len = sl_body_build(body, SL_T_DATA, 7, payload, 64);
    CHECK(len == 68 && sl_body_check(body, len) == SL_E_OK, "body ok");
    for (int bit = 0; bit < len * 8; bit++) {
      body[bit / 8] ^= (uint8_t)(1 << (bit % 8));
      CHECK(sl_body_check(body, len) == SL_E_CRC, "bit flip %d undetected", bit);
      body[bit / 8] ^= (uint8_t)(1 << (bit % 8));
    }
    CHECK(sl_body_check(body, 3) == SL_E_FRAME, "short body");
  }
  /* bit packing, 10 and 12 bits, against a plain bit-by-bit reference */
  for (int bits = 10; bits <= 12; bits += 2) {
    uint8_t packed[400];
    uint16_t vals[300];
    memset(packed, 0xa5, sizeof packed);
    for (int i = 0; i < 300; i++) { vals[i] = (uint16_t)(rnd() & ((1u << bits) - 1)); sl_pack(packed, (uint16_t)i, vals[i], (uint8_t)bits); }
    for (int i = 0; i < 300; i++) CHECK(sl_unpack(packed, (uint16_t)i, (uint8_t)bits) == vals[i], "unpack %d bits at %d", bits, i);
    CHECK(sl_packed_len(4, 10) == 5 && sl_packed_len(3, 10) == 4 && sl_packed_len(2, 12) == 3, "packed_len");
    /* LSB-first layout: value 0 = 0x3ff sets byte0 = ff, low 2 bits of byte1 */
    memset(packed, 0, 4);
    sl_pack(packed, 0, 0x3ff, 10);
    CHECK(packed[0] == 0xff && packed[1] == 0x03, "10-bit layout");
  }
  if (argc == 3 && !strcmp(argv[1], "--emit")) {
    /* frames for the TypeScript cross-check: one line per frame, hex of the encoded bytes incl. delimiter */
    FILE *f = fopen(argv[2], "w");
    if (!f) return 1;
    for (int n = 0; n < 40; n++) {
      uint8_t payload[SL_MAX_PAYLOAD], body[SL_MAX_BODY];
      uint16_t pl = (uint16_t)(n == 0 ? 0 : n == 1 ? SL_MAX_PAYLOAD : rnd() % SL_MAX_PAYLOAD);
      for (uint16_t i = 0; i < pl; i++) payload[i] = (uint8_t)(rnd() % 3 == 0 ? 0 : rnd());
      uint16_t len = sl_body_build(body, (uint8_t)(0x80 + n % 8), (uint8_t)n, payload, pl);
      sent_n = 0;
      sl_cobs_send(body, len, put);
      for (uint16_t i = 0; i < len; i++) fprintf(f, "%02x", body[i]);
      fprintf(f, " ");
      for (size_t i = 0; i < sent_n; i++) fprintf(f, "%02x", sent[i]);
      fprintf(f, "\n");
    }
    fclose(f);
  }
  printf("ok %d checks\n", checks);
  return 0;
}
