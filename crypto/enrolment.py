"""The device-enrolment code's prefix, shared by the hub that prints it and the app that reads it.

The code is `CPE1:` + base64url(JSON {"hub", "token", "root_public_key"}) (docs/CONTRACTS.md);
the hub makes it (hub/services/devices/enrolment.py), the checkpoint app parses it
(checkpoint_app/enrolment.py). The prefix lets the app tell it from a pass (`TP1:`,
crypto.passes.PASS_PREFIX) in the same camera view.
"""

ENROLMENT_PREFIX = "CPE1:"
