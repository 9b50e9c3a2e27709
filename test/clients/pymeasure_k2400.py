"""PyMeasure's own Keithley2400 class (Debian python3-pymeasure) driving a 2400 at the VISA address in argv[1].

Runs what a lab's script does: reset, identification, source settings, the buffer (config_buffer,
start_buffer, wait_for_buffer, buffer statistics), a built-in current sweep (RvsI), the filter, terminal
and trigger settings, a ramp and shutdown; prints one JSON object with what it read, and the instrument's
error queue as PyMeasure reads it at the end.
"""
import json
import os
import sys
import types

from pymeasure.instruments.keithley import Keithley2400

if os.environ.get("SPIKELOOP_PORTMAPPER_PORT"):
    # VXI-11 tests run the portmapper on a free port instead of 111; pyvisa-py reads this module global.
    from pyvisa_py.protocols import rpc

    rpc.PMAP_PORT = int(os.environ["SPIKELOOP_PORTMAPPER_PORT"])

k = Keithley2400(sys.argv[1], visa_library="@py", read_termination="\n", write_termination="\n", timeout=10000)
out = {}
k.reset()
out["id"] = k.id
k.apply_voltage(compliance_current=1e-3)
k.source_voltage = 0.5
k.enable_source()
k.measure_current(nplc=0.1)
out["current"] = k.current
k.filter_type = "REP"
k.filter_count = 2
k.filter_state = "ON"
out["filter"] = [k.filter_type, k.filter_count, k.filter_state]
k.filter_state = "OFF"
k.auto_zero = True
out["auto_zero"] = k.auto_zero
out["display_enabled"] = k.display_enabled
k.output_off_state = "HIMP"
out["output_off_state"] = k.output_off_state
k.use_rear_terminals()
k.use_front_terminals()
k.trigger_immediately()

# The buffer, as in PyMeasure's own examples.
k.config_buffer(points=20)
k.start_buffer()
k.wait_for_buffer(timeout=20, interval=0.05)
out["buffer_data"] = [float(x) for x in k.buffer_data]
out["buffer_points"] = k.buffer_points
out["mean_current"] = k.mean_current
out["std_current"] = k.std_current
out["max_voltage"] = k.max_voltage
k.reset_buffer()

# Resistance, then the built-in sweep (SWE with STAR/STOP/STEP and :READ?).
k.measure_resistance(nplc=0.1)
out["resistance"] = k.resistance
k.reset()
k.apply_current(compliance_voltage=10)
# PyMeasure 0.9's RvsI sets `self.connection.timeout = 30.0`, on an attribute its Keithley2400 lacks, and in
# seconds where PyVISA counts milliseconds; a stand-in absorbs it so the adapter keeps its 10 s time-out.
k.connection = types.SimpleNamespace()
out["sweep"] = [[float(i), float(v)] for i, v in k.RvsI(1e-4, 5e-4, 1e-4, compliance=10, delay=1e-3)]
k.disable_source()

k.reset()
k.apply_voltage(compliance_current=1e-3)
k.enable_source()
k.ramp_to_voltage(0.2, steps=5, pause=0.005)
out["ramped_to"] = k.source_voltage
k.shutdown()
out["source_enabled_after_shutdown"] = k.source_enabled
out["error"] = list(k.error)
print(json.dumps(out))
