"""Tests of tsilstm.integrations.torch."""
