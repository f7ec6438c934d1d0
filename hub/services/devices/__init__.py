"""Checkpoint devices: enrolment, officers' offline credentials and scan-batch ingestion."""
