"""Test equipment, not shipped with the product: `line_standin` (the LINE platform, for tests and the
demo) and `synthetic` (camera frames of a QR under roadside conditions)."""
