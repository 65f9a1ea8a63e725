"""Tests of tsilstm.integrations."""
