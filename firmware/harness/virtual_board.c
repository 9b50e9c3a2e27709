/*
 * virtual_board: runs the real spikeloop DAQ firmware image (the ELF built for the Uno) in simavr, with its
 * USART0 behind a real pseudo-terminal and a circuit model closing the loop between the stimulus output
 * (Timer2 PWM on D11, through an ideal RC-filter/DAC model) and the ADC pins, all in emulated time.
 *
 *   virtual_board --elf build/uno/spikeloop_daq.elf [--link /tmp/spikeloop-daq] [--speed 1] [--profile FILE]
 *                 [--circuit direct|rc|lif] [--param name=value ...] | [--circuit extern --fifo DIR]
 *
 * stdout (one line each, flushed):  "pty <slave path>" at start and after every re-plug;
 *   "outputs on|off t_ns=<emulated ns> last_rx_ns=<emulated ns of the last byte from the host>" when the
 *   firmware connects or disconnects its stimulus output (the watchdog test reads these);
 *   "reset t_ns=..." after a reset, "stats ..." on request.
 * stdin commands: "reset" (board reset now), "unplug <ms>" (pty closed, board unpowered for <ms> of wall
 *   time, then a fresh pty behind the same link and a power-on reset), "stats", "clock" (answers "clock t_ns=<emulated
 *   ns>": the host's reply timeouts for this board run on it), "quit".
 * --speed: emulated seconds per wall second at most (1 = real time, as a real board); 0 = unthrottled.
 * --host-wait MS: while the sample clock runs and the host has sent nothing for HOST_HOLD_MS of emulated time, emulated
 *   time stands still until a host byte arrives, for up to MS of wall time (0, the default: never). The host sends a
 *   heartbeat every 50 ms; a host process starved of CPU then cannot trip the firmware's 240 ms watchdog, while a
 *   host silent for longer than MS is really silent and the watchdog fires as on a real board.
 * --profile FILE: at exit, writes the CPU cycles spent at each program (byte) address, "addr cycles" in hex/dec,
 *   for firmware profiling (symbolize with avr-nm / avr-objdump); "stats" reports the total as busy_cycles.
 * "stats" also reports sp_min, the lowest stack pointer since the last reset (the stack's high-water mark: the
 *   stack must never reach the firmware's static data, which ends at the ELF's __heap_start).
 *
 * Built-in circuit models (SI units; voltages are clamped to 0..5 V and fed to the ADC in integer millivolts):
 *   direct  a0 = v_stim, a1 = 5 V - v_stim, a2..a5 = 1, 2, 3, 4 V (bit-exact tests)
 *   rc      a0 = RC-filtered v_stim (tau), a1 = v_stim
 *   lif     leaky integrate-and-fire node driven through r_in by v_stim:
 *           c dv/dt = (v_stim - v)/r_in - v/r_leak; v >= v_th -> v = v_reset for t_ref; a0 = v_stim, a1 = v
 * v_stim = round(duty * 5000 / 255) mV, duty = OCR2A (0 when the firmware zeroes the output); when the
 * firmware has its TWI enabled (MCP4725 output selected), v_stim is the MCP4725's output instead
 * (harness/mcp4725.c, address 0x60: floor(code * 5000 / 4096) mV).
 * Pulse output: the harness times every level change of OC1B (PB2, D10) in emulated cycles; "stats" reports
 * them since the sample clock (Timer1) last started: pulse_edges, pulse_first_rise (cycles after the start),
 * pulse_hi_min/max, pulse_lo_min/max, pulse_per_min/max (rise to rise), all in CPU cycles (62.5 ns).
 *
 * extern: the circuit lives in another process (the host's digital twin, drivers/daq/dut-worker.mjs), linked
 * in lockstep over two FIFOs that the other side creates in DIR before starting the harness:
 *   DIR/req   harness -> circuit, records of 24 bytes (host byte order):
 *             { double t_cycles; double value; int32 kind; int32 zero }   t_cycles = emulated CPU cycles
 *             kind 0 HELLO   value = F_CPU (Hz), sent once, first;
 *             kind 1 STIM    the stimulus voltage is `value` V from t_cycles on (zero-order hold); no reply;
 *             kind 2 SAMPLE  an ADC conversion starts at t_cycles: the circuit advances to that time and
 *                            replies with the six pin voltages;
 *   DIR/resp  circuit -> harness, one record per SAMPLE: double volts[6] (A0..A5, 48 bytes), clamped here
 *             to 0..5 V and rounded to mV like the built-in models.
 * STIM records are buffered (no system call each) and written with the next SAMPLE, so the cost is one
 * write + one blocking read per conversion; emulation stops while the circuit computes, so emulated time
 * stays exact whatever the host's speed. The harness opens req (write) then resp (read); the circuit side
 * opens them in the same order. When the circuit side goes away the harness stops with an error.
 * Every change of the stimulus voltage (PWM register, reset, an external DAC) must be bracketed by
 * stimulus_changing() (built-in models advance with the old value) and stimulus_changed() (the extern circuit
 * gets the new value, stamped with the current cycle), as set_duty() does; stim_volts() is the voltage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_irq.h>
#include <avr_uart.h>
#include <avr_adc.h>
#include <avr_timer.h>
#include <avr_ioport.h>

#include "mcp4725.h"

#define F_CPU 16000000ULL
#define OUT_CAP (1 << 16)
#define IN_CAP 4096
#define TCCR2A_ADDR 0xB0
#define COM2A1_BIT 7
#define TWCR_ADDR 0xBC
#define TWEN_BIT 2
#define TCCR1B_ADDR 0x81

static avr_t *avr;
static int master_fd = -1, slave_fd = -1;
static const char *link_path;
static uint8_t outbuf[OUT_CAP];
static size_t out_head, out_len;
static unsigned long long out_dropped;
static uint8_t inbuf[IN_CAP];
static size_t in_head, in_len;
static int uart_xon = 1;
static avr_irq_t *uart_in_irq, *adc_irqs[6];
static unsigned long long last_rx_cycle, bytes_to_host, bytes_from_host;
static double host_wait_s; /* --host-wait, seconds of wall time */
#define HOST_HOLD_MS 100
static unsigned long long busy_cycles; /* cycles the CPU ran (not asleep): the firmware's load, for profiling */
static unsigned sp_min = 0xffff;        /* lowest stack pointer since the last reset: the stack's high-water mark */
static const char *profile_path;         /* --profile FILE: cycles spent per program address, written at exit */
static unsigned long long *profile;
static int duty;
static volatile sig_atomic_t quit_flag;
static mcp4725_t dac;
static int dac_selected(void) { return (avr->data[TWCR_ADDR] >> TWEN_BIT) & 1; }

