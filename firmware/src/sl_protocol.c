/* spikeloop DAQ wire protocol primitives; see sl_protocol.h and ../PROTOCOL.md. */
#include "sl_protocol.h"
#if defined(__AVR__)
#include <util/crc16.h>
#endif

/* Nibble table: 32 bytes of flash/RAM instead of 512, two lookups per byte. */
#if !defined(__AVR__)
static const uint16_t crc_nibble[16] = {
  0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
  0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
};
#endif

uint16_t sl_crc16_update(uint16_t crc, uint8_t b) {
#if defined(__AVR__)
  return _crc_xmodem_update(crc, b); /* same polynomial, MSB first; the 0xFFFF init makes it CCITT-FALSE */
#else
  crc = (uint16_t)((crc << 4) ^ crc_nibble[((crc >> 12) ^ (b >> 4)) & 0x0f]);
  crc = (uint16_t)((crc << 4) ^ crc_nibble[((crc >> 12) ^ (b & 0x0f)) & 0x0f]);
  return crc;
#endif
}

uint16_t sl_crc16(const uint8_t *p, size_t n) {
  uint16_t crc = 0xffff;
  while (n--) crc = sl_crc16_update(crc, *p++);
  return crc;
}

size_t sl_cobs_encode(const uint8_t *in, size_t n, uint8_t *out) {
  sl_cobs_tx tx;
  size_t k = 0;
  int16_t b;
  sl_cobs_tx_begin(&tx, in, (uint16_t)n);
  while ((b = sl_cobs_tx_next(&tx)) > 0) out[k++] = (uint8_t)b;
  return k; /* the delimiter (b == 0) is not stored */
}

void sl_cobs_tx_begin(sl_cobs_tx *tx, const uint8_t *buf, uint16_t len) {
  tx->buf = buf;
  tx->len = len;
  tx->pos = 0;
  tx->remaining = 0;
  tx->full = 0;
  tx->phase = 0;
}

int16_t sl_cobs_tx_next(sl_cobs_tx *tx) {
  for (;;) {
    switch (tx->phase) {
      case 0: { /* emit the code of the next group */
        uint16_t r = 0;
        while (tx->pos + r < tx->len && tx->buf[tx->pos + r] != 0 && r < 254) r++;
        tx->remaining = (uint8_t)r;
        tx->full = (r == 254);
        tx->phase = 1;
        return (int16_t)(r + 1);
      }
      case 1:
        if (tx->remaining) {
          tx->remaining--;
          return tx->buf[tx->pos++];
        }
        if (tx->pos >= tx->len) {
          tx->phase = 2;
        } else {
          if (!tx->full) tx->pos++; /* the zero this group stands for */
          tx->phase = 0;
        }
        continue;
      case 2:
        tx->phase = 3;
        return 0;
      default:
        return -1;
    }
  }
}

void sl_cobs_send(const uint8_t *buf, uint16_t len, void (*put)(uint8_t)) {
  uint16_t pos = 0;
  for (;;) {
    const uint8_t *q = buf + pos;
    uint16_t left = (uint16_t)(len - pos), r = 0, i;
    if (left > 254) left = 254;
    while (r < left && q[r] != 0) r++;
    put((uint8_t)(r + 1));
    for (i = 0; i < r; i++) put(q[i]);
    pos = (uint16_t)(pos + r);
    if (pos >= len) break;
    if (r < 254) pos++; /* the zero this group stands for */
  }
  put(0);
}

void sl_cobs_rx_init(sl_cobs_rx *rx, uint8_t *buf, uint16_t cap) {
  rx->buf = buf;
  rx->cap = cap;
  rx->len = 0;
  rx->left = 0;
  rx->code = 0;
  rx->overflow = 0;
}

int16_t sl_cobs_rx_feed(sl_cobs_rx *rx, uint8_t b) {
  if (b == 0) {
    int16_t result;
    if (rx->code == 0 && !rx->overflow) result = 0; /* empty frame: idle line filler */
    else if (rx->overflow || rx->left != 0) result = SL_RX_ERROR;
    else result = (int16_t)rx->len;
    rx->len = 0;
    rx->left = 0;
    rx->code = 0;
    rx->overflow = 0;
    return result;
  }
  if (rx->overflow) return 0;
  if (rx->left == 0) {
    if (rx->code != 0 && rx->code != 0xff) {
      if (rx->len >= rx->cap) { rx->overflow = 1; return 0; }
      rx->buf[rx->len++] = 0;
    }
    rx->code = b;
    rx->left = (uint8_t)(b - 1);
  } else {
    if (rx->len >= rx->cap) { rx->overflow = 1; return 0; }
    rx->buf[rx->len++] = b;
    rx->left--;
  }
  return 0;
}

uint16_t sl_body_build(uint8_t *buf, uint8_t type, uint8_t seq, const uint8_t *payload, uint16_t n) {
  uint16_t i, crc;
  buf[0] = type;
  buf[1] = seq;
  for (i = 0; i < n; i++) buf[2 + i] = payload[i];
  crc = sl_crc16(buf, (size_t)n + 2);
  sl_put_u16(buf + 2 + n, crc);
  return (uint16_t)(n + 4);
}

uint8_t sl_body_check(const uint8_t *body, uint16_t len) {
  if (len < 4 || len > SL_MAX_BODY) return SL_E_FRAME;
  if (sl_crc16(body, (size_t)len - 2) != sl_get_u16(body + len - 2)) return SL_E_CRC;
  return SL_E_OK;
}

void sl_pack(uint8_t *dst, uint16_t i, uint16_t value, uint8_t bits) {
  uint32_t bit = (uint32_t)i * bits;
  uint8_t b;
  for (b = 0; b < bits; b++, bit++) {
    uint8_t mask = (uint8_t)(1u << (bit & 7));
    if ((value >> b) & 1u) dst[bit >> 3] |= mask;
    else dst[bit >> 3] &= (uint8_t)~mask;
  }
}

uint16_t sl_unpack(const uint8_t *src, uint16_t i, uint8_t bits) {
  uint32_t bit = (uint32_t)i * bits;
  uint16_t v = 0;
  uint8_t b;
  for (b = 0; b < bits; b++, bit++) v |= (uint16_t)(((src[bit >> 3] >> (bit & 7)) & 1u) << b);
  return v;
}

uint16_t sl_packed_len(uint16_t n, uint8_t bits) { return (uint16_t)(((uint32_t)n * bits + 7) / 8); }
