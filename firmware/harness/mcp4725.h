/* MCP4725 I2C DAC model for simavr (mcp4725.c). */
#pragma once
#include <stdint.h>
#include <sim_avr.h>

typedef struct {
  avr_irq_t *irq;
  uint8_t addr;     /* 7-bit */
  uint8_t selected; /* address byte of the transfer in progress, 0 if not ours */
  uint8_t index;
  uint8_t cmd, hi;
  uint8_t power_down;
  uint16_t code, eeprom;
  unsigned long long writes;
  void (*before_change)(void); /* called before the output changes (the circuit integrates up to now) */
  void (*after_change)(void);  /* called after it changed (a lockstep circuit is told the new voltage) */
} mcp4725_t;

void mcp4725_init(avr_t *avr, mcp4725_t *p, uint8_t addr7);
void mcp4725_power_on(mcp4725_t *p);
/* Output voltage in mV (VDD 5 V). */
uint32_t mcp4725_mv(const mcp4725_t *p);