/* ---- pulse edges on OC1B ---- */
static unsigned long long t1_start, pl_rise, pl_fall, pl_edges, pl_first_rise;
static unsigned long long pl_hi_min, pl_hi_max, pl_lo_min, pl_lo_max, pl_per_min, pl_per_max;
static int pl_level;
static void pulse_stats_reset(void) {
  pl_rise = pl_fall = pl_edges = pl_first_rise = 0;
  pl_hi_max = pl_lo_max = pl_per_max = 0;
  pl_hi_min = pl_lo_min = pl_per_min = ~0ULL;
}
static void pulse_pin_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  int level = value & 1;
  if (level == pl_level) return;
  pl_level = level;
  unsigned long long t = avr->cycle;
  pl_edges++;
  if (level) {
    if (pl_rise) {
      unsigned long long per = t - pl_rise;
      if (per < pl_per_min) pl_per_min = per;
      if (per > pl_per_max) pl_per_max = per;
    } else pl_first_rise = t - t1_start;
    if (pl_fall) {
      unsigned long long lo = t - pl_fall;
      if (lo < pl_lo_min) pl_lo_min = lo;
      if (lo > pl_lo_max) pl_lo_max = lo;
    }
    pl_rise = t;
  } else {
    if (pl_rise) {
      unsigned long long hi = t - pl_rise;
      if (hi < pl_hi_min) pl_hi_min = hi;
      if (hi > pl_hi_max) pl_hi_max = hi;
    }
    pl_fall = t;
  }
}


