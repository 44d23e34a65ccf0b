"""Tests of mllife.testing: the test kit for transformers."""
