"""Migration scripts, one per schema change: 0001 (hub core), 0002 (devices and scans), and on."""