/* ---- circuit ---- */
enum { C_DIRECT, C_RC, C_LIF, C_EXTERN };
static int circuit = C_DIRECT;
static double p_tau = 1e-3, p_r_in = 100e3, p_r_leak = 1e6, p_c = 10e-9, p_v_th = 2.0, p_v_reset = 0.0, p_t_ref = 1e-3;
static double c_v, c_t, c_ref_until;
static unsigned long long c_spikes;

static uint32_t stim_mv(void) { return dac_selected() ? mcp4725_mv(&dac) : (uint32_t)((duty * 5000 + 127) / 255); }
static double stim_volts(void) { return stim_mv() / 1000.0; }
static double now_s(void) { return (double)avr->cycle / (double)F_CPU; }

/* ---- extern circuit: lockstep link over two FIFOs (see the header) ---- */
enum { X_HELLO = 0, X_STIM = 1, X_SAMPLE = 2 };
struct ext_rec { double t_cycles; double value; int32_t kind; int32_t zero; };
#define EXT_BUF 256
static const char *ext_dir;
static int ext_req = -1, ext_resp = -1;
static struct ext_rec ext_buf[EXT_BUF];
static int ext_n;
static unsigned long long ext_samples;

static void ext_fail(const char *what) {
  fprintf(stderr, "virtual_board: circuit link %s: %s\n", what, errno ? strerror(errno) : "closed by the circuit side");
  exit(1);
}
static void ext_flush(void) {
  const char *p = (const char *)ext_buf;
  size_t left = (size_t)ext_n * sizeof(struct ext_rec);
  while (left) {
    ssize_t w = write(ext_req, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ext_fail("write");
    p += w;
    left -= (size_t)w;
  }
  ext_n = 0;
}
static void ext_push(int kind, double value) {
  ext_buf[ext_n].t_cycles = (double)avr->cycle;
  ext_buf[ext_n].value = value;
  ext_buf[ext_n].kind = kind;
  ext_buf[ext_n].zero = 0;
  if (++ext_n == EXT_BUF) ext_flush();
}
static void ext_sample(double volts[6]) {
  ext_push(X_SAMPLE, 0);
  ext_flush();
  char *p = (char *)volts;
  size_t left = 6 * sizeof(double);
  while (left) {
    ssize_t r = read(ext_resp, p, left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) { if (r == 0) errno = 0; ext_fail("read"); }
    p += r;
    left -= (size_t)r;
  }
  ext_samples++;
}
static int ext_open(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/req", ext_dir);
  ext_req = open(path, O_WRONLY);
  if (ext_req < 0) { fprintf(stderr, "virtual_board: cannot open %s: %s\n", path, strerror(errno)); return -1; }
  ext_push(X_HELLO, (double)F_CPU);
  ext_flush();
  snprintf(path, sizeof path, "%s/resp", ext_dir);
  ext_resp = open(path, O_RDONLY);
  if (ext_resp < 0) { fprintf(stderr, "virtual_board: cannot open %s: %s\n", path, strerror(errno)); return -1; }
  return 0;
}

static void circuit_advance(double t) {
  double dt = t - c_t, vs = stim_volts();
  if (dt <= 0) return;
  c_t = t;
  if (circuit == C_RC) {
    c_v = vs + (c_v - vs) * exp(-dt / p_tau);
  } else if (circuit == C_LIF) {
    if (t < c_ref_until) { c_v = p_v_reset; return; }
    /* linear node: tau_m = c * (r_in || r_leak), v_inf = vs * r_leak / (r_in + r_leak); exact step */
    double rp = p_r_in * p_r_leak / (p_r_in + p_r_leak), tau_m = p_c * rp;
    double v_inf = vs * p_r_leak / (p_r_in + p_r_leak);
    c_v = v_inf + (c_v - v_inf) * exp(-dt / tau_m);
    if (c_v >= p_v_th) { c_v = p_v_reset; c_ref_until = t + p_t_ref; c_spikes++; }
  }
}

/* Call right before the stimulus voltage changes (the old value held until now)... */
static void stimulus_changing(void) {
  if (circuit != C_EXTERN) circuit_advance(now_s());
}
/* ...and right after: the extern circuit gets the new value, stamped with the current cycle. */
static void stimulus_changed(void) {
  if (circuit == C_EXTERN && ext_req >= 0) ext_push(X_STIM, stim_volts());
}
static void set_duty(int d) {
  if (d == duty) return;
  stimulus_changing();
  duty = d;
  stimulus_changed();
}

static uint32_t mv(double v) {
  if (!(v >= 0)) v = 0; /* NaN too */
  if (v > 5) v = 5;
  return (uint32_t)lround(v * 1000.0);
}

static void adc_trigger_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)value; (void)param;
  uint32_t s = stim_mv(), v[6] = {0};
  if (circuit == C_EXTERN) {
    double volts[6];
    ext_sample(volts);
    for (int i = 0; i < 6; i++) v[i] = mv(volts[i]);
  } else {
    circuit_advance(now_s());
    switch (circuit) {
      case C_DIRECT: v[0] = s; v[1] = 5000 - s; v[2] = 1000; v[3] = 2000; v[4] = 3000; v[5] = 4000; break;
      case C_RC: v[0] = mv(c_v); v[1] = s; break;
      default: v[0] = s; v[1] = mv(c_v); break;
    }
  }
  for (int i = 0; i < 6; i++) avr_raise_irq(adc_irqs[i], v[i]);
}

