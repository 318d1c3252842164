"""Where each device family lives: its registered name → its package. The registry imports a
package only when one of its families is used, so a gateway reading two Modbus sondes does not
load the SNMP stack (memory on small gateways is the reason).

Adding a family: its folder, plus its line here; keep them sorted.
"""

FAMILY_PACKAGES: dict[str, str] = {
    "and-ascii": "firmware_bridge.and_ascii",
    # Cameras are read by the edge's own OpenCV pipeline; the family lives beside it.
    "camera": "edge.camera.family",
    "modbus-air": "firmware_bridge.modbus",
    "modbus-water": "firmware_bridge.modbus",
    "ntcip1202": "firmware_bridge.ntcip",
    "pms5003": "firmware_bridge.pms5003",
    "sds011": "firmware_bridge.sds011",
    "toledo": "firmware_bridge.toledo",
    "tsc-mqtt": "firmware_bridge.ntcip",
    "tt10": "firmware_bridge.tt10",
    "xk3190": "firmware_bridge.xk3190",
}
