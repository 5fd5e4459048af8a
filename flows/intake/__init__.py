"""Inspection intake: sampling plans, the findings workbook, and the import flow."""
