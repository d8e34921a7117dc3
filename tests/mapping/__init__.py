"""Tests of the field-mapping engine and the shipped field mappings."""
