/*
 * MCP4725 12-bit DAC (Microchip DS22039) as an I2C slave on simavr's TWI IRQs, for the virtual board.
 *
 * Understands the commands the datasheet defines for writes:
 *   fast mode   byte 1 = 0 0 PD1 PD0 D11..D8, byte 2 = D7..D0; further byte pairs in the same transfer are
 *               further fast writes. The output takes the code when the second byte is received.
 *   write DAC   byte 1 = 0 1 0 x x PD1 PD0 x, byte 2 = D11..D4, byte 3 = D3..D0 x x x x  (also
 *   (+EEPROM)   0 1 1 ...: the EEPROM copy is kept too and is the power-on code)
 * PD1 PD0 != 0 powers the output down (1 k / 100 k / 500 k to ground: modelled as 0 V).
 * Vout = VDD * code / 4096 with VDD = 5 V, in integer millivolts: floor(code * 5000 / 4096).
 * The address is 0x60 (A0 low) unless set; reads (status + DAC register) are answered too.
 *
 * simavr 1.6 times every I2C byte as 9 us, whatever the bit rate register says (a 1 MHz bus), so transfers
 * in the emulator are faster than the 400 kHz the firmware budgets for.
 */
#include <stdint.h>
#include <string.h>

#include <sim_avr.h>
#include <sim_irq.h>
#include <avr_twi.h>

#include "mcp4725.h"

static void mcp4725_in_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq;
  mcp4725_t *p = (mcp4725_t *)param;
  avr_twi_msg_irq_t v;
  v.u.v = value;
  if (v.u.twi.msg & TWI_COND_STOP) {
    p->selected = 0;
    p->index = 0;
  }
  if (v.u.twi.msg & TWI_COND_START) {
    p->selected = 0;
    p->index = 0;
    if ((v.u.twi.addr >> 1) == p->addr) {
      p->selected = v.u.twi.addr;
      avr_raise_irq(p->irq + TWI_IRQ_INPUT, avr_twi_irq_msg(TWI_COND_ACK, p->selected, 1));
    }
  }
  if (!p->selected) return;
  if (v.u.twi.msg & TWI_COND_WRITE) {
    avr_raise_irq(p->irq + TWI_IRQ_INPUT, avr_twi_irq_msg(TWI_COND_ACK, p->selected, 1));
    uint8_t b = v.u.twi.data;
    if (p->index == 0) {
      p->cmd = b;
      p->index = 1;
    } else if ((p->cmd & 0xc0) == 0) { /* fast mode: cmd holds D11..D8 */
      if (p->before_change) p->before_change();
      p->code = (uint16_t)(((p->cmd & 0x0f) << 8) | b);
      p->power_down = (p->cmd >> 4) & 3;
      p->writes++;
      if (p->after_change) p->after_change();
      p->index = 0; /* the next byte starts another fast write */
    } else if (p->index == 1) {
      p->hi = b;
      p->index = 2;
    } else if (p->index == 2) {
      if (p->before_change) p->before_change();
      p->code = (uint16_t)((p->hi << 4) | (b >> 4));
      p->power_down = (p->cmd >> 1) & 3;
      if ((p->cmd & 0xe0) == 0x60) p->eeprom = p->code;
      p->writes++;
      if (p->after_change) p->after_change();
      p->index = 3;
    }
  }
  if (v.u.twi.msg & TWI_COND_READ) {
    /* status byte (RDY, POR, PD), DAC register (2 bytes), EEPROM (2 bytes) */
    uint8_t out[5] = {(uint8_t)(0xc0 | (p->power_down << 1)), (uint8_t)(p->code >> 4), (uint8_t)(p->code << 4),
                      (uint8_t)(p->eeprom >> 8), (uint8_t)p->eeprom};
    uint8_t b = out[p->index < 5 ? p->index : 4];
    p->index++;
    avr_raise_irq(p->irq + TWI_IRQ_INPUT, avr_twi_irq_msg(TWI_COND_READ, p->selected, b));
  }
}

static const char *irq_names[2] = {
    [TWI_IRQ_INPUT] = "8>mcp4725.out",
    [TWI_IRQ_OUTPUT] = "32<mcp4725.in",
};

void mcp4725_init(avr_t *avr, mcp4725_t *p, uint8_t addr7) {
  memset(p, 0, sizeof *p);
  p->addr = addr7;
  p->irq = avr_alloc_irq(&avr->irq_pool, 0, 2, irq_names);
  avr_irq_register_notify(p->irq + TWI_IRQ_OUTPUT, mcp4725_in_hook, p);
  avr_connect_irq(p->irq + TWI_IRQ_INPUT, avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_INPUT));
  avr_connect_irq(avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_OUTPUT), p->irq + TWI_IRQ_OUTPUT);
}

void mcp4725_power_on(mcp4725_t *p) {
  p->code = p->eeprom; /* power-on reset loads the EEPROM code (0 here: docs/daq/wiring.md) */
  p->power_down = 0;
  p->selected = 0;
  p->index = 0;
}

uint32_t mcp4725_mv(const mcp4725_t *p) { return p->power_down ? 0 : (uint32_t)p->code * 5000u / 4096u; }