/* A reset or power-on: the PWM register and the DAC both back to zero, one stimulus change. */
static void outputs_to_power_on(void) {
  stimulus_changing();
  duty = 0;
  mcp4725_power_on(&dac);
  stimulus_changed();
}

static void pwm_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  set_duty((int)(value & 0xff));
}

/* ---- UART <-> pty ---- */
static void uart_out_hook(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  bytes_to_host++;
  if (out_len == OUT_CAP) { out_dropped++; return; } /* host not reading: like a full USB-serial FIFO */
  outbuf[(out_head + out_len) % OUT_CAP] = (uint8_t)value;
  out_len++;
}
static void xon_hook(struct avr_irq_t *irq, uint32_t v, void *p) { (void)irq; (void)v; (void)p; uart_xon = 1; }
static void xoff_hook(struct avr_irq_t *irq, uint32_t v, void *p) { (void)irq; (void)v; (void)p; uart_xon = 0; }

static int open_pty(void) {
  master_fd = posix_openpt(O_RDWR | O_NOCTTY);
  if (master_fd < 0 || grantpt(master_fd) || unlockpt(master_fd)) { perror("pty"); return -1; }
  const char *name = ptsname(master_fd);
  slave_fd = open(name, O_RDWR | O_NOCTTY); /* held open: the host may close and reopen without EIO here */
  struct termios t;
  tcgetattr(slave_fd, &t);
  cfmakeraw(&t);
  tcsetattr(slave_fd, TCSANOW, &t);
  fcntl(master_fd, F_SETFL, O_NONBLOCK);
  if (link_path) {
    unlink(link_path);
    if (symlink(name, link_path)) { perror("symlink"); return -1; }
  }
  printf("pty %s\n", name);
  fflush(stdout);
  return 0;
}

static void close_pty(void) {
  if (master_fd >= 0) close(master_fd);
  if (slave_fd >= 0) close(slave_fd);
  master_fd = slave_fd = -1;
  out_len = 0;
  in_len = 0;
}

