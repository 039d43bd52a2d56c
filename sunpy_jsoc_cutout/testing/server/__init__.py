"""
The emulator's HTTP side: `~sunpy_jsoc_cutout.testing.server.emulator.JSOCEmulator`, its request
handler and routes, the transport faults, the traffic monitor, the control API and its client,
and the wiring that builds the parts below.
"""