static void pump_io(void) {
  if (master_fd < 0) return;
  while (out_len) {
    size_t chunk = out_len, room = OUT_CAP - out_head;
    if (chunk > room) chunk = room;
    ssize_t w = write(master_fd, outbuf + out_head, chunk);
    if (w <= 0) break;
    out_head = (out_head + (size_t)w) % OUT_CAP;
    out_len -= (size_t)w;
  }
  if (in_len == 0) {
    ssize_t r = read(master_fd, inbuf, IN_CAP);
    if (r > 0) { in_head = 0; in_len = (size_t)r; }
  }
  while (in_len && uart_xon) {
    avr_raise_irq(uart_in_irq, inbuf[in_head++]);
    in_len--;
    bytes_from_host++;
    last_rx_cycle = avr->cycle;
  }
}

/* The firmware sleeps when idle; simavr then jumps to the next timer event. Real-time pacing is ours (below),
 * so simavr's own sleep (a usleep) is replaced by nothing. */
static void no_sleep(avr_t *a, avr_cycle_count_t how_long) { (void)a; (void)how_long; }

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static unsigned long long ns_of(unsigned long long cycle) { return cycle * 1000ULL / 16ULL; }

static void on_signal(int s) { (void)s; quit_flag = 1; }

int main(int argc, char **argv) {
  const char *elf = NULL;
  double speed = 1.0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--elf") && i + 1 < argc) elf = argv[++i];
    else if (!strcmp(argv[i], "--link") && i + 1 < argc) link_path = argv[++i];
    else if (!strcmp(argv[i], "--speed") && i + 1 < argc) speed = atof(argv[++i]);
    else if (!strcmp(argv[i], "--profile") && i + 1 < argc) profile_path = argv[++i];
    else if (!strcmp(argv[i], "--host-wait") && i + 1 < argc) host_wait_s = atof(argv[++i]) / 1000.0;
    else if (!strcmp(argv[i], "--circuit") && i + 1 < argc) {
      const char *c = argv[++i];
      if (!strcmp(c, "direct")) circuit = C_DIRECT;
      else if (!strcmp(c, "rc")) circuit = C_RC;
      else if (!strcmp(c, "lif")) circuit = C_LIF;
      else if (!strcmp(c, "extern")) circuit = C_EXTERN;
      else { fprintf(stderr, "virtual_board: unknown circuit '%s' (direct, rc, lif, extern)\n", c); return 2; }
    } else if (!strcmp(argv[i], "--fifo") && i + 1 < argc) {
      ext_dir = argv[++i];
    } else if (!strcmp(argv[i], "--param") && i + 1 < argc) {
      char name[32];
      double v;
      if (sscanf(argv[++i], "%31[^=]=%lf", name, &v) != 2) { fprintf(stderr, "virtual_board: bad --param %s\n", argv[i]); return 2; }
      if (!strcmp(name, "tau")) p_tau = v;
      else if (!strcmp(name, "r_in")) p_r_in = v;
      else if (!strcmp(name, "r_leak")) p_r_leak = v;
      else if (!strcmp(name, "c")) p_c = v;
      else if (!strcmp(name, "v_th")) p_v_th = v;
      else if (!strcmp(name, "v_reset")) p_v_reset = v;
      else if (!strcmp(name, "t_ref")) p_t_ref = v;
      else { fprintf(stderr, "virtual_board: unknown parameter '%s'\n", name); return 2; }
    } else { fprintf(stderr, "virtual_board: unknown argument '%s'\n", argv[i]); return 2; }
  }
  if (!elf) { fprintf(stderr, "usage: virtual_board --elf FILE [--link PATH] [--speed X] [--circuit direct|rc|lif] [--param k=v] [--circuit extern --fifo DIR]\n"); return 2; }
  if (circuit == C_EXTERN && !ext_dir) { fprintf(stderr, "virtual_board: --circuit extern needs --fifo DIR\n"); return 2; }

  elf_firmware_t fw;
  memset(&fw, 0, sizeof fw);
  /* simavr reports the load on stdout; our stdout is the event channel, whose first line is the pty */
  fflush(stdout);
  int saved_stdout = dup(1), devnull = open("/dev/null", O_WRONLY);
  dup2(devnull, 1);
  if (elf_read_firmware(elf, &fw)) { fprintf(stderr, "virtual_board: cannot read %s\n", elf); return 1; }
  avr = avr_make_mcu_by_name("atmega328p");
  if (!avr) { fprintf(stderr, "virtual_board: simavr has no atmega328p\n"); return 1; }
  avr_init(avr);
  avr_load_firmware(avr, &fw);
  fflush(stdout);
  dup2(saved_stdout, 1);
  close(devnull);
  close(saved_stdout);
  avr->log = LOG_ERROR;
  avr->frequency = F_CPU;
  avr->sleep = no_sleep;
  avr->vcc = avr->avcc = avr->aref = 5000;

  uint32_t flags = 0;
  avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
  flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP); /* no console echo, no usleep per status poll */
  avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out_hook, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), xon_hook, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), xoff_hook, NULL);
  uart_in_irq = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
  for (int i = 0; i < 6; i++) adc_irqs[i] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + i);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), adc_trigger_hook, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_TIMER_GETIRQ('2'), TIMER_IRQ_OUT_PWM0), pwm_hook, NULL);
  mcp4725_init(avr, &dac, 0x60);
  dac.before_change = stimulus_changing;
  dac.after_change = stimulus_changed;
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 2), pulse_pin_hook, NULL);
  pulse_stats_reset();

  if (profile_path) profile = calloc(0x10000, sizeof *profile);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  fcntl(0, F_SETFL, O_NONBLOCK);
  if (circuit == C_EXTERN && ext_open()) return 1;
  if (open_pty()) return 1;

  double wall0 = wall_s(), emu0 = 0, unplug_until = 0, hold_since = 0;
  int outputs_on = 0, t1_on = 0;
  char cmd[256];
  size_t cmd_len = 0;
  while (!quit_flag) {
    if (unplug_until > 0) {
      if (wall_s() < unplug_until) { usleep(1000); continue; }
      unplug_until = 0;
      avr_reset(avr);
      sp_min = 0xffff;
      outputs_to_power_on();
      if (open_pty()) return 1;
      wall0 = wall_s();
      emu0 = now_s();
    }
    /* host silent while a run is active: hold emulated time until it speaks (or is silent for real) */
    int hold = 0;
    if (host_wait_s > 0 && t1_on && master_fd >= 0 && avr->cycle - last_rx_cycle > F_CPU / 1000 * HOST_HOLD_MS) {
      double now = wall_s();
      if (hold_since == 0) hold_since = now;
      if (now - hold_since < host_wait_s) {
        hold = 1;
        struct pollfd pf = {master_fd, POLLIN, 0};
        poll(&pf, 1, 5);
        wall0 += wall_s() - now; /* the pacing below does not catch up on time held */
      }
    } else hold_since = 0;
    for (int k = 0; k < 2000 && !hold; k++) {
      avr_cycle_count_t c0 = avr->cycle;
      int awake = avr->state == cpu_Running;
      avr_flashaddr_t pc = avr->pc;
      int st = avr_run(avr);
      unsigned sp = avr->data[0x5d] | ((unsigned)avr->data[0x5e] << 8); /* SPL, SPH */
      if (sp < sp_min) sp_min = sp;
      if (awake) { /* a sleep instruction's call also jumps over the sleep: count that instruction only */
        avr_cycle_count_t d = avr->state == cpu_Sleeping ? 1 : avr->cycle - c0;
        busy_cycles += d;
        if (profile) profile[(pc >> 1) & 0xffff] += d;
      }
      if (st == cpu_Done || st == cpu_Crashed) { fprintf(stderr, "virtual_board: firmware stopped (state %d)\n", st); return 1; }
      int t1 = (avr->data[TCCR1B_ADDR] & 7) != 0;
      if (t1 && !t1_on) { t1_start = avr->cycle; pulse_stats_reset(); }
      t1_on = t1;
      int on = (avr->data[TCCR2A_ADDR] >> COM2A1_BIT) & 1;
      if (on != outputs_on) {
        outputs_on = on;
        printf("outputs %s t_ns=%llu last_rx_ns=%llu\n", on ? "on" : "off", ns_of(avr->cycle), ns_of(last_rx_cycle));
        fflush(stdout);
      }
    }
    pump_io();
    /* stdin commands */
    ssize_t r = read(0, cmd + cmd_len, sizeof cmd - 1 - cmd_len);
    if (r == 0) quit_flag = 1; /* parent gone */
    if (r > 0) {
      cmd_len += (size_t)r;
      cmd[cmd_len] = 0;
      char *nl;
      while ((nl = strchr(cmd, '\n'))) {
        *nl = 0;
        int ms;
        if (!strcmp(cmd, "reset")) {
          avr_reset(avr);
          sp_min = 0xffff;
          outputs_to_power_on();
          printf("reset t_ns=%llu\n", ns_of(avr->cycle));
        } else if (sscanf(cmd, "unplug %d", &ms) == 1) {
          close_pty();
          unplug_until = wall_s() + ms / 1000.0;
          printf("unplugged t_ns=%llu\n", ns_of(avr->cycle));
        } else if (!strcmp(cmd, "stats")) {
          printf("stats t_ns=%llu to_host=%llu from_host=%llu dropped=%llu spikes=%llu wall_s=%.3f busy_cycles=%llu sp_min=%u", ns_of(avr->cycle),
                 bytes_to_host, bytes_from_host, out_dropped, c_spikes, wall_s() - wall0, busy_cycles, sp_min);
          printf(" dac_mv=%u dac_code=%u dac_writes=%llu pulse_edges=%llu pulse_first_rise=%llu pulse_hi_min=%llu pulse_hi_max=%llu"
                 " pulse_lo_min=%llu pulse_lo_max=%llu pulse_per_min=%llu pulse_per_max=%llu\n",
                 mcp4725_mv(&dac), dac.code, dac.writes, pl_edges, pl_first_rise, pl_hi_min == ~0ULL ? 0 : pl_hi_min, pl_hi_max,
                 pl_lo_min == ~0ULL ? 0 : pl_lo_min, pl_lo_max, pl_per_min == ~0ULL ? 0 : pl_per_min, pl_per_max);
          if (circuit == C_EXTERN) printf("circuit samples=%llu\n", ext_samples);
        } else if (!strcmp(cmd, "clock")) {
          printf("clock t_ns=%llu\n", ns_of(avr->cycle));
        } else if (!strcmp(cmd, "quit")) {
          quit_flag = 1;
        }
        fflush(stdout);
        size_t used = (size_t)(nl - cmd) + 1;
        memmove(cmd, cmd + used, cmd_len - used);
        cmd_len -= used;
        cmd[cmd_len] = 0;
      }
      if (cmd_len >= sizeof cmd - 1) cmd_len = 0;
    }
    if (speed > 0) {
      double ahead = (now_s() - emu0) / speed - (wall_s() - wall0);
      if (ahead > 0.002) usleep((useconds_t)(ahead * 1e6));
    }
  }
  if (link_path) unlink(link_path);
  close_pty();
  if (profile) { /* "word_address cycles" per executed instruction address */
    FILE *f = fopen(profile_path, "w");
    for (int i = 0; f && i < 0x10000; i++)
      if (profile[i]) fprintf(f, "%x %llu\n", i * 2, profile[i]);
    if (f) fclose(f);
  }
  return 0;
}
